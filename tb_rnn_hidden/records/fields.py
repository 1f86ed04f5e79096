"""The fields of one logged record, and their validation: the one place that knows them.

`RecordFields` is what every way of logging builds: the TensorFlow op and the
TensorFlow-free protobuf (`summary.py`), the writer, the Keras callback and the
PyTorch helper. `RecordFields.validated()` checks every field, naming the
argument, what was received and what was expected, and returns the arrays the
codec stores (padding removed). The rules for what goes beside a record
(`check_tag`, `check_step`, `check_text` for the description) and the
shape-and-dtype rules that can run without values (`check_static`, used
inside `tf.function` at trace time) are here too, so that every entry point
applies the same ones.

Checks run cheapest first: types, shapes and the record's size (from shapes
alone, so a record too large for one event fails before anything is copied),
then the values.
"""

import dataclasses
import json
import sys
from typing import Any, List, Optional

import numpy as np

STATES_DTYPES = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}
LENGTHS_DTYPE = np.dtype("<i4")
PROBABILITIES_DTYPE = np.dtype("<f4")
# Tolerance for "each row of probabilities sums to 1": softmax in float16 or
# float32 rounds, a wrong axis or logits do not come close.
_DISTRIBUTION_ATOL = 1e-3
# Lengths, labels and token ids are stored as int32.
INT32_LIMIT = 2**31
# TensorBoard stores steps as int64.
STEP_LIMIT = 2**63
# The longest tag TensorBoard can always serve. The tag goes percent-encoded
# into the query string of every request of the tab, up to 12 URL characters
# per character (4-byte UTF-8), and TensorBoard's HTTP server (Python's
# http.server, under both loaders) answers 414 to a request line over 65,536
# bytes: a tag of 5,300 such characters served, one of 5,500 did not. 1,024
# characters take at most 12,288 URL characters, leaving room for the run
# name and the other parameters.
MAX_TAG_LENGTH = 1024
# One record is one protobuf `Event`, which protobuf cannot serialize beyond
# 2 GiB; the tag, the description and the metadata get the last MiB.
MAX_EVENT_BYTES = 2**31 - 1
MAX_DESCRIPTION_BYTES = 512 * 1024
MAX_RECORD_BYTES = MAX_EVENT_BYTES - 2**20
# Room in the record for the header's fixed fields (its class names are counted).
_HEADER_BYTES = 1024


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


@dataclasses.dataclass(frozen=True)
class ArraySpec:
    """What is known of an array before its values: inside `tf.function`, at trace time.

    `shape` is None where the rank is unknown, with None for each unknown
    size; `kind` is a numpy dtype kind ("f", "i", "u", "b", "c", "O" for
    strings, "V" for anything else); `dtype` names the dtype in messages.
    """

    shape: Optional[tuple]
    kind: str
    dtype: str

    @classmethod
    def of(cls, array):
        kind = "O" if array.dtype.kind in "OUS" else array.dtype.kind
        return cls(tuple(array.shape), kind, str(array.dtype))


@dataclasses.dataclass(frozen=True)
class _Structure:
    """The sizes a record's shapes give (None where not known at trace time)."""

    n: Optional[int]
    t: Optional[int]
    h: Optional[int]
    num_classes: Optional[int]  # 0 without probabilities


# Tag, step, text --------------------------------------------------------------


