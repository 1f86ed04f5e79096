"""Plugin name, plugin-data versioning and the blob layout of one checkpoint record.

Every record is a rank-1 `DT_STRING` tensor stored as a TensorBoard blob
sequence (`DATA_CLASS_BLOB_SEQUENCE`), so the backend can read the small
blobs (header, lengths, labels) of a checkpoint without touching the large
hidden-state blob when the data provider supports per-blob reads.
"""

import json

from tensorboard.compat.proto import summary_pb2

PLUGIN_NAME = "rnn_hidden"

# Version of the plugin data and of the record layout below. Readers refuse
# records with a larger version instead of misreading them. Version 2 added
# the header's checksums (schema/record_header.json "checksums"); version 3
# the annotation tracks (the header's "annotations" and blob 7). Version 1 and
# 2 records, with 7 blobs, are still read (as without annotations).
PROTO_VERSION = 3

# Index of each blob in a record.
BLOB_HEADER = 0  # UTF-8 JSON: shapes, dtypes, class names, flags.
BLOB_LENGTHS = 1  # little-endian int32 [N]: valid steps per sequence.
BLOB_LABELS = 2  # little-endian int32 [N], or empty.
BLOB_PROBABILITIES = 3  # little-endian float32 [P, C], or empty.
BLOB_STATES = 4  # little-endian float16 or float32 [P, H].
BLOB_VOCABULARY = 5  # UTF-8 JSON list of distinct tokens, or empty.
BLOB_TOKEN_IDS = 6  # little-endian int32 [P] indices into the vocabulary, or empty.
# Version 3 on: every annotation track in the header's order, each its P values
# padded with zero bytes to a multiple of 4: a categorical track's codes
# (indices into its header "categories") as uint8 when it has at most 256
# categories, else little-endian uint16; a numeric track's little-endian
# float32 values. Empty without tracks.
BLOB_ANNOTATIONS = 7
NUM_BLOBS = 8
BLOB_NAMES = (
    "header", "lengths", "labels", "probabilities", "states", "vocabulary", "token_ids",
    "annotations",
)
# P is the number of valid (non-padding) steps: sum(lengths). Steps are
# stored sequence after sequence, padding removed.
FIRST_ANNOTATED_VERSION = 3


def num_blobs(version):
    """How many blobs a record of format `version` has (7 before version 3)."""
    return NUM_BLOBS if version >= FIRST_ANNOTATED_VERSION else BLOB_ANNOTATIONS


def create_summary_metadata(display_name=None, description=None):
    """The `SummaryMetadata` written with the first record of a tag."""
    content = json.dumps({"version": PROTO_VERSION}).encode("utf-8")
    return summary_pb2.SummaryMetadata(
        display_name=display_name or "",
        summary_description=description or "",
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=content
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )


class NewerPluginDataError(ValueError):
    """Plugin data written by a newer tb-rnn-hidden than this one."""


def parse_plugin_metadata(content):
    """Returns the plugin data as a dict; raises ValueError if unreadable or too new."""
    if not isinstance(content, bytes):
        raise TypeError("Content type not bytes: %r" % type(content).__name__)
    try:
        parsed = json.loads(content.decode("utf-8")) if content else {}
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("plugin data is not JSON: %s" % e)
    if not isinstance(parsed, dict):
        raise ValueError("plugin data is not a JSON object: %r" % (parsed,))
    version = parsed.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ValueError("plugin data has version %r; expected an integer >= 0" % (version,))
    if version > PROTO_VERSION:
        raise NewerPluginDataError(
            "plugin data has version %d; this tb-rnn-hidden reads versions up to %d "
            "(upgrade tb-rnn-hidden)" % (version, PROTO_VERSION)
        )
    return parsed
