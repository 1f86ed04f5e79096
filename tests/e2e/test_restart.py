"""End to end: a training restarted in the same log dir, under a running `tensorboard`.

Steps 0-15 are written, served and cached; the training restarts at step 10
and writes steps 10-14 again with other data. Once TensorBoard's reload has
picked the new file up, the rewritten steps serve their new data and step 15,
no longer listed, is 404: under the Rust data server and the Python loader.
"""

import json
import time

import numpy as np
import pytest

from tests.e2e.test_tensorboard import LOADERS
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.tensorboard_process import http_get, running_tensorboard
from tests.support.trainings import write_training

ROUTE = "/data/plugin/rnn_hidden"
RESTART_SEED = 1000


def _states(base, step):
    status, headers, body = http_get(base + ROUTE + "/states?run=train&tag=lstm&step=%d" % step)
    assert status == 200, body
    shape = tuple(int(d) for d in headers["X-Array-Shape"].split(","))
    return np.frombuffer(body, dtype=headers["X-Array-Dtype"]).reshape(shape)


def _expected_states(seed):
    data = make_checkpoint(seed=seed)
    return valid_steps(data["states"], data["lengths"]).astype(np.float16)


def _listed_steps(base):
    status, _, body = http_get(base + ROUTE + "/tags")
    assert status == 200, body
    return json.loads(body).get("train", {}).get("lstm", {}).get("steps")


@pytest.mark.parametrize("loader_flag", LOADERS)
def test_a_restarted_training_is_served_with_its_new_data(tmp_path, loader_flag):
    logdir = str(tmp_path / "logs")
    write_training(logdir + "/train", range(16), seed=0)

    with running_tensorboard(logdir, loader_flag) as base:  # --reload_interval 1
        deadline = time.time() + 60
        while _listed_steps(base) != list(range(16)) and time.time() < deadline:
            time.sleep(0.5)
        for step in (3, 10, 14, 15):  # read, and cached by the plugin
            np.testing.assert_array_equal(_states(base, step), _expected_states(step))
            assert http_get(base + ROUTE + "/sequences?run=train&tag=lstm&step=%d" % step)[0] == 200

        write_training(logdir + "/train", range(10, 15), seed=RESTART_SEED)
        deadline = time.time() + 60
        while _listed_steps(base) != list(range(15)):
            assert time.time() < deadline, "still listed: %s" % _listed_steps(base)
            time.sleep(0.5)

        for step in (10, 12, 14):
            np.testing.assert_array_equal(_states(base, step), _expected_states(RESTART_SEED + step))
            status, _, body = http_get(
                base + ROUTE + "/sequences?run=train&tag=lstm&step=%d" % step
            )
            expected_labels = make_checkpoint(seed=RESTART_SEED + step)["labels"].tolist()
            assert status == 200 and json.loads(body)["labels"] == expected_labels
        np.testing.assert_array_equal(_states(base, 3), _expected_states(3))
        for route in ("/sequences", "/states", "/distances"):
            status, _, body = http_get(base + ROUTE + route + "?run=train&tag=lstm&step=15")
            assert status == 404, (route, status, body[:200])
            assert "no checkpoint at step 15" in json.loads(body)["error"]