def _short(value, limit=60):
    """repr(value) for a message, cut to `limit` characters."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return "%s... (%d characters)" % (text[:limit], len(text))


def check_text(name, value):
    """`value` as a str: a str that UTF-8 can encode, or bytes that are valid UTF-8.

    Never replaces what it cannot read (no U+FFFD): an undecodable byte or a
    lone surrogate is a ValueError naming `name`.
    """
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(
                "`%s` is %s, which is not valid UTF-8 (%s at byte %d); expected text "
                "(str, or UTF-8 bytes)" % (name, _short(bytes(value)), e.reason, e.start)
            ) from None
    if not isinstance(value, str):
        raise ValueError(
            "`%s` is %s of type %s; expected a string" % (name, _short(value), type(value).__name__)
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(
            "`%s` has the lone surrogate %r at character %d, which UTF-8 cannot encode; "
            "expected text (decode bytes with errors='strict')" % (name, value[e.start], e.start)
        ) from None
    return str(value)


def check_tag(value, name="tag"):
    """A tag: non-empty text of at most `MAX_TAG_LENGTH` characters."""
    if value is None:
        raise ValueError("`%s` is None; expected a non-empty string" % name)
    tag = check_text(name, value)
    if not tag:
        raise ValueError("`%s` is empty; expected a non-empty string" % name)
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(
            "`%s` has %d characters; expected at most %d: TensorBoard sends the tag in "
            "the URL of every request, and its HTTP server refuses URLs over 65,536 bytes"
            % (name, len(tag), MAX_TAG_LENGTH)
        )
    return tag


def check_description(value, name="description"):
    """An optional Markdown description: None, or text of at most `MAX_DESCRIPTION_BYTES`."""
    if value is None:
        return None
    text = check_text(name, value)
    size = len(text.encode("utf-8"))
    if size > MAX_DESCRIPTION_BYTES:
        raise ValueError(
            "`%s` has %d bytes of UTF-8; expected at most %d (it is stored with every "
            "record)" % (name, size, MAX_DESCRIPTION_BYTES)
        )
    return text


STEP_EXPECTED = "expected an integer 0 <= step < 2**63 (the checkpoint, e.g. the epoch)"


def check_step(value, name="step"):
    """The step as a Python int: an integer (int, numpy integer, 0-d integer array or tensor)."""
    scalar = _to_numpy(name, value)
    if isinstance(scalar, np.ndarray):
        if scalar.ndim != 0:
            raise ValueError("`%s` has shape %s; %s" % (name, scalar.shape, STEP_EXPECTED))
        scalar = scalar[()]
    if isinstance(scalar, (bool, np.bool_)) or not isinstance(scalar, (int, np.integer)):
        raise ValueError(
            "`%s` is %s of type %s; %s"
            % (name, _short(value), type(value).__name__, STEP_EXPECTED)
        )
    step = int(scalar)
    if not 0 <= step < STEP_LIMIT:
        raise ValueError("`%s` is %d; %s" % (name, step, STEP_EXPECTED))
    return step


def check_step_spec(spec, name="step"):
    """A step tensor's dtype and shape (`ArraySpec`), at trace time; its value is checked when run."""
    if spec.kind not in "iu" or spec.dtype == "uint64":
        raise ValueError(
            "`%s` is a tensor of dtype %s; %s, as an int32 or int64 tensor"
            % (name, spec.dtype, STEP_EXPECTED)
        )
    if spec.shape is not None and spec.shape != ():
        raise ValueError("`%s` is a tensor of shape %s; %s" % (name, spec.shape, STEP_EXPECTED))


def check_precision(precision):
    if not isinstance(precision, str) or precision not in STATES_DTYPES:
        raise ValueError(
            "`precision` is %s; expected one of %s" % (_short(precision), sorted(STATES_DTYPES))
        )
    return precision


def check_class_names(value, num_classes=None, name="class_names"):
    """A list of distinct, non-empty names, `num_classes` of them when that is known."""
    names = _to_numpy(name, value)
    if isinstance(names, np.ndarray) and names.ndim == 1:
        names = names.tolist()
    if isinstance(names, (str, bytes)):
        raise ValueError(
            "`%s` is %s; expected a list of strings (or a tuple): one distinct, non-empty "
            "name per class, in class order" % (name, _short(value))
        )
    if not isinstance(names, (list, tuple)):
        raise ValueError(
            "`%s` is a %s (%s); expected a list of strings (or a tuple): one distinct, "
            "non-empty name per class, in class order" % (name, type(value).__name__, _short(value))
        )
    names = [check_text("%s[%d]" % (name, i), v) for i, v in enumerate(names)]
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(
            "`%s` has %d entries; expected %d (one per class)" % (name, len(names), num_classes)
        )
    if not names:
        raise ValueError("`%s` is empty; expected one name per class" % name)
    first = {}
    for i, v in enumerate(names):
        if not v:
            raise ValueError("`%s[%d]` is empty; expected a non-empty name" % (name, i))
        j = first.setdefault(v, i)
        if j != i:
            raise ValueError(
                "`%s[%d]` is %s, the same as `%s[%d]`; expected distinct names"
                % (name, i, _short(v), name, j)
            )
    return names


