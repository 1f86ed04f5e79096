"""End to end: annotation tracks logged by the writer are served by a real `tensorboard`
process under both loaders, beside a record of format version 2 (7 blobs, no annotations),
and under a tag the Rust data server cannot read back (read from the event files)."""

import json
import urllib.parse

import numpy as np
import pytest

from tb_rnn_hidden import writer
from tests.e2e.test_tensorboard import LOADERS
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.records import encode_old, write_raw
from tests.support.tensorboard_process import http_get, running_tensorboard

PLUGIN = "/data/plugin/rnn_hidden"
# (run, tag): the quoted tag's blob keys need JSON escapes, which the data server cannot parse.
ANNOTATED = [("train", "lstm"), ("train", 'say "hi"')]


def _get(base, route, **query):
    status, headers, body = http_get(base + PLUGIN + route + "?" + urllib.parse.urlencode(query))
    return status, headers, body


@pytest.mark.parametrize("loader_flag", LOADERS)
def test_annotations_logged_by_the_writer_are_served(tmp_path, loader_flag):
    logdir = str(tmp_path / "logs")
    checkpoints = {step: make_checkpoint(seed=step, n=5 + step, annotations=True)
                   for step in (0, 2)}
    with writer.HiddenStateWriter(logdir + "/train") as w:
        for step, data in checkpoints.items():
            for _, tag in ANNOTATED:
                w.add(tag, step=step, **data)
    old = make_checkpoint(seed=9)
    write_raw(logdir + "/old", "lstm", encode_old(old, 2), step=4, content=b'{"version": 2}')

    with running_tensorboard(logdir, loader_flag, "--rnn_hidden_precompute=none",
                             "--rnn_hidden_cache_dir", str(tmp_path / "cache")) as base:
        for run, tag in ANNOTATED:
            for step, data in checkpoints.items():
                address = dict(run=run, tag=tag, step=step)
                status, _, body = _get(base, "/sequences", **address)
                assert status == 200, body
                info = json.loads(body)
                assert [t["name"] for t in info["annotations"]] == ["depth", "pos", "flag"]
                for entry in info["annotations"]:
                    status, headers, body = _get(base, "/annotations", name=entry["name"],
                                                 **address)
                    assert status == 200, body
                    assert headers["X-Annotation-Kind"] == entry["kind"]
                    expected = valid_steps(data["annotations"][entry["name"]], data["lengths"])
                    if entry["kind"] == "categorical":
                        codes = np.frombuffer(body, "<i4")
                        assert [entry["categories"][c] for c in codes] == expected.tolist()
                    else:
                        np.testing.assert_array_equal(np.frombuffer(body, "<f4"),
                                                      expected.astype(np.float32))
                status, headers, body = _get(base, "/annotations", name="nope", **address)
                assert status == 404 and headers["Content-Type"].startswith("application/json")
                assert "its tracks: 'depth', 'pos', 'flag'" in json.loads(body)["error"]

        status, _, body = _get(base, "/sequences", run="old", tag="lstm", step=4)
        assert status == 200, body
        info = json.loads(body)
        assert info["version"] == 2 and info["annotations"] == []
        assert info["lengths"] == old["lengths"].tolist()
        status, _, body = _get(base, "/annotations", run="old", tag="lstm", step=4, name="depth")
        assert status == 404 and "logged without annotations" in json.loads(body)["error"]


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
