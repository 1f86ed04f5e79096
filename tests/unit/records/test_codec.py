"""The record codec: format version 2's checksums, version 1 records, newer versions refused."""

import json

import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st

from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata
from tests.support.checkpoints import make_checkpoint, valid_steps

# The header fields of format version 1, as its encoder wrote them (no checksums).
_V1_FIELDS = (
    "version", "num_sequences", "max_length", "state_size", "num_steps", "num_classes",
    "class_names", "states_dtype", "has_tokens", "has_labels", "has_probabilities",
)


def encode_v1(data):
    """A record as tb-rnn-hidden 0.x (format version 1) wrote it: the same blobs, no checksums."""
    blobs = list(codec.encode_checkpoint(**data))
    header = json.loads(blobs[metadata.BLOB_HEADER])
    header["version"] = 1
    blobs[metadata.BLOB_HEADER] = json.dumps({k: header[k] for k in _V1_FIELDS}).encode()
    return blobs


def decode_all(blobs):
    """Every part of a record, decoded as the reader decodes it."""
    header = codec.decode_header(blobs[metadata.BLOB_HEADER])
    vocabulary = codec.decode_vocabulary(blobs[metadata.BLOB_VOCABULARY], header)
    return dict(
        header=header,
        lengths=codec.decode_lengths(blobs[metadata.BLOB_LENGTHS], header),
        labels=codec.decode_labels(blobs[metadata.BLOB_LABELS], header),
        probabilities=codec.decode_probabilities(blobs[metadata.BLOB_PROBABILITIES], header),
        states=codec.decode_states(blobs[metadata.BLOB_STATES], header),
        vocabulary=vocabulary,
        token_ids=codec.decode_token_ids(
            blobs[metadata.BLOB_TOKEN_IDS], header, len(vocabulary or ())
        ),
    )


def assert_decodes_to(blobs, data):
    decoded = decode_all(blobs)
    lengths = data["lengths"]
    np.testing.assert_array_equal(decoded["lengths"], lengths)
    np.testing.assert_array_equal(decoded["labels"], data["labels"])
    np.testing.assert_array_equal(
        decoded["probabilities"], valid_steps(data["probabilities"], lengths)
    )
    np.testing.assert_array_equal(
        decoded["states"], valid_steps(data["states"], lengths).astype(np.float16)
    )
    tokens = [decoded["vocabulary"][i] for i in decoded["token_ids"]]
    assert tokens == list(valid_steps(data["tokens"], lengths))
    return decoded


def test_version_2_records_carry_a_checksum_of_every_blob_and_of_the_header():
    data = make_checkpoint()
    blobs = codec.encode_checkpoint(**data)
    header = assert_decodes_to(blobs, data)["header"]
    assert metadata.PROTO_VERSION == 2 and header["version"] == 2
    assert len(header["blob_crc32c"]) == metadata.NUM_BLOBS - 1
    assert isinstance(header["header_crc32c"], int)


def test_version_1_records_without_checksums_are_still_read():
    data = make_checkpoint(seed=3)
    blobs = encode_v1(data)
    assert "blob_crc32c" not in json.loads(blobs[metadata.BLOB_HEADER])
    assert assert_decodes_to(blobs, data)["header"]["version"] == 1


def test_a_newer_version_is_refused_before_anything_else_is_checked():
    blobs = codec.encode_checkpoint(**make_checkpoint())
    header = json.loads(blobs[metadata.BLOB_HEADER])
    header["version"] = 3
    header["num_sequences"] = "laid out differently"
    with pytest.raises(codec.NewerRecordError, match="format version 3.*upgrade"):
        codec.decode_header(json.dumps(header).encode())


def test_a_version_2_record_claiming_version_1_is_corrupt():
    """0x32 -> 0x31 is one flipped bit; it must not turn the checksums off."""
    blobs = codec.encode_checkpoint(**make_checkpoint())
    flipped = blobs[metadata.BLOB_HEADER].replace(b'"version": 2', b'"version": 1')
    with pytest.raises(codec.RecordError, match="version 1, which has no checksums"):
        codec.decode_header(flipped)


@pytest.mark.parametrize("index", range(1, metadata.NUM_BLOBS))
def test_a_flipped_byte_in_any_blob_fails_its_checksum(index):
    blobs = list(codec.encode_checkpoint(**make_checkpoint()))
    blob = bytearray(blobs[index])
    blob[len(blob) // 2] ^= 0x01
    blobs[index] = bytes(blob)
    name = metadata.BLOB_NAMES[index]
    with pytest.raises(codec.RecordError, match="blob '%s' fails its checksum" % name):
        decode_all(blobs)


def test_a_changed_header_value_fails_the_header_checksum():
    blobs = codec.encode_checkpoint(**make_checkpoint())
    changed = blobs[metadata.BLOB_HEADER].replace(b"class 1", b"class 7")
    assert changed != blobs[metadata.BLOB_HEADER]
    with pytest.raises(codec.RecordError, match="header fails its checksum"):
        codec.decode_header(changed)


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(data=st.data())
def test_any_flipped_bits_anywhere_are_caught(data):
    """Whatever byte of whichever blob is damaged, decoding says so (or says "upgrade")."""
    blobs = list(codec.encode_checkpoint(**make_checkpoint(n=3, t=4, h=2)))
    index = data.draw(st.sampled_from([i for i in range(metadata.NUM_BLOBS) if blobs[i]]))
    position = data.draw(st.integers(0, len(blobs[index]) - 1))
    mask = data.draw(st.integers(1, 255))
    blob = bytearray(blobs[index])
    blob[position] ^= mask
    blobs[index] = bytes(blob)
    with pytest.raises(codec.RecordError):
        decode_all(blobs)


def test_sizes_are_computed_without_overflow():
    with pytest.raises(codec.RecordError, match="has 8 bytes; expected 92233720368547758080"):
        codec.decode_array(b"\0" * 8, "states", np.float32, [2**62, 5])