def check_labels(value, num_sequences, num_classes=0, name="labels"):
    """[N] class indices as int32: in [0, C) when C is known, else in [0, 2**31)."""
    labels = _array(name, value, kind="integer")
    _check_shape(
        name, labels.shape, (num_sequences,),
        "[N] true class per sequence, N=%s" % num_sequences,
    )
    upper = num_classes or INT32_LIMIT
    bad = (labels < 0) | (labels >= upper)
    if bad.any():
        i = int(np.argmax(bad))
        bound = "%d)" % num_classes if num_classes else "2**31) (labels are stored as int32)"
        raise ValueError(
            "`%s[%d]` is %d; expected a class index in [0, %s" % (name, i, int(labels[i]), bound)
        )
    return labels.astype(LENGTHS_DTYPE)


def check_lengths(value, num_sequences, max_length, steps_of="`states`", name="lengths"):
    """[N] valid steps per sequence as int32, each in [1, T]."""
    lengths = _array(name, value, kind="integer")
    _check_shape(
        name, lengths.shape, (num_sequences,),
        "[N] valid steps per sequence, N=%d" % num_sequences,
    )
    bad = (lengths < 1) | (lengths > max_length) | (lengths >= INT32_LIMIT)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            "`%s[%d]` is %d; expected 1 <= length <= T=%d (the steps axis of %s)"
            % (name, i, int(lengths[i]), max_length, steps_of)
        )
    return lengths.astype(LENGTHS_DTYPE)


# Static rules: shapes and dtypes ----------------------------------------------


def check_static(specs, *, class_names=None, precision="float16"):
    """Checks what shapes and dtypes alone decide: {field name: `ArraySpec`}.

    What `tf.function` can check at trace time, before any value exists; the
    same rules open `RecordFields.validated()`. Returns the class names, checked.
    """
    check_precision(precision)
    structure = _check_structure(specs)
    num_classes = structure.num_classes
    if class_names is not None:
        class_names = check_class_names(class_names, num_classes or None)
    if structure.n is not None and structure.t is not None and structure.h is not None:
        if "lengths" not in specs:  # without lengths every step is valid
            _check_size(structure, structure.n * structure.t, precision, specs, class_names)
    return class_names


def _check_kind(name, spec, kind):
    allowed = {"integer": "iu", "real": "iuf", "string": "O"}[kind]
    if spec.kind not in allowed:
        wanted = {
            "integer": "integer numbers",
            "real": "real (float or int) numbers",
            "string": "strings",
        }[kind]
        raise ValueError("`%s` has dtype %s; expected %s" % (name, spec.dtype, wanted))


def _check_shape(name, shape, expected, meaning):
    """`expected` is a tuple of ints or None (any size > 0); None in `shape` is unknown."""
    if shape is None:
        return
    ok = len(shape) == len(expected) and all(
        s is None or (e is None and s > 0) or s == e for s, e in zip(shape, expected)
    )
    if not ok:
        wanted = "(%s)" % ", ".join("?" if e is None else str(e) for e in expected)
        shown = "(%s)" % ", ".join("?" if s is None else str(s) for s in shape)
        shown = shown[:-1] + ",)" if len(shape) == 1 else shown
        raise ValueError(
            "`%s` has shape %s; expected %s = %s with every dimension > 0"
            % (name, shown, wanted, meaning)
        )


def _dim(shape, axis):
    return None if shape is None else shape[axis]


