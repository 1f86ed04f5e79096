"""Records as no writer would write them: damaged bytes, forged headers, other plugin data."""

import json

import google_crc32c
import numpy as np

from tb_rnn_hidden import writer
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata
from tb_rnn_hidden.records import summary
from tests.support.checkpoints import make_checkpoint


def write_raw(logdir, tag, blobs, step=0, content=None):
    """One record of our plugin with the given blobs (and plugin data `content`), as an event file."""
    with writer.HiddenStateWriter(logdir) as w:
        w.add_summary(raw_summary(tag, blobs, content), step)


def raw_summary(tag, blobs, content=None):
    """A `Summary` of our plugin holding `blobs` as they are (and plugin data `content`)."""
    summary_metadata = metadata.create_summary_metadata()
    if content is not None:
        summary_metadata.plugin_data.content = content
    return summary.blobs_pb(tag, blobs, summary_metadata)


def forge(header_changes=None, data=None, **blob_arrays):
    """A good record of `data` (make_checkpoint()) with header fields and blobs replaced.

    The checksums are made to match, so what is left wrong is what the writer's
    validation would have refused: only decoding's validation can catch it.
    """
    blobs = list(codec.encode_checkpoint(**(data or make_checkpoint())))
    for name, array in blob_arrays.items():
        blobs[metadata.BLOB_NAMES.index(name)] = np.asarray(array).tobytes()
    header = json.loads(blobs[metadata.BLOB_HEADER])
    header.update(header_changes or {})
    if "header_crc32c" in header:  # format version 2 on
        header["blob_crc32c"] = [google_crc32c.value(blob) for blob in blobs[1:]]
        rest = {k: v for k, v in header.items() if k != "header_crc32c"}
        header["header_crc32c"] = google_crc32c.value(
            json.dumps(rest, sort_keys=True, separators=(",", ":")).encode("ascii")
        )
    blobs[metadata.BLOB_HEADER] = json.dumps(header).encode()
    return blobs


# The header fields of format versions 1 and 2, as their encoders wrote them
# (version 2 added the checksums, version 3 "annotations" and blob 7).
_V1_FIELDS = (
    "version", "num_sequences", "max_length", "state_size", "num_steps", "num_classes",
    "class_names", "states_dtype", "has_tokens", "has_labels", "has_probabilities",
)


def encode_old(data, version):
    """A record of `data` as format version 1 or 2 wrote it: 7 blobs, no annotations."""
    assert version in (1, 2)
    blobs = list(codec.encode_checkpoint(**data))[: metadata.BLOB_ANNOTATIONS]
    header = json.loads(blobs[metadata.BLOB_HEADER])
    header = {k: header[k] for k in _V1_FIELDS}
    header["version"] = version
    if version == 2:
        header["blob_crc32c"] = [google_crc32c.value(blob) for blob in blobs[1:]]
        header["header_crc32c"] = google_crc32c.value(
            json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")
        )
    blobs[metadata.BLOB_HEADER] = json.dumps(header).encode()
    return blobs


def flip_byte(blobs, index, position=None, mask=0x10):
    """`blobs` with one byte of blob `index` changed (in its middle by default)."""
    blobs = list(blobs)
    blob = bytearray(blobs[index])
    blob[len(blob) // 2 if position is None else position] ^= mask
    blobs[index] = bytes(blob)
    return blobs
