"""Annotation tracks served through TensorBoard's real data provider: /sequences lists them,
/annotations streams one; records of format versions 1 and 2 (7 blobs) are still served,
a newer version is refused (422), a damaged one is named (500).
"""

import json
import urllib.parse

import numpy as np
import pytest
from tensorboard import context

from tb_rnn_hidden import writer
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata
from tb_rnn_hidden.server import reader as checkpoint_reader
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.plugin_client import PREFIX, make_client, make_data_provider
from tests.support.records import encode_old, flip_byte, forge, write_raw


def get(client, route, run="train", tag="lstm", step=1, **extra):
    query = urllib.parse.urlencode(dict(dict(run=run, tag=tag, step=step), **extra))
    return client.get(PREFIX + route + "?" + query)


def error_of(response):
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.get_data())["error"]


def served_track(client, name, **address):
    response = get(client, "/annotations", name=name, **address)
    assert response.status_code == 200, response.get_data(as_text=True)
    dtype = np.dtype(response.headers["X-Array-Dtype"]).newbyteorder("<")
    assert response.headers["X-Array-Shape"] == str(len(response.get_data()) // dtype.itemsize)
    return response.headers["X-Annotation-Kind"], np.frombuffer(response.get_data(), dtype)


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    """A run with an annotated checkpoint (step 1) and one without annotations (step 2)."""
    logdir = str(tmp_path_factory.mktemp("logs"))
    data = make_checkpoint(seed=4, n=7, t=11, annotations=True)
    data["annotations"]["score"] = np.linspace(-3.5, 1e30, 7 * 11).reshape(7, 11)
    with writer.HiddenStateWriter(logdir + "/train") as w:
        w.add("lstm", step=1, **data)
        w.add("lstm", step=2, **make_checkpoint(seed=5))
    return logdir, data


def test_sequences_lists_the_tracks_and_annotations_serves_each(annotated):
    logdir, data = annotated
    client = make_client(logdir)
    info = json.loads(get(client, "/sequences").get_data())
    assert info["version"] == metadata.PROTO_VERSION == 3
    assert [t["name"] for t in info["annotations"]] == ["depth", "pos", "flag", "score"]
    lengths = data["lengths"]
    for entry in info["annotations"]:
        expected = valid_steps(np.asarray(data["annotations"][entry["name"]]), lengths)
        kind, values = served_track(client, entry["name"])
        assert kind == entry["kind"] and len(values) == info["num_steps"]
        if kind == "categorical":
            assert values.dtype == np.int32
            assert entry["categories"] == sorted(set(expected.tolist()))
            assert [entry["categories"][c] for c in values] == expected.tolist()
        else:
            assert values.dtype == np.float32
            np.testing.assert_array_equal(values, expected.astype(np.float32))
            assert (entry["min"], entry["max"]) == (float(values.min()), float(values.max()))


def test_a_track_name_is_required_and_an_unknown_one_lists_the_tracks(annotated):
    client = make_client(annotated[0])
    missing = get(client, "/annotations")
    assert missing.status_code == 400
    assert "missing query parameter 'name'" in error_of(missing)
    unknown = get(client, "/annotations", name="Depth")
    assert unknown.status_code == 404
    assert error_of(unknown).endswith(
        "no annotation track 'Depth'; its tracks: 'depth', 'pos', 'flag', 'score'")
    none = get(client, "/annotations", step=2, name="depth")
    assert none.status_code == 404
    assert "its tracks: none (logged without annotations)" in error_of(none)
    assert json.loads(get(client, "/sequences", step=2).get_data())["annotations"] == []
    head = client.head(PREFIX + "/annotations?run=train&tag=lstm&step=1&name=flag")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["X-Annotation-Kind"] == "numeric"


def test_the_reader_decodes_the_tracks_once(annotated):
    logdir, _ = annotated
    flags_provider = make_data_provider(logdir, {})
    reader = checkpoint_reader.CheckpointReader(flags_provider)
    ctx = context.RequestContext()
    first = reader.checkpoint(ctx, "", "train", "lstm", 1).annotations
    again = reader.checkpoint(ctx, "", "train", "lstm", 1).annotations
    assert again is first
    assert [(t.name, t.kind) for t in first] == [
        ("depth", "numeric"), ("pos", "categorical"), ("flag", "numeric"), ("score", "numeric")]
    assert first[1].codes.dtype == np.int32 and first[0].values.dtype == np.float32
    assert reader.checkpoint(ctx, "", "train", "lstm", 2).annotations == []


@pytest.mark.parametrize("version", [1, 2])
def test_records_of_format_versions_1_and_2_are_served_without_annotations(logdir, version):
    """Real old records: 7 blobs, their own header layout, their plugin data version."""
    data = make_checkpoint(seed=version)
    blobs = encode_old(data, version)
    write_raw(logdir + "/old", "lstm", blobs, step=1,
              content=json.dumps({"version": version}).encode())
    client = make_client(logdir)
    listing = json.loads(client.get(PREFIX + "/tags").get_data())
    assert listing["old"]["lstm"]["version"] == version
    info = json.loads(get(client, "/sequences", run="old").get_data())
    assert info["version"] == version and info["annotations"] == []
    assert info["lengths"] == data["lengths"].tolist()
    states = get(client, "/states", run="old", dtype="float32")
    assert states.status_code == 200
    np.testing.assert_array_equal(
        np.frombuffer(states.get_data(), "<f4"),
        valid_steps(data["states"], data["lengths"]).astype(np.float16).astype(np.float32).ravel())
    tokens = get(client, "/tokens", run="old")
    assert [info["vocabulary"][i] for i in np.frombuffer(tokens.get_data(), "<i4")] == list(
        valid_steps(data["tokens"], data["lengths"]))
    assert get(client, "/annotations", run="old", name="depth").status_code == 404


def test_a_newer_record_is_refused_whatever_its_blob_count(logdir):
    """Version 4 may lay out any number of blobs: "upgrade" (422), not "corrupt"."""
    blobs = forge({"version": metadata.PROTO_VERSION + 1}) + [b"future"]
    write_raw(logdir + "/run", "future", blobs)
    client = make_client(logdir)
    for route, extra in (("/sequences", {}), ("/annotations", {"name": "depth"})):
        response = get(client, route, run="run", tag="future", step=0, **extra)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert "format version 4" in error_of(response) and "upgrade" in error_of(response)


@pytest.mark.parametrize("blobs, words", [
    (codec.encode_checkpoint(**make_checkpoint())[:7], "format version 3 has 7 blobs; expected 8"),
    (encode_old(make_checkpoint(), 2) + [b""], "format version 2 has 8 blobs; expected 7"),
    (flip_byte(codec.encode_checkpoint(**make_checkpoint(annotations=True)),
               metadata.BLOB_ANNOTATIONS), "blob 'annotations' fails its checksum"),
    (forge({"annotations": [{"name": "depth", "kind": "numeric", "min": 0, "max": 1}]}),
     "blob 'annotations' has 0 bytes; expected"),
])
def test_a_damaged_record_is_named_on_the_annotations_route(logdir, blobs, words):
    write_raw(logdir + "/run", "bad", blobs)
    client = make_client(logdir)
    route = get(client, "/annotations", run="run", tag="bad", step=0, name="depth")
    sequences = get(client, "/sequences", run="run", tag="bad", step=0)
    damaged_header = "blobs; expected" in words
    for response in (route, sequences) if damaged_header else (route,):
        assert response.status_code == 500, response.get_data(as_text=True)
        assert error_of(response).startswith("corrupt hidden-state record: ")
        assert words in error_of(response)