def _check_structure(specs):
    """Dtypes and shapes of every array, and the sizes N, T, H, C they agree on."""
    states = specs["states"]
    _check_kind("states", states, "real")
    _check_shape("states", states.shape, (None, None, None), "[N sequences, T steps, H units]")
    n, t, h = (_dim(states.shape, k) for k in range(3))
    if "lengths" in specs:
        _check_kind("lengths", specs["lengths"], "integer")
        _check_shape(
            "lengths", specs["lengths"].shape, (n,), "[N] valid steps per sequence, N=%s" % n
        )
    num_classes = 0
    if "probabilities" in specs:
        probabilities = specs["probabilities"]
        _check_kind("probabilities", probabilities, "real")
        _check_shape(
            "probabilities",
            probabilities.shape,
            (n, t, None),
            "[N=%s, T=%s, C classes] (C=1 means sigmoid output for class 1)" % (n, t),
        )
        num_classes = _dim(probabilities.shape, 2)
        if num_classes == 1:  # binary sigmoid head: p(class 1)
            num_classes = 2
    if "labels" in specs:
        _check_kind("labels", specs["labels"], "integer")
        _check_shape(
            "labels", specs["labels"].shape, (n,), "[N] true class per sequence, N=%s" % n
        )
    if "tokens" in specs:
        _check_kind("tokens", specs["tokens"], "string")
        _check_shape(
            "tokens",
            specs["tokens"].shape,
            (n, t),
            "[N, T] like `states` (pad short sequences with any string)",
        )
    return _Structure(n, t, h, num_classes)


def _check_size(structure, num_steps, precision, specs, class_names, vocabulary_bytes=0):
    """ValueError if the record would not fit in one event, from its shapes alone."""
    n, h, c = structure.n, structure.h, structure.num_classes or 0
    parts = {
        "states": num_steps * h * STATES_DTYPES[precision].itemsize,
        "probabilities": num_steps * c * PROBABILITIES_DTYPE.itemsize,
        "lengths": n * LENGTHS_DTYPE.itemsize,
        "labels": n * LENGTHS_DTYPE.itemsize if "labels" in specs else 0,
        "tokens": (num_steps * LENGTHS_DTYPE.itemsize if "tokens" in specs else 0)
        + vocabulary_bytes,
        "header": _HEADER_BYTES + len(json.dumps(class_names or [])),
    }
    total = sum(parts.values())
    if total > MAX_RECORD_BYTES:
        raise ValueError(
            "`states` of shape (N=%d, T=%d, H=%d) with %d valid steps makes a record of "
            "%d bytes (%s), over the %d bytes that fit in one event (protobuf's 2 GiB "
            "limit); log fewer probe sequences, shorter sequences (`lengths`)%s, or fewer "
            "units"
            % (
                n,
                structure.t,
                h,
                num_steps,
                total,
                ", ".join("%s %d" % kv for kv in parts.items() if kv[1]),
                MAX_RECORD_BYTES,
                "" if precision == "float16" else ", precision='float16'",
            )
        )


# Arrays -----------------------------------------------------------------------


def _torch_to_numpy(name, tensor, torch):
    """A torch tensor of any dtype, device or layout as an ndarray.

    Dtypes numpy lacks (bfloat16, float8) become float32, which holds their values exactly.
    """
    if tensor.is_meta:
        raise ValueError(
            "`%s` is a tensor on the meta device, which has no data; expected a tensor "
            "holding values (on the CPU or a GPU)" % name
        )
    if getattr(tensor, "is_nested", False):
        raise ValueError(
            "`%s` is a nested (ragged) tensor; expected a rectangular tensor, padded to the "
            "longest sequence" % name
        )
    tensor = tensor.detach()
    if tensor.is_quantized:
        tensor = tensor.dequantize()
    if tensor.layout != torch.strided:
        tensor = tensor.to_dense()
    tensor = tensor.cpu().resolve_conj().resolve_neg()
    try:
        return tensor.numpy()
    except TypeError:  # bfloat16, float8, ...: dtypes numpy does not have
        if tensor.is_floating_point():
            return tensor.float().numpy()  # exact: every such value is a float32
        if tensor.is_complex():
            return tensor.cfloat().numpy()
        raise ValueError(
            "`%s` is a tensor of dtype %s, which numpy cannot hold; expected real numbers"
            % (name, tensor.dtype)
        ) from None


