"""The plugin's projection routes served over TensorBoard's WSGI app, for the projection
tests (tests/unit/projection/): a served plugin with its own flags, checkpoints like an
RNN's, and the query strings and JSON bodies of the projection routes."""

import json
import time

import numpy as np
import werkzeug
import werkzeug.test

from tb_rnn_hidden import writer
from tb_rnn_hidden.server import loader as plugin_loader
from tb_rnn_hidden.server import plugin as rnn_hidden_plugin
from tests.support.plugin_client import PREFIX, make_data_provider, plugin_flags


def hidden_like(seed, n=40, t=25, h=16, drift=None, base=None):
    """tanh states of n sequences wandering among a few attractors, as an RNN's would."""
    rng = np.random.default_rng(seed)
    if base is None:
        centres = rng.standard_normal((5, h)) * 2.0
        which = rng.integers(0, 5, size=(n, t))
        noise = np.cumsum(rng.standard_normal((n, t, h)) * 0.15, axis=1)
        base = centres[which] + noise
    if drift is not None:
        base = base + drift * rng.standard_normal(base.shape)
    return base, np.tanh(base).astype(np.float32)


def write_run(logdir, checkpoints, tag="lstm"):
    """checkpoints: {step: (states [N, T, H], lengths)}."""
    with writer.HiddenStateWriter(logdir) as w:
        for step, (states, lengths) in checkpoints.items():
            w.add(tag, states, step=step, lengths=lengths, precision="float32")


class Served:
    """The plugin in TensorBoard's WSGI app with its own flags; clients per thread."""

    def __init__(self, logdir, cache_dir, **flags):
        from tensorboard.backend import application
        from tensorboard.plugins import base_plugin

        flags.setdefault("rnn_hidden_precompute", "none")  # tests of background work ask for it
        flags = plugin_flags(rnn_hidden_cache_dir=str(cache_dir), **flags)
        plugin_loader.RnnHiddenLoader().fix_flags(flags)
        provider = make_data_provider(logdir, flags.samples_per_plugin)
        context = base_plugin.TBContext(logdir=logdir, data_provider=provider, flags=flags)
        self.plugin = rnn_hidden_plugin.RnnHiddenPlugin(context)
        self.app = application.TensorBoardWSGI([self.plugin], data_provider=provider)

    def client(self):
        return werkzeug.test.Client(self.app, werkzeug.Response)

    def get(self, path, code=200, method="GET"):
        response = self.client().open(path, method=method)
        assert response.status_code == code, (response.status_code, response.get_data(as_text=True))
        return response

    def json(self, path, code=200, method="GET"):
        response = self.get(path, code, method)
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.get_data())

    def array(self, path):
        response = self.get(path)
        assert response.headers["Content-Type"] == "application/octet-stream"
        shape = tuple(int(d) for d in response.headers["X-Array-Shape"].split(","))
        dtype = np.dtype(response.headers["X-Array-Dtype"])
        return np.frombuffer(response.get_data(), dtype=dtype).reshape(shape), response

    def start(self, q, code=200, route="/projection"):
        """POSTs the query string `q` as the JSON body that starts (or joins) a job."""
        response = self.client().post(PREFIX + route, json=body_of(q))
        assert response.status_code == code, (response.status_code, response.get_data(as_text=True))
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.get_data())

    def cancel(self, q, code=200):
        return self.start(q, code, route="/projection/cancel")

    def wait_done(self, q, timeout=60):
        self.start(q)
        deadline = time.monotonic() + timeout
        while True:
            status = self.json(PREFIX + "/projection" + q)
            if status["state"] not in ("queued", "running"):
                return status
            assert time.monotonic() < deadline, status
            time.sleep(0.05)

    def close(self):
        self.plugin._projections.close()


def q(run="r", tag="lstm", step=0, **params):
    params = dict(run=run, tag=tag, step=step, **params)
    return "?" + "&".join("%s=%s" % kv for kv in params.items())


def body_of(q):
    """The JSON body of POST /projection for the query string `q`."""
    body = dict(pair.split("=", 1) for pair in q.lstrip("?").split("&") if pair)
    body["step"] = int(body["step"])
    if "retry" in body:
        body["retry"] = body["retry"] in ("1", "true")
    return body


def small_run(logdir, steps=(0,), n=30, t=20, h=12, seed=0):
    rng = np.random.default_rng(seed + 100)
    lengths = rng.integers(t // 2, t + 1, size=n)
    lengths[0] = t
    base, states = hidden_like(seed, n, t, h)
    checkpoints = {}
    for i, step in enumerate(steps):
        if i:
            base, states = hidden_like(seed, drift=0.05, base=base)
        checkpoints[step] = (states, lengths)
    write_run(logdir, checkpoints)
    return checkpoints
