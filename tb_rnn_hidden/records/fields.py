"""The fields of one logged record, and their validation: the one place that knows them.

`RecordFields` is what every way of logging builds: the TensorFlow op and the
TensorFlow-free protobuf (`summary.py`), the writer, the Keras callback and the
PyTorch helper. `RecordFields.validated()` checks every field, naming the
argument, what was received and what was expected, and returns the arrays the
codec stores (padding removed).
"""

import dataclasses
from typing import Any, List, Optional

import numpy as np

STATES_DTYPES = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}
LENGTHS_DTYPE = np.dtype("<i4")
PROBABILITIES_DTYPE = np.dtype("<f4")
# Tolerance for "each row of probabilities sums to 1": softmax in float16 or
# float32 rounds, a wrong axis or logits do not come close.
_DISTRIBUTION_ATOL = 1e-3


@dataclasses.dataclass(frozen=True)
class RecordFields:
    """One checkpoint's record, as given (numpy arrays, nested lists, TF or PyTorch tensors).

    See `tb_rnn_hidden.summary.hidden_states` for the meaning of each field.
    """

    states: Any
    probabilities: Any = None
    tokens: Any = None
    lengths: Any = None
    labels: Any = None
    class_names: Any = None
    precision: str = "float16"

    def array_fields(self):
        """{name: value} of the array fields that are set (states first)."""
        names = ("states", "probabilities", "tokens", "lengths", "labels")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def validated(self):
        """The checked record as `ValidRecord`; ValueError naming what is wrong."""
        return _validate(self)


@dataclasses.dataclass(frozen=True)
class ValidRecord:
    """A checked record: shapes, and every array as stored (valid steps only)."""

    num_sequences: int
    max_length: int
    state_size: int
    precision: str
    lengths: np.ndarray  # [N] int32
    states: np.ndarray  # [P, H] float16 or float32
    probabilities: Optional[np.ndarray]  # [P, C] float32
    num_classes: int
    class_names: Optional[List[str]]
    labels: Optional[np.ndarray]  # [N] int32
    vocabulary: Optional[List[str]]
    token_ids: Optional[np.ndarray]  # [P] int32


def _validate(fields):
    states, probabilities, tokens, lengths, labels, class_names, precision = (
        fields.states, fields.probabilities, fields.tokens, fields.lengths, fields.labels,
        fields.class_names, fields.precision,
    )
    if precision not in STATES_DTYPES:
        raise ValueError(
            "`precision` is %r; expected one of %s" % (precision, sorted(STATES_DTYPES))
        )
    states = _array("states", states, kind="real")
    _check_shape("states", states, (None, None, None), "[N sequences, T steps, H units]")
    n, t, h = states.shape

    if lengths is None:
        lengths = np.full([n], t, dtype=LENGTHS_DTYPE)
    else:
        lengths = _array("lengths", lengths, kind="integer")
        _check_shape("lengths", lengths, (n,), "[N] valid steps per sequence, N=%d" % n)
        out = (lengths < 1) | (lengths > t)
        if out.any():
            i = int(np.argmax(out))
            raise ValueError(
                "`lengths[%d]` is %d; expected 1 <= length <= T=%d (the steps axis of "
                "`states`)" % (i, int(lengths[i]), t)
            )
        lengths = lengths.astype(LENGTHS_DTYPE)
    valid = np.arange(t)[None, :] < lengths[:, None]  # [N, T]

    valid_states = states[valid]  # [P, H], sequence after sequence
    _check_finite("states", valid_states)
    dtype = STATES_DTYPES[precision]
    if dtype.itemsize == 2 and np.abs(valid_states).max() > np.finfo(np.float16).max:
        raise ValueError(
            "`states` has values up to %g, beyond float16's range; pass "
            "precision='float32'" % float(np.abs(valid_states).max())
        )
    valid_states = valid_states.astype(dtype, copy=False)

    num_classes = 0
    valid_probabilities = None
    if probabilities is not None:
        probabilities = _array("probabilities", probabilities, kind="real")
        _check_shape(
            "probabilities",
            probabilities,
            (n, t, None),
            "[N=%d, T=%d, C classes] (C=1 means sigmoid output for class 1)" % (n, t),
        )
        valid_probabilities = probabilities[valid].astype(PROBABILITIES_DTYPE)
        _check_finite("probabilities", valid_probabilities)
        if valid_probabilities.shape[1] == 1:  # binary sigmoid head: p(class 1)
            valid_probabilities = np.concatenate(
                [1.0 - valid_probabilities, valid_probabilities], axis=1
            )
        lo, hi = valid_probabilities.min(), valid_probabilities.max()
        if lo < -_DISTRIBUTION_ATOL or hi > 1.0 + _DISTRIBUTION_ATOL:
            raise ValueError(
                "`probabilities` has values in [%g, %g]; expected probabilities in "
                "[0, 1] (apply softmax/sigmoid to logits first)" % (lo, hi)
            )
        sums = valid_probabilities.sum(axis=1)
        off = np.abs(sums - 1.0) > _DISTRIBUTION_ATOL
        if off.any():
            i = int(np.argmax(off))
            raise ValueError(
                "`probabilities` at valid step %d sums to %g over the class axis; "
                "expected each step's probabilities to sum to 1" % (i, float(sums[i]))
            )
        num_classes = valid_probabilities.shape[1]

    if class_names is not None:
        class_names = _string_list("class_names", class_names, num_classes or None)
        num_classes = num_classes or len(class_names)
        if num_classes == 0:
            raise ValueError("`class_names` is empty; expected one name per class")

    if labels is not None:
        labels = _array("labels", labels, kind="integer")
        _check_shape("labels", labels, (n,), "[N] true class per sequence, N=%d" % n)
        bad = (labels < 0) | (labels >= num_classes) if num_classes else labels < 0
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                "`labels[%d]` is %d; expected a class index in [0, %s)"
                % (i, int(labels[i]), num_classes or "C")
            )
        labels = labels.astype(LENGTHS_DTYPE)

    vocabulary = token_ids = None
    if tokens is not None:
        vocabulary, token_ids = _encode_tokens(tokens, valid, (n, t))

    return ValidRecord(
        num_sequences=int(n),
        max_length=int(t),
        state_size=int(h),
        precision=precision,
        lengths=lengths,
        states=valid_states,
        probabilities=valid_probabilities,
        num_classes=int(num_classes),
        class_names=class_names,
        labels=labels,
        vocabulary=vocabulary,
        token_ids=token_ids,
    )


