"""End to end (issue 12, F5): a flood of projection requests against a real `tensorboard`
process under its default loader queues at most `--rnn_hidden_max_queued_jobs` jobs and
answers the rest 429 with Retry-After; GET never starts a job; a cross-site form cannot."""

import concurrent.futures
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from tb_rnn_hidden import writer
from tests.support.tensorboard_process import http_get, http_post_json, running_tensorboard

BOUND = 16  # the default of --rnn_hidden_max_queued_jobs
ROUTE = "/data/plugin/rnn_hidden/projection"


def _body(seed, **extra):
    return dict(run="train", tag="lstm", step=0, method="tsne", iterations=5000, seed=seed, **extra)


def _write(logdir):
    rng = np.random.default_rng(0)
    with writer.HiddenStateWriter(logdir + "/train") as w:
        # 5,000 points: a t-SNE takes far longer than the flood, so none ends during it.
        states = np.tanh(rng.standard_normal((100, 50, 16)).cumsum(axis=1) * 0.2)
        w.add("lstm", states.astype(np.float32), step=0)
        w.add("small", np.tanh(rng.standard_normal((4, 6, 3))).astype(np.float32), step=0)


def test_a_flood_of_200_posts_queues_at_most_the_bound_and_the_rest_get_429(tmp_path):
    logdir = str(tmp_path / "logs")
    _write(logdir)
    with running_tensorboard(logdir, "--rnn_hidden_cache_dir", str(tmp_path / "cache"),
                             "--rnn_hidden_precompute", "none") as base:
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda seed: (seed, http_post_json(base + ROUTE, _body(seed))),
                                    range(200)))
        accepted = [seed for seed, (code, _, _) in answers if code == 200]
        refused = [(seed, headers, body) for seed, (code, headers, body) in answers if code == 429]
        assert len(accepted) == BOUND, [(s, a[0]) for s, a in answers]
        assert len(refused) == 200 - BOUND
        for _, headers, body in refused:
            assert int(headers["Retry-After"]) >= 1
            assert headers["Content-Type"].startswith("application/json")
            assert "--rnn_hidden_max_queued_jobs" in json.loads(body)["error"]

        # GET only reports: a refused request has no job, and asking does not start one.
        seed = refused[0][0]
        query = urllib.parse.urlencode(_body(seed))
        for _ in range(3):
            status = json.loads(http_get(base + ROUTE + "?" + query)[2])
            assert status["state"] == "none", status
        states = {json.loads(http_get(base + ROUTE + "?" + urllib.parse.urlencode(_body(s)))[2])["state"]
                  for s in accepted}
        assert states <= {"queued", "running"}, states
        assert http_get(base + "/data/plugin/rnn_hidden/tags")[0] == 200  # TensorBoard answers

        # What a page of another site can send: a form (415), or a preflight (405, no CORS).
        form = urllib.request.Request(base + ROUTE, data=urllib.parse.urlencode(_body(seed)).encode(),
                                      method="POST")
        try:
            urllib.request.urlopen(form, timeout=30)
            raise AssertionError("a form POST was accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 415
        preflight = urllib.request.Request(base + ROUTE, method="OPTIONS", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        try:
            urllib.request.urlopen(preflight, timeout=30)
            raise AssertionError("a preflight was answered")
        except urllib.error.HTTPError as e:
            assert e.code == 405 and "Access-Control-Allow-Origin" not in e.headers

        # Cancelling every accepted job frees the queue and the worker: a small job completes.
        for s in accepted:
            code, _, body = http_post_json(base + ROUTE + "/cancel", _body(s))
            assert code == 200 and json.loads(body)["state"] == "cancelled", body
        small = dict(run="train", tag="small", step=0, method="pca")
        code, _, body = http_post_json(base + ROUTE, small)
        assert code == 200, body
        query = urllib.parse.urlencode(small)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = json.loads(http_get(base + ROUTE + "?" + query)[2])
            if status["state"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert status["state"] == "done", status
