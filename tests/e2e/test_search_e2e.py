"""End to end: GET /search and GET /neighbors of a real `tensorboard`, under both loaders,
answer what plain loops over the logged tokens and states find."""

import json
import urllib.parse

import numpy as np
import pytest

from tb_rnn_hidden import writer
from tests.e2e.test_tensorboard import LOADERS
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.tensorboard_process import http_get, running_tensorboard

ROUTE = "/data/plugin/rnn_hidden"
RUN = 'say "hi"'  # read from the event files by the plugin under the Rust data server


def get_json(base, route, **params):
    query = urllib.parse.urlencode(dict(run=RUN, tag="lstm", step=2, **params))
    status, _, body = http_get(base + ROUTE + route + "?" + query)
    return status, json.loads(body)


@pytest.mark.parametrize("loader_flag", LOADERS)
def test_search_and_neighbors_answer_as_loops_over_the_logged_data(tmp_path, loader_flag):
    logdir = str(tmp_path / "logs")
    data = make_checkpoint(seed=4, n=10, t=12, h=8)
    with writer.HiddenStateWriter(logdir + "/" + RUN) as w:
        w.add("lstm", step=2, **data)
    tokens = list(valid_steps(data["tokens"], data["lengths"]))
    states = valid_steps(data["states"], data["lengths"]).astype(np.float16).astype(np.float64)
    offsets = np.concatenate([[0], np.cumsum(data["lengths"])])

    with running_tensorboard(logdir, loader_flag) as base:
        status, body = get_json(base, "/search", q="the film", mode="exact")
        assert status == 200, body
        expected = [p for i in range(len(data["lengths"]))
                    for p in range(offsets[i], offsets[i + 1] - 1)
                    if tokens[p : p + 2] == ["the", "film"]]
        assert expected and [h["point"] for h in body["hits"]] == expected
        status, body = get_json(base, "/search", q="he f", mode="regex")
        assert status == 200 and [h["point"] for h in body["hits"]] == expected

        status, body = get_json(base, "/neighbors", point=7, k=5)
        assert status == 200, body
        distances = np.linalg.norm(states - states[7], axis=1)
        distances[7] = np.inf
        nearest = np.argsort(distances, kind="stable")[:5].tolist()
        assert [n["point"] for n in body["neighbors"]] == nearest

        status, body = get_json(base, "/search", q="(not", mode="regex")
        assert status == 400 and "'q' is not a valid regular expression" in body["error"]
        status, body = get_json(base, "/neighbors", point=len(states))
        assert status == 400 and "'point'" in body["error"]
