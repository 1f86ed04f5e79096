"""Binary encoding of one logged checkpoint (validated by fields.py), and its decoding.

Shared by the TensorFlow op, the TensorFlow-free protobuf path and the
backend, so that what is written and what is read cannot drift apart. Arrays
are stored as raw little-endian bytes with padding steps removed: a
512 x 200 x 256 checkpoint is one 50 MiB float16 blob that numpy reads back
without a copy, instead of hundreds of MiB of protobuf or JSON numbers.
"""

import json

import numpy as np

from tb_rnn_hidden import schemas
from tb_rnn_hidden.records import metadata
from tb_rnn_hidden.records.fields import (  # noqa: F401 (STATES_DTYPES: the codec's public face)
    LENGTHS_DTYPE,
    PROBABILITIES_DTYPE,
    STATES_DTYPES,
    RecordFields,
)

# The header's fields and their JSON types, from tb_rnn_hidden/schema/record_header.json.
_HEADER_SCHEMA = schemas.load("record_header")["fields"]
HEADER_FIELDS = tuple(field["name"] for field in _HEADER_SCHEMA)
# What `decode_header` checks; `version` is checked first, on its own.
_HEADER_CHECKS = {
    field["name"]: {"integer": int, "string": str, "boolean": bool}[field["type"]]
    for field in _HEADER_SCHEMA
    if field["type"] != "string_list_or_null" and field["name"] != "version"
}


class RecordError(ValueError):
    """A stored record that cannot be decoded (corrupt or not ours)."""


class NewerRecordError(RecordError):
    """A record written by a newer format version than this reader knows."""


def encode(fields):
    """Validates one checkpoint's `RecordFields`; its record as a list of `NUM_BLOBS` bytes.

    Raises ValueError naming the argument, what was received and what was expected.
    """
    record = fields.validated()
    values = {
        "version": metadata.PROTO_VERSION,
        "num_sequences": record.num_sequences,
        "max_length": record.max_length,
        "state_size": record.state_size,
        "num_steps": int(record.states.shape[0]),
        "num_classes": record.num_classes,
        "class_names": record.class_names,
        "states_dtype": record.precision,
        "has_tokens": record.token_ids is not None,
        "has_labels": record.labels is not None,
        "has_probabilities": record.probabilities is not None,
    }
    header = {name: values[name] for name in HEADER_FIELDS}
    blobs = [b""] * metadata.NUM_BLOBS
    blobs[metadata.BLOB_HEADER] = json.dumps(header).encode("utf-8")
    blobs[metadata.BLOB_LENGTHS] = record.lengths.tobytes()
    if record.labels is not None:
        blobs[metadata.BLOB_LABELS] = record.labels.tobytes()
    if record.probabilities is not None:
        blobs[metadata.BLOB_PROBABILITIES] = record.probabilities.tobytes()
    blobs[metadata.BLOB_STATES] = record.states.tobytes()
    if record.token_ids is not None:
        blobs[metadata.BLOB_VOCABULARY] = json.dumps(record.vocabulary).encode("utf-8")
        blobs[metadata.BLOB_TOKEN_IDS] = record.token_ids.tobytes()
    return blobs


def encode_checkpoint(states, probabilities=None, **fields):
    """`encode(RecordFields(states, probabilities, **fields))`."""
    return encode(RecordFields(states, probabilities, **fields))


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
    for key, kind in _HEADER_CHECKS.items():
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
    lengths = decode_array(blob, "lengths", LENGTHS_DTYPE, [header["num_sequences"]])
    if lengths.min() < 1 or lengths.max() > header["max_length"] or lengths.sum() != header["num_steps"]:
        raise RecordError("record lengths do not match the header")
    return lengths


def decode_labels(blob, header):
    if not header["has_labels"]:
        return None
    return decode_array(blob, "labels", LENGTHS_DTYPE, [header["num_sequences"]])


def decode_probabilities(blob, header):
    if not header["has_probabilities"]:
        return None
    shape = [header["num_steps"], header["num_classes"]]
    return decode_array(blob, "probabilities", PROBABILITIES_DTYPE, shape)


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
    ids = decode_array(blob, "token_ids", LENGTHS_DTYPE, [header["num_steps"]])
    if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise RecordError("record token ids point outside the vocabulary")
    return ids
