"""Binary encoding of one logged checkpoint (validated by fields.py), and its decoding.

Shared by the TensorFlow op, the TensorFlow-free protobuf path and the
backend, so that what is written and what is read cannot drift apart. Arrays
are stored as raw little-endian bytes with padding steps removed: a
512 x 200 x 256 checkpoint is one 50 MiB float16 blob that numpy reads back
without a copy, instead of hundreds of MiB of protobuf or JSON numbers.

Since format version 2 the header carries a CRC-32C of every other blob and of
itself, because a flipped byte inside an event is served as is by the Rust
data server (it does not check the event's own CRC). Decoding checks each
blob against its checksum and every decoded value against what the writer
allows, so a damaged record is a `RecordError` naming what is wrong. Format
version 3 added annotation tracks: their list in the header, their values in
one blob (layout in metadata.py). CRC-32C
of a 50 MiB blob takes ~4 ms with google-crc32c's C code, the writer's
dependency already; zlib.crc32 takes ~13 ms (bench/RESULTS.md).
"""

import json
import math

import google_crc32c
import numpy as np

from tb_rnn_hidden import schemas
from tb_rnn_hidden.records import fields as record_fields
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
_SIMPLE_TYPES = {"integer": int, "string": str, "boolean": bool}
_HEADER_CHECKS = {
    field["name"]: _SIMPLE_TYPES[field["type"]]
    for field in _HEADER_SCHEMA
    if field["type"] in _SIMPLE_TYPES and field["name"] != "version"
}
# The header's checksum fields (format version 2 on), which /sequences does not serve.
CHECKSUM_FIELDS = tuple(field["name"] for field in schemas.load("record_header")["checksums"])
_FIRST_CHECKSUMMED_VERSION = 2
# The writer's tolerance for "each row of probabilities sums to 1" (fields.py):
# what it let through is read back, what it refuses is corruption.
_DISTRIBUTION_ATOL = record_fields._DISTRIBUTION_ATOL


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
        "annotations": [track.header() for track in record.annotations],
    }
    blobs = [b""] * metadata.NUM_BLOBS
    blobs[metadata.BLOB_LENGTHS] = record.lengths.tobytes()
    if record.labels is not None:
        blobs[metadata.BLOB_LABELS] = record.labels.tobytes()
    if record.probabilities is not None:
        blobs[metadata.BLOB_PROBABILITIES] = record.probabilities.tobytes()
    blobs[metadata.BLOB_STATES] = record.states.tobytes()
    if record.token_ids is not None:
        blobs[metadata.BLOB_VOCABULARY] = json.dumps(record.vocabulary).encode("utf-8")
        blobs[metadata.BLOB_TOKEN_IDS] = record.token_ids.tobytes()
    blobs[metadata.BLOB_ANNOTATIONS] = encode_annotations(record.annotations)
    header = {name: values[name] for name in HEADER_FIELDS}
    header["blob_crc32c"] = [google_crc32c.value(blob) for blob in blobs[1:]]
    header["header_crc32c"] = google_crc32c.value(_canonical_header(header))
    blobs[metadata.BLOB_HEADER] = json.dumps(header).encode("utf-8")
    return blobs


def encode_checkpoint(states, probabilities=None, **fields):
    """`encode(RecordFields(states, probabilities, **fields))`."""
    return encode(RecordFields(states, probabilities, **fields))


def _stored_dtype(kind, num_categories):
    """How a track's values are stored (metadata.BLOB_ANNOTATIONS)."""
    if kind == "numeric":
        return record_fields.ANNOTATION_VALUES_DTYPE
    return np.dtype("u1") if num_categories <= 256 else np.dtype("<u2")


def encode_annotations(tracks):
    """The annotations blob: every track's values as stored, each padded to 4 bytes."""
    parts = []
    for track in tracks:
        if track.kind == "numeric":
            data = track.values.astype(record_fields.ANNOTATION_VALUES_DTYPE).tobytes()
        else:
            data = track.codes.astype(_stored_dtype("categorical", len(track.categories))).tobytes()
        parts.append(data + b"\0" * (-len(data) % 4))
    return b"".join(parts)


# Decoding ------------------------------------------------------------------


