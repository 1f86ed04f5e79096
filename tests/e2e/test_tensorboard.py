"""End to end: a real `tensorboard` process finds the installed plugin and serves every checkpoint."""

import json

import numpy as np
import pytest

from tb_rnn_hidden import writer
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.tensorboard_process import http_get, running_tensorboard


def _rust_data_server_available():
    try:
        from tensorboard_data_server import server_binary

        return server_binary() is not None
    except ImportError:
        return False


# The plugin must work with TensorBoard's Python loader and its Rust data server.
LOADERS = [
    pytest.param("--load_fast=false", id="python-loader"),
    pytest.param(
        "--load_fast=true",
        id="rust-data-server",
        marks=pytest.mark.skipif(
            not _rust_data_server_available(),
            reason="this tensorboard-data-server wheel has no Rust binary",
        ),
    ),
]


@pytest.mark.parametrize("loader_flag", LOADERS)
def test_real_tensorboard_lists_the_plugin_and_serves_all_checkpoints(tmp_path, loader_flag):
    logdir = str(tmp_path / "logs")
    checkpoints = {step: make_checkpoint(seed=step) for step in range(12)}
    with writer.HiddenStateWriter(logdir + "/train") as w:
        for step, data in checkpoints.items():
            w.add("lstm", step=step, **data)

    with running_tensorboard(logdir, loader_flag) as base:
        status, _, body = http_get(base + "/data/plugins_listing")
        assert status == 200
        listing = json.loads(body)
        assert listing["rnn_hidden"]["enabled"] is True
        assert listing["rnn_hidden"]["loading_mechanism"]["module_path"].endswith("/index.js")

        status, headers, body = http_get(base + "/data/plugin/rnn_hidden/index.js")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")

        status, _, body = http_get(base + "/data/plugin/rnn_hidden/tags")
        # 12 > the 10 samples TensorBoard keeps of an unknown plugin: the loader's default works.
        assert json.loads(body)["train"]["lstm"]["steps"] == list(range(12))

        status, headers, body = http_get(
            base + "/data/plugin/rnn_hidden/states?run=train&tag=lstm&step=11"
        )
        assert status == 200
        served = np.frombuffer(body, dtype="<f2").reshape(
            [int(d) for d in headers["X-Array-Shape"].split(",")]
        )
        data = checkpoints[11]
        np.testing.assert_array_equal(
            served, valid_steps(data["states"], data["lengths"]).astype(np.float16)
        )

        status, headers, body = http_get(
            base + "/data/plugin/rnn_hidden/sequences?run=train&tag=lstm&step=oops"
        )
        assert status == 400 and "expected an integer" in json.loads(body)["error"]
        status, _, body = http_get(base + "/data/plugin/rnn_hidden/sequences?run=x&tag=lstm&step=1")
        assert status == 404 and "error" in json.loads(body)


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