def _to_numpy(value):
    """Accepts numpy arrays, nested lists, and TF/PyTorch tensors."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # tf.Tensor
        value = value.numpy()
    return value


def _array(name, value, *, kind):
    """`value` as an ndarray of a numeric kind, or a ValueError naming `name`."""
    value = _to_numpy(value)
    try:
        array = np.asarray(value)
    except ValueError as e:  # ragged nested lists
        raise ValueError(
            "`%s` is ragged (%s); expected a rectangular array, padded to the "
            "longest sequence" % (name, e)
        )
    if array.dtype == object:
        raise ValueError(
            "`%s` is ragged or mixes types (numpy made an object array of shape %s); "
            "expected a rectangular %s array" % (name, array.shape, kind)
        )
    allowed = {"integer": "iu", "real": "iuf"}[kind]
    if array.dtype.kind not in allowed:
        raise ValueError(
            "`%s` has dtype %s; expected %s numbers"
            % (name, array.dtype, "integer" if kind == "integer" else "real (float or int)")
        )
    return array


def _check_shape(name, array, expected, meaning):
    """`expected` is a tuple of ints or None (any size > 0)."""
    ok = array.ndim == len(expected) and all(
        (e is None and s > 0) or s == e for s, e in zip(array.shape, expected)
    )
    if not ok:
        wanted = "(%s)" % ", ".join("?" if e is None else str(e) for e in expected)
        raise ValueError(
            "`%s` has shape %s; expected %s = %s with every dimension > 0"
            % (name, tuple(array.shape), wanted, meaning)
        )


def _check_finite(name, values):
    bad = ~np.isfinite(values)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            "`%s` has %d NaN or Inf values in valid (non-padding) steps, the first "
            "at valid-step index %s; expected finite numbers" % (name, int(bad.sum()), where)
        )


def _string_list(name, values, expected_len=None):
    values = _to_numpy(values)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise ValueError("`%s` is %r; expected a list of strings" % (name, values))
    result = []
    for i, v in enumerate(values):
        if isinstance(v, bytes):
            v = v.decode("utf-8", errors="replace")
        if not isinstance(v, str):
            raise ValueError(
                "`%s[%d]` is %r of type %s; expected a string" % (name, i, v, type(v).__name__)
            )
        result.append(str(v))
    if expected_len is not None and len(result) != expected_len:
        raise ValueError(
            "`%s` has %d entries; expected %d (one per class)" % (name, len(result), expected_len)
        )
    return result


def _encode_tokens(tokens, valid, shape):
    """Distinct tokens in order of appearance, and each valid step's index into them."""
    tokens = _to_numpy(tokens)
    try:
        tokens = np.asarray(tokens, dtype=object)
    except ValueError as e:
        raise ValueError("`tokens` is ragged (%s); expected [N, T] strings, padded" % e)
    if tokens.shape != shape:
        raise ValueError(
            "`tokens` has shape %s; expected %s = [N, T] like `states` (pad short "
            "sequences with any string)" % (tuple(tokens.shape), shape)
        )
    index = {}
    ids = np.empty(int(valid.sum()), dtype=LENGTHS_DTYPE)
    for k, (i, j) in enumerate(np.argwhere(valid)):
        token = tokens[i, j]
        if isinstance(token, bytes):
            token = token.decode("utf-8", errors="replace")
        elif not isinstance(token, str):
            raise ValueError(
                "`tokens[%d][%d]` is %r of type %s; expected a string"
                % (i, j, token, type(token).__name__)
            )
        ids[k] = index.setdefault(str(token), len(index))
    return list(index), ids
