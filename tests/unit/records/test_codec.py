"""The record codec: format version 3's annotations, version 2's checksums, version 1 and 2
records still read, newer versions refused."""

import json
import re

import google_crc32c
import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st

from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.records import encode_old, forge


def encode_v1(data):
    """A record as tb-rnn-hidden 0.x (format version 1) wrote it: 7 blobs, no checksums."""
    return encode_old(data, 1)


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
        annotations=codec.decode_annotations(
            blobs[metadata.BLOB_ANNOTATIONS] if len(blobs) > metadata.BLOB_ANNOTATIONS else None,
            header,
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
    assert_tracks_equal(decoded["annotations"], data.get("annotations") or {}, lengths)
    return decoded


def assert_tracks_equal(tracks, annotations, lengths):
    """Decoded tracks hold exactly the logged values at valid steps, in the order given."""
    assert [track.name for track in tracks] == list(annotations)
    for track, given in zip(tracks, annotations.values()):
        expected = valid_steps(np.asarray(given), lengths)
        if track.kind == "categorical":
            assert track.codes.dtype == np.int32
            assert track.categories == sorted(set(expected.tolist()))
            assert [track.categories[c] for c in track.codes] == expected.tolist()
        else:
            assert track.values.dtype == np.float32
            np.testing.assert_array_equal(track.values, expected.astype(np.float32))


def test_version_3_records_hold_annotations_in_one_blob_with_its_checksum():
    data = make_checkpoint(annotations=True)
    blobs = codec.encode_checkpoint(**data)
    assert len(blobs) == metadata.NUM_BLOBS == 8
    header = assert_decodes_to(blobs, data)["header"]
    assert metadata.PROTO_VERSION == 3 and header["version"] == 3
    assert len(header["blob_crc32c"]) == metadata.NUM_BLOBS - 1
    assert isinstance(header["header_crc32c"], int)
    depth, pos, flag = header["annotations"]
    assert depth == {"name": "depth", "kind": "numeric", "min": 0.0,
                     "max": float(valid_steps(data["annotations"]["depth"], data["lengths"]).max())}
    assert pos["kind"] == "categorical" and "<b>&amp;</b>" in pos["categories"]
    assert flag == {"name": "flag", "kind": "numeric", "min": 0.0, "max": 1.0}
    p = header["num_steps"]
    # uint8 codes and float32 values, each track padded to 4 bytes.
    assert len(blobs[metadata.BLOB_ANNOTATIONS]) == 4 * p + 4 * -(-p // 4) + 4 * p


def test_version_3_records_without_annotations_have_an_empty_list_and_blob():
    data = make_checkpoint()
    blobs = codec.encode_checkpoint(**data)
    assert blobs[metadata.BLOB_ANNOTATIONS] == b""
    assert assert_decodes_to(blobs, data)["header"]["annotations"] == []


def test_categories_beyond_256_are_stored_as_uint16_codes():
    n, t = 30, 20
    words = np.array(["w%03d" % k for k in range(n * t)]).reshape(n, t)
    blobs = codec.encode_checkpoint(np.zeros((n, t, 2), np.float32), annotations={"word": words})
    assert len(blobs[metadata.BLOB_ANNOTATIONS]) == 2 * n * t
    header = codec.decode_header(blobs[metadata.BLOB_HEADER])
    (track,) = codec.decode_annotations(blobs[metadata.BLOB_ANNOTATIONS], header)
    assert [track.categories[c] for c in track.codes] == words.reshape(-1).tolist()


@pytest.mark.parametrize("version", [1, 2])
def test_version_1_and_2_records_of_seven_blobs_are_still_read_without_annotations(version):
    data = make_checkpoint(seed=3)
    blobs = encode_old(dict(data, annotations=make_checkpoint(annotations=True)["annotations"]),
                       version)
    assert len(blobs) == 7
    stored = json.loads(blobs[metadata.BLOB_HEADER])
    assert "annotations" not in stored and ("blob_crc32c" in stored) == (version == 2)
    decoded = assert_decodes_to(blobs, data)
    assert decoded["header"]["version"] == version
    assert decoded["header"]["annotations"] == [] and decoded["annotations"] == []
    with pytest.raises(codec.RecordError, match="version %d has 8 blobs; expected 7" % version):
        codec.check_blob_count(decoded["header"], 8)


def test_a_version_2_record_with_annotations_is_corrupt():
    blobs = encode_old(make_checkpoint(), 2)
    header = json.loads(blobs[metadata.BLOB_HEADER])
    header["annotations"] = []
    header.pop("header_crc32c")
    header["header_crc32c"] = google_crc32c.value(
        json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii"))
    with pytest.raises(codec.RecordError, match="version 2, which has no annotations"):
        codec.decode_header(json.dumps(header).encode())


def test_a_newer_version_is_refused_before_anything_else_is_checked():
    blobs = codec.encode_checkpoint(**make_checkpoint())
    header = json.loads(blobs[metadata.BLOB_HEADER])
    header["version"] = metadata.PROTO_VERSION + 1
    header["num_sequences"] = "laid out differently"
    with pytest.raises(codec.NewerRecordError, match="format version 4.*upgrade"):
        codec.decode_header(json.dumps(header).encode())


@pytest.mark.parametrize("claimed", [b"1", b"2"])
def test_a_version_3_record_claiming_an_older_version_is_corrupt(claimed):
    """0x33 -> 0x31 or 0x32 is one flipped bit; it must not turn checksums or annotations off."""
    blobs = codec.encode_checkpoint(**make_checkpoint(annotations=True))
    flipped = blobs[metadata.BLOB_HEADER].replace(b'"version": 3', b'"version": ' + claimed)
    message = {b"1": "version 1, which has no checksums",
               b"2": "header fails its checksum"}[claimed]
    with pytest.raises(codec.RecordError, match=message):
        codec.decode_header(flipped)


# Corrupt annotations: headers that lie consistently (forge makes the checksums match).
_FORGED_ANNOTATIONS = [
    ({"annotations": {"depth": 1}}, "annotations {'depth': 1}; expected a list"),
    ({"annotations": [{"name": "x", "kind": "numeric"}]}, "annotations[0] is {'name'"),
    ({"annotations": [{"name": "", "kind": "numeric", "min": 0, "max": 1}]},
     "the name ''; expected a distinct, non-empty string"),
    ({"annotations": [{"name": "x", "kind": "numeric", "min": 2, "max": 1}]},
     "min 2 and max 1; expected kind 'numeric' with finite numbers min <= max"),
    ({"annotations": [{"name": "x", "kind": "numeric", "min": 0, "max": True}]},
     "max True"),
    ({"annotations": [{"name": "x", "kind": "categorical", "categories": ["a", "a"]}]},
     "expected kind 'categorical' with 1 to 65536 distinct strings"),
    ({"annotations": [{"name": "x", "kind": "numeric", "categories": ["a"]}]},
     "kind 'numeric' with categories"),
    ({"annotations": [{"name": "x", "kind": "numeric", "min": 0, "max": 1}] * 65},
     "expected a list of at most 64 tracks"),
]


@pytest.mark.parametrize("changes, message", _FORGED_ANNOTATIONS)
def test_a_forged_annotations_header_is_a_named_corrupt_record(changes, message):
    blobs = forge(changes, data=make_checkpoint(annotations=True))
    with pytest.raises(codec.RecordError, match=re.escape(message)):
        codec.decode_header(blobs[metadata.BLOB_HEADER])


def _tracks_of(blobs):
    header = codec.decode_header(blobs[metadata.BLOB_HEADER])
    return codec.decode_annotations(blobs[metadata.BLOB_ANNOTATIONS], header)


def test_forged_annotation_values_are_named_corrupt_records():
    data = make_checkpoint(annotations=True)
    good = codec.encode_checkpoint(**data)
    p = json.loads(good[metadata.BLOB_HEADER])["num_steps"]
    pad = b"\0" * (-p % 4)
    depth = np.frombuffer(good[metadata.BLOB_ANNOTATIONS][: 4 * p], np.float32)
    flag = np.zeros(p, np.float32)
    cases = [
        (np.full(p, 0, np.float32).tobytes() + np.full(p, 99, np.uint8).tobytes() + pad
         + flag.tobytes(), "annotations 'depth' has values in [0.0, 0.0]; its header says"),
        (depth.tobytes() + np.full(p, 99, np.uint8).tobytes() + pad + flag.tobytes(),
         "annotations 'pos' has category codes up to 99"),
        (depth.tobytes()[:-4] + np.float32(np.nan).tobytes()
         + np.zeros(p, np.uint8).tobytes() + pad + flag.tobytes(),
         "annotations 'depth' has 1 NaN or Inf"),
        (depth.tobytes(), "blob 'annotations' has %d bytes; expected" % (4 * p)),
    ]
    for blob, message in cases:
        blobs = forge({}, data=data)
        blobs[metadata.BLOB_ANNOTATIONS] = blob
        blobs = forge_checksums(blobs)
        with pytest.raises(codec.RecordError, match=re.escape(message)):
            _tracks_of(blobs)


def forge_checksums(blobs):
    """`blobs` with the header's checksums made to match them."""
    header = json.loads(blobs[metadata.BLOB_HEADER])
    header["blob_crc32c"] = [google_crc32c.value(blob) for blob in blobs[1:]]
    rest = {k: v for k, v in header.items() if k != "header_crc32c"}
    header["header_crc32c"] = google_crc32c.value(
        json.dumps(rest, sort_keys=True, separators=(",", ":")).encode("ascii"))
    return blobs[:metadata.BLOB_HEADER] + [json.dumps(header).encode()] + blobs[1:]


@pytest.mark.parametrize("index", range(1, metadata.NUM_BLOBS))
def test_a_flipped_byte_in_any_blob_fails_its_checksum(index):
    blobs = list(codec.encode_checkpoint(**make_checkpoint(annotations=True)))
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
    blobs = list(codec.encode_checkpoint(**make_checkpoint(n=3, t=4, h=2, annotations=True)))
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
