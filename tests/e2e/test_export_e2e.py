"""End to end: a notebook's `pandas.read_csv(url)` of GET /export on a real `tensorboard`,
under both loaders, reads every point of the layout with what was logged there, as the
other routes serve it; before the layout exists it is told how to start it."""

import io
import json
import urllib.error
import urllib.parse

import numpy as np
import pandas as pd
import pytest

from tb_rnn_hidden import writer
from tests.e2e.test_tensorboard import LOADERS
from tests.support.checkpoints import make_checkpoint
from tests.support.tensorboard_process import http_get, http_post_json, running_tensorboard

ROUTE = "/data/plugin/rnn_hidden/"
RUN = 'say "hi"'  # read from the event files by the plugin under the Rust data server
TOKENS = ["a,b", 'say "hi"', "line\nbreak", "=1+1", "NA", "007", "", "ünï", "plain"]
QUERY = dict(run=RUN, tag="lstm", step=2, method="tsne", perplexity=5, iterations=250, seed=1)
READ_AS_LOGGED = dict(keep_default_na=False, dtype={"token": str, "label_name": str,
                                                    "prediction_name": str})


def url_of(base, route, **query):
    return base + ROUTE + route + "?" + urllib.parse.urlencode(query)


def served_array(base, route, **query):
    status, headers, body = http_get(url_of(base, route, **query))
    assert status == 200, body
    shape = [int(d) for d in headers["X-Array-Shape"].split(",")]
    return np.frombuffer(body, headers["X-Array-Dtype"]).reshape(shape)


@pytest.mark.parametrize("loader_flag", LOADERS)
def test_pandas_reads_the_layout_a_notebook_asks_for(tmp_path, loader_flag):
    logdir = str(tmp_path / "logs")
    data = make_checkpoint(seed=8, n=12, t=9, h=6)
    data["tokens"] = np.array([[TOKENS[(i + j) % len(TOKENS)] for j in range(9)] for i in range(12)],
                              dtype=object)
    data["class_names"] = ["pos,itive", 'neg "a"', "=neutral"]
    with writer.HiddenStateWriter(logdir + "/" + RUN) as w:
        w.add("lstm", step=2, **data)

    with running_tensorboard(logdir, loader_flag, "--rnn_hidden_precompute=none",
                             "--rnn_hidden_cache_dir", str(tmp_path / "cache")) as base:
        url = url_of(base, "export", **QUERY)
        # Not laid out yet: GET never starts the job, and says how to.
        with pytest.raises(urllib.error.HTTPError) as refused:
            pd.read_csv(url)
        assert refused.value.code == 409
        body = json.loads(refused.value.read())
        assert body["state"] == "none" and "POST /projection" in body["error"]

        status, _, started = http_post_json(base + ROUTE + "projection", QUERY)
        assert status == 200, started
        table = pd.read_csv(url + "&wait=60", **READ_AS_LOGGED)

        meta = json.loads(http_get(url_of(base, "sequences", run=RUN, tag="lstm", step=2))[2])
        address = dict(run=RUN, tag="lstm", step=2)
        coords = served_array(base, "projection/points", **QUERY)
        probabilities = served_array(base, "probabilities", **address)
        tokens = [meta["vocabulary"][i] for i in served_array(base, "tokens", **address)]
        lengths = np.array(meta["lengths"])
        sequences = np.repeat(np.arange(len(lengths)), lengths)
        assert list(table.columns) == ["sequence", "step", "x", "y", "token", "label", "label_name",
                                       "prediction", "prediction_name", "confidence"]
        np.testing.assert_array_equal(table["sequence"], sequences)
        np.testing.assert_array_equal(table["step"], np.concatenate([np.arange(n) for n in lengths]))
        np.testing.assert_array_equal(table[["x", "y"]].to_numpy(np.float32), coords)
        assert table["token"].tolist() == tokens and set(TOKENS) <= set(tokens)
        np.testing.assert_array_equal(table["label"], np.array(meta["labels"])[sequences])
        assert table["label_name"].tolist() == [meta["class_names"][k] for k in table["label"]]
        np.testing.assert_array_equal(table["prediction"], probabilities.argmax(axis=1))
        np.testing.assert_array_equal(table["confidence"].to_numpy(np.float32),
                                      probabilities.max(axis=1))
        # The plain read works too, and the NPZ holds the same columns.
        assert len(pd.read_csv(url)) == len(coords)
        status, headers, npz_bytes = http_get(url_of(base, "export", format="npz", **QUERY))
        assert status == 200 and headers["Content-Type"] == "application/zip"
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
            np.testing.assert_array_equal(npz["x"], coords[:, 0])
            assert npz["token"].tolist() == tokens

        status, _, missing = http_get(url_of(base, "export", **dict(QUERY, step=3)))
        assert status == 404 and "error" in json.loads(missing)
