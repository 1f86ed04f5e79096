"""Validation and binary encoding of one logged checkpoint, and its decoding.

Shared by the TensorFlow op, the TensorFlow-free protobuf path and the
backend, so that what is written and what is read cannot drift apart. Arrays
are stored as raw little-endian bytes with padding steps removed: a
512 x 200 x 256 checkpoint is one 50 MiB float16 blob that numpy reads back
without a copy, instead of hundreds of MiB of protobuf or JSON numbers.
"""

import json

import numpy as np

from tb_rnn_hidden.records import metadata

STATES_DTYPES = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}
_LENGTHS_DTYPE = np.dtype("<i4")
_PROBABILITIES_DTYPE = np.dtype("<f4")
# Tolerance for "each row of probabilities sums to 1": softmax in float16 or
# float32 rounds, a wrong axis or logits do not come close.
_DISTRIBUTION_ATOL = 1e-3


class RecordError(ValueError):
    """A stored record that cannot be decoded (corrupt or not ours)."""


class NewerRecordError(RecordError):
    """A record written by a newer format version than this reader knows."""


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


def encode_checkpoint(
    states,
    probabilities=None,
    *,
    tokens=None,
    lengths=None,
    labels=None,
    class_names=None,
    precision="float16",
):
    """Validates one checkpoint and returns its record as a list of `NUM_BLOBS` bytes.

    See `tb_rnn_hidden.summary.hidden_states` for the meaning of the arguments.
    Raises ValueError naming the argument, what was received and what was expected.
    """
    if precision not in STATES_DTYPES:
        raise ValueError(
            "`precision` is %r; expected one of %s" % (precision, sorted(STATES_DTYPES))
        )
    states = _array("states", states, kind="real")
    _check_shape("states", states, (None, None, None), "[N sequences, T steps, H units]")
    n, t, h = states.shape

    if lengths is None:
        lengths = np.full([n], t, dtype=_LENGTHS_DTYPE)
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
        lengths = lengths.astype(_LENGTHS_DTYPE)
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
        valid_probabilities = probabilities[valid].astype(_PROBABILITIES_DTYPE)
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
        labels = labels.astype(_LENGTHS_DTYPE)

    vocabulary = token_ids = None
    if tokens is not None:
        vocabulary, token_ids = _encode_tokens(tokens, valid, (n, t))

    header = {
        "version": metadata.PROTO_VERSION,
        "num_sequences": int(n),
        "max_length": int(t),
        "state_size": int(h),
        "num_steps": int(valid_states.shape[0]),
        "num_classes": int(num_classes),
        "class_names": class_names,
        "states_dtype": precision,
        "has_tokens": tokens is not None,
        "has_labels": labels is not None,
        "has_probabilities": valid_probabilities is not None,
    }
    blobs = [b""] * metadata.NUM_BLOBS
    blobs[metadata.BLOB_HEADER] = json.dumps(header).encode("utf-8")
    blobs[metadata.BLOB_LENGTHS] = lengths.tobytes()
    if labels is not None:
        blobs[metadata.BLOB_LABELS] = labels.tobytes()
    if valid_probabilities is not None:
        blobs[metadata.BLOB_PROBABILITIES] = valid_probabilities.tobytes()
    blobs[metadata.BLOB_STATES] = valid_states.tobytes()
    if vocabulary is not None:
        blobs[metadata.BLOB_VOCABULARY] = json.dumps(vocabulary).encode("utf-8")
        blobs[metadata.BLOB_TOKEN_IDS] = token_ids.tobytes()
    return blobs


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
    ids = np.empty(int(valid.sum()), dtype=_LENGTHS_DTYPE)
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


# Decoding ------------------------------------------------------------------


def decode_header(blob):
    """The header dict of a record; RecordError if it is not a readable header."""
    try:
        header = json.loads(bytes(blob).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RecordError("record header is not JSON: %s" % e)
    if not isinstance(header, dict):
        raise RecordError("record header is not a JSON object")
    version = header.get("version")
    if not isinstance(version, int):
        raise RecordError("record header has no integer version")
    if version > metadata.PROTO_VERSION:
        raise NewerRecordError(
            "record was written by format version %d; this tb-rnn-hidden reads "
            "versions up to %d: upgrade tb-rnn-hidden" % (version, metadata.PROTO_VERSION)
        )
    expected = {
        "num_sequences": int,
        "max_length": int,
        "state_size": int,
        "num_steps": int,
        "num_classes": int,
        "states_dtype": str,
        "has_tokens": bool,
        "has_labels": bool,
        "has_probabilities": bool,
    }
    for key, kind in expected.items():
        if not isinstance(header.get(key), kind):
            raise RecordError("record header field %r is missing or not %s" % (key, kind.__name__))
    if header["states_dtype"] not in STATES_DTYPES:
        raise RecordError("record header has unknown states_dtype %r" % header["states_dtype"])
    return header


def decode_array(blob, name, dtype, shape):
    """A read-only ndarray view of `blob`; RecordError if its size does not match."""
    dtype = np.dtype(dtype)
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(blob) != expected:
        raise RecordError(
            "record blob %r has %d bytes; expected %d for %s of shape %s"
            % (name, len(blob), expected, dtype.name, tuple(shape))
        )
    return np.frombuffer(blob, dtype=dtype).reshape(shape)


def decode_lengths(blob, header):
    lengths = decode_array(blob, "lengths", _LENGTHS_DTYPE, [header["num_sequences"]])
    if lengths.min() < 1 or lengths.max() > header["max_length"] or lengths.sum() != header["num_steps"]:
        raise RecordError("record lengths do not match the header")
    return lengths


def decode_labels(blob, header):
    if not header["has_labels"]:
        return None
    return decode_array(blob, "labels", _LENGTHS_DTYPE, [header["num_sequences"]])


def decode_probabilities(blob, header):
    if not header["has_probabilities"]:
        return None
    shape = [header["num_steps"], header["num_classes"]]
    return decode_array(blob, "probabilities", _PROBABILITIES_DTYPE, shape)


def decode_states(blob, header):
    shape = [header["num_steps"], header["state_size"]]
    return decode_array(blob, "states", STATES_DTYPES[header["states_dtype"]], shape)


def decode_vocabulary(blob, header):
    if not header["has_tokens"]:
        return None
    try:
        vocabulary = json.loads(bytes(blob).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RecordError("record vocabulary is not JSON: %s" % e)
    if not isinstance(vocabulary, list) or not all(isinstance(v, str) for v in vocabulary):
        raise RecordError("record vocabulary is not a list of strings")
    return vocabulary


def decode_token_ids(blob, header, vocabulary_size):
    if not header["has_tokens"]:
        return None
    ids = decode_array(blob, "token_ids", _LENGTHS_DTYPE, [header["num_steps"]])
    if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise RecordError("record token ids point outside the vocabulary")
    return ids