def _to_numpy(name, value):
    """Numpy arrays, nested lists, and TF, PyTorch or JAX tensors, as numpy values."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _torch_to_numpy(name, value, torch)
    if not isinstance(value, np.ndarray) and callable(getattr(value, "numpy", None)):
        try:
            return value.numpy()  # tf.Tensor, tf.Variable
        except (AttributeError, NotImplementedError, TypeError, ValueError) as e:
            raise ValueError(
                "`%s` is a %s without values (%s); expected values: inside tf.function, "
                "log with tb_rnn_hidden.summary.hidden_states" % (name, type(value).__name__, e)
            ) from None
    return value


def _ml_dtype_as_numpy(array):
    """bfloat16 and float8 arrays (TensorFlow's, JAX's: ml_dtypes) as float32, int4 as int64."""
    if array.dtype.kind != "V" or array.dtype.names is not None:
        return array
    if "float" in array.dtype.name:
        return array.astype(np.float32)
    if "int" in array.dtype.name:
        return array.astype(np.int64)
    return array


def _array(name, value, *, kind):
    """`value` as an ndarray of a numeric kind, or a ValueError naming `name`."""
    value = _to_numpy(name, value)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as e:  # ragged nested lists
        raise ValueError(
            "`%s` is ragged (%s); expected a rectangular array, padded to the "
            "longest sequence" % (name, e)
        ) from None
    if array.dtype == object:
        raise ValueError(
            "`%s` is ragged, mixes types or holds numbers numpy cannot store (numpy made "
            "an object array of shape %s); expected a rectangular %s array"
            % (name, array.shape, kind)
        )
    array = _ml_dtype_as_numpy(array)
    _check_kind(name, ArraySpec.of(array), kind)
    return array


def array_spec(name, value):
    """The `ArraySpec` of a field given as values (not a symbolic tensor); tokens' text checked."""
    if name == "tokens":
        tokens = _string_array(name, value)
        for index, token in np.ndenumerate(tokens):
            check_text("tokens%s" % "".join("[%d]" % i for i in index), token)
        return ArraySpec.of(tokens)
    kind = "integer" if name in ("lengths", "labels") else "real"
    return ArraySpec.of(_array(name, value, kind=kind))


def _string_array(name, value):
    """Tokens as an object ndarray (elements checked one by one later)."""
    value = _to_numpy(name, value)
    try:
        return np.asarray(value, dtype=object)
    except ValueError as e:
        raise ValueError("`%s` is ragged (%s); expected [N, T] strings, padded" % (name, e))


# Values -----------------------------------------------------------------------


def _index_of(valid, flat_index):
    """`name[i][t][k]` of the `flat_index`-th element of values[valid] ([P, K] flattened)."""
    per_step = flat_index[1]
    i, t = np.argwhere(valid)[flat_index[0]]
    return "[%d][%d][%d]" % (i, t, per_step)


def _check_finite(name, values, valid):
    bad = ~np.isfinite(values)
    if bad.any():
        first = tuple(np.argwhere(bad)[0])
        raise ValueError(
            "`%s` has %d NaN or Inf values in valid (non-padding) steps, the first "
            "`%s%s` = %r; expected finite numbers"
            % (name, int(bad.sum()), name, _index_of(valid, first), float(values[first]))
        )


def _fits(source, target):
    """Whether every finite value of dtype `source` is within the range of float dtype `target`."""
    info = np.finfo if source.kind == "f" else np.iinfo
    return float(info(source).max) <= float(np.finfo(target).max)


def _check_range(name, values, valid, target):
    """ValueError if a (finite) value is beyond float dtype `target`'s range: never ±Inf."""
    if _fits(values.dtype, target):
        return
    largest = float(np.finfo(target).max)
    bad = (values > largest) | (values < -largest)
    if bad.any():
        first = tuple(np.argwhere(bad)[0])
        advice = "; pass precision='float32'" if target == np.float16 else ""
        raise ValueError(
            "`%s%s` is %r, beyond %s's range%s (%s's largest finite value is %g); expected "
            "values within it"
            % (name, _index_of(valid, first), values[first].item(), np.dtype(target).name,
               advice, np.dtype(target).name, largest)
        )