def _canonical_header(header):
    """The bytes `header_crc32c` covers: the header without it, as canonical JSON."""
    rest = {key: value for key, value in header.items() if key != "header_crc32c"}
    return json.dumps(rest, sort_keys=True, separators=(",", ":")).encode("ascii")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def decode_header(blob):
    """The header dict of a record; RecordError if it is not a readable, consistent header.

    The version is checked first: a newer record may lay out anything else differently.
    """
    try:
        header = json.loads(bytes(blob).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RecordError("record header is not JSON: %s" % e)
    if not isinstance(header, dict):
        raise RecordError("record header is not a JSON object")
    version = header.get("version")
    if not _is_int(version) or version < 1:
        raise RecordError("record header has version %r; expected an integer >= 1" % (version,))
    if version > metadata.PROTO_VERSION:
        raise NewerRecordError(
            "record was written by format version %d; this tb-rnn-hidden reads "
            "versions up to %d: upgrade tb-rnn-hidden" % (version, metadata.PROTO_VERSION)
        )
    _check_header_checksum(header)
    for key, kind in _HEADER_CHECKS.items():
        value = header.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise RecordError("record header field %r is %r; expected %s" % (key, value, kind.__name__))
    if header["states_dtype"] not in STATES_DTYPES:
        raise RecordError("record header has unknown states_dtype %r" % header["states_dtype"])
    _check_sizes(header)
    _check_class_names(header)
    _check_annotations(header)
    return header


def check_blob_count(header, count):
    """RecordError unless a record of the header's version has `count` blobs."""
    expected = metadata.num_blobs(header["version"])
    if count != expected:
        raise RecordError(
            "record of format version %d has %d blobs; expected %d"
            % (header["version"], count, expected)
        )


def _check_header_checksum(header):
    """Version 2 on: the header matches its own checksum and lists one per other blob."""
    if header["version"] < _FIRST_CHECKSUMMED_VERSION:
        present = [key for key in CHECKSUM_FIELDS if key in header]
        if present:  # e.g. a flipped bit turned version 2 into 1
            raise RecordError(
                "record header says format version %d, which has no checksums, but holds %s"
                % (header["version"], present)
            )
        return
    stored = header.get("header_crc32c")
    if not _is_int(stored):
        raise RecordError("record header has header_crc32c %r; expected an integer" % (stored,))
    actual = google_crc32c.value(_canonical_header(header))
    if actual != stored:
        raise RecordError(
            "record header fails its checksum (CRC-32C %08x; it was written with %08x)"
            % (actual, stored)
        )
    checksums = header.get("blob_crc32c")
    expected = metadata.num_blobs(header["version"]) - 1
    if (
        not isinstance(checksums, list)
        or len(checksums) != expected
        or not all(_is_int(c) for c in checksums)
    ):
        raise RecordError(
            "record header has blob_crc32c %r; expected %d integers" % (checksums, expected)
        )


def _check_sizes(header):
    """Shapes the writer could have written; Python ints, so nothing overflows."""
    for key in ("num_sequences", "max_length", "state_size"):
        if header[key] < 1:
            raise RecordError("record header has %s=%d; expected >= 1" % (key, header[key]))
    n, t, p = header["num_sequences"], header["max_length"], header["num_steps"]
    if not n <= p <= n * t:
        raise RecordError(
            "record header has num_steps=%d; expected between num_sequences=%d and "
            "num_sequences x max_length=%d" % (p, n, n * t)
        )
    c = header["num_classes"]
    if c < 0 or (header["has_probabilities"] and c < 1):
        raise RecordError(
            "record header has num_classes=%d%s; expected >= %d"
            % (c, " with probabilities" if header["has_probabilities"] else "",
               1 if header["has_probabilities"] else 0)
        )


def _check_class_names(header):
    if "class_names" not in header:
        raise RecordError("record header has no class_names (null or a list of strings)")
    names = header["class_names"]
    if names is None:
        return
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise RecordError("record header has class_names %r; expected null or a list of strings"
                          % (names,))
    if len(names) != header["num_classes"]:
        raise RecordError(
            "record header has %d class_names; expected num_classes=%d"
            % (len(names), header["num_classes"])
        )


def verify_blob(blob, index, header):
    """RecordError unless blob `index` (not the header) matches the header's checksum of it."""
    if header["version"] < _FIRST_CHECKSUMMED_VERSION:
        return
    expected = header["blob_crc32c"][index - 1]
    actual = google_crc32c.value(bytes(blob))
    if actual != expected:
        raise RecordError(
            "record blob %r fails its checksum (CRC-32C %08x; it was written with %08x)"
            % (metadata.BLOB_NAMES[index], actual, expected)
        )


def decode_array(blob, name, dtype, shape):
    """A read-only ndarray view of `blob`; RecordError if its size does not match."""
    dtype = np.dtype(dtype)
    expected = math.prod(int(d) for d in shape) * dtype.itemsize  # Python ints: no overflow
    if len(blob) != expected:
        raise RecordError(
            "record blob %r has %d bytes; expected %d for %s of shape %s"
            % (name, len(blob), expected, dtype.name, tuple(shape))
        )
    return np.frombuffer(blob, dtype=dtype).reshape(shape)


def decode_lengths(blob, header):
    verify_blob(blob, metadata.BLOB_LENGTHS, header)
    lengths = decode_array(blob, "lengths", LENGTHS_DTYPE, [header["num_sequences"]])
    if (
        lengths.min() < 1
        or lengths.max() > header["max_length"]
        or int(lengths.sum(dtype=np.int64)) != header["num_steps"]
    ):
        raise RecordError(
            "record lengths are in [%d, %d] and sum to %d; expected lengths in [1, "
            "max_length=%d] summing to num_steps=%d"
            % (lengths.min(), lengths.max(), lengths.sum(dtype=np.int64),
               header["max_length"], header["num_steps"])
        )
    return lengths


def decode_labels(blob, header):
    if not header["has_labels"]:
        return None
    verify_blob(blob, metadata.BLOB_LABELS, header)
    labels = decode_array(blob, "labels", LENGTHS_DTYPE, [header["num_sequences"]])
    c = header["num_classes"]
    bad = (labels < 0) | (labels >= c) if c else labels < 0
    if bad.any():
        i = int(np.argmax(bad))
        raise RecordError(
            "record labels[%d] is %d; expected a class index in [0, %s)"
            % (i, labels[i], c or "num_classes")
        )
    return labels


def decode_probabilities(blob, header):
    if not header["has_probabilities"]:
        return None
    verify_blob(blob, metadata.BLOB_PROBABILITIES, header)
    shape = [header["num_steps"], header["num_classes"]]
    probabilities = decode_array(blob, "probabilities", PROBABILITIES_DTYPE, shape)
    _check_finite("probabilities", probabilities)
    lo, hi = float(probabilities.min()), float(probabilities.max())
    if lo < -_DISTRIBUTION_ATOL or hi > 1.0 + _DISTRIBUTION_ATOL:
        raise RecordError("record probabilities are in [%g, %g]; expected [0, 1]" % (lo, hi))
    off = np.abs(probabilities.sum(axis=1) - 1.0) > _DISTRIBUTION_ATOL
    if off.any():
        i = int(np.argmax(off))
        raise RecordError(
            "record probabilities at step %d sum to %g; expected 1 (within %g)"
            % (i, float(probabilities[i].sum()), _DISTRIBUTION_ATOL)
        )
    return probabilities


def decode_states(blob, header):
    verify_blob(blob, metadata.BLOB_STATES, header)
    shape = [header["num_steps"], header["state_size"]]
    states = decode_array(blob, "states", STATES_DTYPES[header["states_dtype"]], shape)
    _check_finite("states", states)
    return states


def _check_finite(name, array):
    # ~38 ms for 50 MiB of float16 (min/max would take 290 ms: numpy's float16 reductions are slow).
    if not np.isfinite(array).all():
        count = int(np.count_nonzero(~np.isfinite(array)))
        raise RecordError("record %s has %d NaN or Inf values; expected finite numbers"
                          % (name, count))


def decode_vocabulary(blob, header):
    if not header["has_tokens"]:
        return None
    verify_blob(blob, metadata.BLOB_VOCABULARY, header)
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
    verify_blob(blob, metadata.BLOB_TOKEN_IDS, header)
    ids = decode_array(blob, "token_ids", LENGTHS_DTYPE, [header["num_steps"]])
    if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise RecordError(
            "record token ids are in [%d, %d]; expected indices into the vocabulary of %d"
            % (ids.min(), ids.max(), vocabulary_size)
        )
    return ids


# Annotations -----------------------------------------------------------------

_CATEGORICAL_KEYS = frozenset(("name", "kind", "categories"))
_NUMERIC_KEYS = frozenset(("name", "kind", "min", "max"))


def _check_annotations(header):
    """The header's track list is one the writer could write; [] for records before version 3."""
    if header["version"] < metadata.FIRST_ANNOTATED_VERSION:
        if "annotations" in header:
            raise RecordError(
                "record header says format version %d, which has no annotations, but holds "
                "annotations" % header["version"]
            )
        header["annotations"] = []
        return
    tracks = header.get("annotations")
    if not isinstance(tracks, list) or len(tracks) > record_fields.MAX_ANNOTATION_TRACKS:
        raise RecordError(
            "record header has annotations %s; expected a list of at most %d tracks"
            % (_short(tracks), record_fields.MAX_ANNOTATION_TRACKS)
        )
    names = set()
    for i, track in enumerate(tracks):
        what = "record header annotations[%d]" % i
        keys = set(track) if isinstance(track, dict) else None
        if keys not in (_CATEGORICAL_KEYS, _NUMERIC_KEYS):
            raise RecordError(
                "%s is %s; expected {name, kind: categorical, categories} or {name, kind: "
                "numeric, min, max}" % (what, _short(track))
            )
        name = track["name"]
        if (
            not isinstance(name, str)
            or not 0 < len(name) <= record_fields.MAX_ANNOTATION_NAME_LENGTH
            or name in names
        ):
            raise RecordError(
                "%s has the name %s; expected a distinct, non-empty string of at most %d "
                "characters" % (what, _short(name), record_fields.MAX_ANNOTATION_NAME_LENGTH)
            )
        names.add(name)
        if keys == _CATEGORICAL_KEYS:
            _check_categorical_entry(what, track)
        else:
            _check_numeric_entry(what, track)


def _check_categorical_entry(what, track):
    categories = track["categories"]
    if (
        track["kind"] != "categorical"
        or not isinstance(categories, list)
        or not 0 < len(categories) <= record_fields.MAX_ANNOTATION_CATEGORIES
        or not all(isinstance(c, str) for c in categories)
        or len(set(categories)) != len(categories)
    ):
        raise RecordError(
            "%s is a track of kind %s with categories %s; expected kind 'categorical' with "
            "1 to %d distinct strings"
            % (what, _short(track["kind"]), _short(categories),
               record_fields.MAX_ANNOTATION_CATEGORIES)
        )


def _is_finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_numeric_entry(what, track):
    low, high = track["min"], track["max"]
    if (
        track["kind"] != "numeric"
        or not (_is_finite_number(low) and _is_finite_number(high))
        or low > high
    ):
        raise RecordError(
            "%s is a track of kind %s with min %s and max %s; expected kind 'numeric' with "
            "finite numbers min <= max" % (what, _short(track["kind"]), _short(low), _short(high))
        )


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else "%s... (%d characters)" % (text[:limit], len(text))


def decode_annotations(blob, header):
    """The record's tracks (`fields.CategoricalTrack`, `fields.NumericTrack`), in header order.

    [] without tracks (and for records before version 3, which have no annotations blob).
    """
    entries = header["annotations"]
    if not entries:
        return []
    verify_blob(blob, metadata.BLOB_ANNOTATIONS, header)
    p = header["num_steps"]
    dtypes = [_stored_dtype(e["kind"], len(e.get("categories", ()))) for e in entries]
    sizes = [4 * -(-p * dtype.itemsize // 4) for dtype in dtypes]
    if len(blob) != sum(sizes):
        raise RecordError(
            "record blob 'annotations' has %d bytes; expected %d for %d tracks of %d steps"
            % (len(blob), sum(sizes), len(entries), p)
        )
    tracks, offset = [], 0
    for entry, dtype, size in zip(entries, dtypes, sizes):
        values = np.frombuffer(blob, dtype=dtype, count=p, offset=offset)
        offset += size
        tracks.append(_decoded_track(entry, values))
    return tracks


def _decoded_track(entry, values):
    name = entry["name"]
    if entry["kind"] == "categorical":
        count = len(entry["categories"])
        if values.max() >= count:
            raise RecordError(
                "record annotations %r has category codes up to %d; expected indices into its "
                "%d categories" % (name, int(values.max()), count)
            )
        codes = values.astype(record_fields.ANNOTATION_CODES_DTYPE)
        codes.flags.writeable = False
        return record_fields.CategoricalTrack(name, list(entry["categories"]), codes)
    _check_finite("annotations %r" % name, values)
    low, high = float(values.min()), float(values.max())
    if (low, high) != (entry["min"], entry["max"]):
        raise RecordError(
            "record annotations %r has values in [%r, %r]; its header says [%r, %r]"
            % (name, low, high, entry["min"], entry["max"])
        )
    return record_fields.NumericTrack(name, values)