def _valid_states(states, valid, precision):
    values = states[valid]  # [P, H], sequence after sequence
    _check_finite("states", values, valid)
    _check_range("states", values, valid, STATES_DTYPES[precision])
    return values.astype(STATES_DTYPES[precision], copy=False)


def _valid_probabilities(probabilities, valid):
    values = probabilities[valid]
    _check_finite("probabilities", values, valid)
    lo, hi = values.min(), values.max()
    if lo < -_DISTRIBUTION_ATOL or hi > 1.0 + _DISTRIBUTION_ATOL:
        raise ValueError(
            "`probabilities` has values in [%g, %g]; expected probabilities in "
            "[0, 1] (apply softmax/sigmoid to logits first)" % (lo, hi)
        )
    values = values.astype(PROBABILITIES_DTYPE)
    if values.shape[1] == 1:  # binary sigmoid head: p(class 1)
        values = np.concatenate([1.0 - values, values], axis=1)
    sums = values.sum(axis=1)
    off = np.abs(sums - 1.0) > _DISTRIBUTION_ATOL
    if off.any():
        i = int(np.argmax(off))
        raise ValueError(
            "`probabilities` at valid step %d sums to %g over the class axis; "
            "expected each step's probabilities to sum to 1" % (i, float(sums[i]))
        )
    return values


def _encode_tokens(tokens, valid):
    """Distinct tokens in order of appearance, and each valid step's index into them."""
    index = {}
    decoded = {}  # the raw token (str or bytes) -> its text
    ids = np.empty(int(valid.sum()), dtype=LENGTHS_DTYPE)
    for k, (i, j) in enumerate(np.argwhere(valid)):
        raw = tokens[i, j]
        if isinstance(raw, (str, bytes)) and raw in decoded:
            token = decoded[raw]
        else:
            token = check_text("tokens[%d][%d]" % (i, j), raw)
            if isinstance(raw, (str, bytes)):
                decoded[raw] = token
        ids[k] = index.setdefault(token, len(index))
    return list(index), ids


def _validate(fields):
    precision = check_precision(fields.precision)
    arrays = {"states": _array("states", fields.states, kind="real")}
    for name, kind in (("probabilities", "real"), ("lengths", "integer"), ("labels", "integer")):
        if getattr(fields, name) is not None:
            arrays[name] = _array(name, getattr(fields, name), kind=kind)
    if fields.tokens is not None:
        arrays["tokens"] = _string_array("tokens", fields.tokens)
    specs = {name: ArraySpec.of(array) for name, array in arrays.items()}
    structure = _check_structure(specs)
    n, t, h = structure.n, structure.t, structure.h
    class_names = fields.class_names
    if class_names is not None:
        class_names = check_class_names(class_names, structure.num_classes or None)
    num_classes = structure.num_classes or len(class_names or [])

    if "lengths" in arrays:
        lengths = check_lengths(arrays["lengths"], n, t)
    else:
        lengths = np.full([n], t, dtype=LENGTHS_DTYPE)
    num_steps = int(lengths.sum(dtype=np.int64))
    _check_size(structure, num_steps, precision, specs, class_names)
    labels = None
    if "labels" in arrays:
        labels = check_labels(arrays["labels"], n, num_classes)

    valid = np.arange(t)[None, :] < lengths[:, None]  # [N, T]
    states = _valid_states(arrays["states"], valid, precision)
    probabilities = None
    if "probabilities" in arrays:
        probabilities = _valid_probabilities(arrays["probabilities"], valid)
    vocabulary = token_ids = None
    if "tokens" in arrays:
        vocabulary, token_ids = _encode_tokens(arrays["tokens"], valid)
        _check_size(
            structure, num_steps, precision, specs, class_names, len(json.dumps(vocabulary))
        )
    return ValidRecord(
        num_sequences=int(n),
        max_length=int(t),
        state_size=int(h),
        precision=precision,
        lengths=lengths,
        states=states,
        probabilities=probabilities,
        num_classes=int(num_classes),
        class_names=class_names,
        labels=labels,
        vocabulary=vocabulary,
        token_ids=token_ids,
    )
