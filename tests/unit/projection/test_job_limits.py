"""What a projection request may cost (issue 12, F4 and F5), through TensorBoard's WSGI app.

The cap on points, the memory estimate, cancelling in every phase of the engines, the
bounded job queue, and jobs started and cancelled only by POST with a JSON body.
"""

import json
import logging
import os
import time

import numpy as np
import pytest

from tb_rnn_hidden import projection
from tb_rnn_hidden import writer
from tb_rnn_hidden.projection import limits
from tests.support.plugin_client import PREFIX
from tests.support.projection_service import body_of, q, small_run


def write_points(logdir, n, t, h, precision="float16", seed=0):
    """A checkpoint of n sequences of t steps (n * t points) of h units."""
    states = np.tanh(np.random.default_rng(seed).standard_normal((n, t, h)).cumsum(axis=1) * 0.1)
    with writer.HiddenStateWriter(logdir) as w:
        w.add("lstm", states.astype(np.float32), step=0, precision=precision)


def post(served, route, body, **kwargs):
    return served.client().post(PREFIX + route, json=body, **kwargs)


# -- the cap on points ---------------------------------------------------------------


def test_4194304_points_are_refused_with_413_naming_the_points_the_cap_and_the_flag(
    logdir, served_factory
):
    write_points(logdir + "/r", n=1024, t=4096, h=1)  # 2**22 points, an 8 MiB record
    served = served_factory(logdir)
    response = post(served, "/projection", body_of(q(method="tsne")))
    assert response.status_code == 413
    message = response.get_json()["error"]
    assert "4194304 points" in message and "1048576" in message
    assert "--rnn_hidden_max_points" in message
    for route in ("/projection", "/projection/points", "/projection/provisional"):
        refused = served.json(PREFIX + route + q(method="pca"), 413)["error"]
        assert "4194304 points" in refused and "--rnn_hidden_max_points" in refused
    assert served.plugin._projections.pool.user_jobs() == 0


def test_the_cap_is_a_flag(logdir, served_factory):
    write_points(logdir + "/r", n=30, t=20, h=4)  # 600 points
    capped = served_factory(logdir, rnn_hidden_max_points=599)
    message = capped.start(q(method="pca"), 413)["error"]
    assert "600 points" in message and "599" in message and "--rnn_hidden_max_points" in message
    assert served_factory(logdir, rnn_hidden_max_points=600).wait_done(q(method="pca"))["state"] == "done"


def test_background_jobs_skip_a_checkpoint_over_the_cap_once_with_a_logged_reason(
    logdir, served_factory, caplog
):
    write_points(logdir + "/big", n=30, t=20, h=4)  # 600 points
    write_points(logdir + "/small", n=10, t=20, h=4)  # 200 points
    caplog.set_level(logging.WARNING)
    served = served_factory(logdir, rnn_hidden_max_points=500, rnn_hidden_precompute="pca",
                            rnn_hidden_precompute_interval=0.1)
    deadline = time.monotonic() + 60
    params = dict(run="small", method="pca", align="neighbor")
    while served.json(PREFIX + "/projection" + q(**params))["state"] != "done":
        assert time.monotonic() < deadline, "the background projector did not lay out 'small'"
        time.sleep(0.05)
    time.sleep(1.0)  # ten more scans: the refused checkpoint is not tried again
    skipped = [r for r in caplog.records if "big" in r.getMessage() and "500" in r.getMessage()]
    assert len(skipped) == 1, [r.getMessage() for r in caplog.records]
    assert "--rnn_hidden_max_points" in skipped[0].getMessage()
    assert all(job.state == "done" for job in served.plugin._projections.pool._jobs.values())


# -- the memory estimate -------------------------------------------------------------


def test_the_memory_estimate_covers_the_measured_peaks():
    # (method, points, state size, measured peak MiB of the engine process; RESULTS.md)
    for method, n, h, peak_mib in [("tsne", 10_000, 64, 244), ("tsne", 40_000, 64, 345),
                                   ("tsne", 40_000, 256, 412), ("tsne", 100_000, 64, 691),
                                   ("pca", 200_000, 256, 534), ("pca", 400_000, 64, 311),
                                   ("umap", 20_000, 64, 1249)]:
        estimate = limits.estimate_bytes(n, h, projection.ProjectionParams(method=method))
        assert peak_mib << 20 <= estimate <= 2 * (peak_mib << 20), (method, n, h, estimate >> 20)


def test_a_projection_that_would_not_fit_in_memory_is_refused_naming_the_estimate():
    tsne = projection.ProjectionParams(method="tsne")
    with pytest.raises(limits.NotEnoughMemory) as refused:
        limits.check_memory(4_194_304, 64, tsne, available=16 << 30)
    message = str(refused.value)
    assert "4194304 points" in message and "16384 MiB available" in message and "PCA" in message
    limits.check_memory(100_000, 256, tsne, available=2 << 30)  # fits


def test_the_route_answers_503_when_the_estimate_exceeds_the_available_memory(
    logdir, served_factory, monkeypatch
):
    small_run(logdir + "/r")
    served = served_factory(logdir)
    # The machine's free memory is what cannot be set up for real in a test.
    monkeypatch.setattr(limits, "available_bytes", lambda: 64 << 20)
    message = served.start(q(method="tsne"), 503)["error"]
    assert "memory" in message and "64 MiB available" in message
    assert served.plugin._projections.pool.user_jobs() == 0
    monkeypatch.undo()
    assert served.wait_done(q(method="pca"))["state"] == "done"


# -- cancel in every phase -------------------------------------------------------------


def _engine_pid(served, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        for job in list(served.plugin._projections.pool._jobs.values()):
            if job.child is not None:
                return job.child._process.pid
        assert time.monotonic() < deadline, "no engine process"
        time.sleep(0.01)


PHASES = [
    # (method, phase prefix, sequences, steps, units, extra parameters)
    ("tsne", ("nearest neighbours", "affinities"), 200, 100, 32, dict(iterations=5000)),
    ("tsne", ("early exaggeration",), 15, 100, 16, dict(iterations=5000)),
    ("tsne", ("optimisation",), 15, 100, 16, dict(iterations=5000)),
    ("pca", ("pca",), 2000, 100, 256, {}),
    ("umap", ("umap",), 100, 100, 16, {}),
]


@pytest.mark.parametrize("method, phases, n, t, h, extra", PHASES,
                         ids=["tsne-affinities", "tsne-early", "tsne-optimisation", "pca", "umap"])
def test_cancel_in_every_phase_frees_the_worker_and_the_memory(
    logdir, served_factory, method, phases, n, t, h, extra
):
    if method == "umap" and not projection.umap_installed():
        pytest.skip("umap-learn is not installed")
    write_points(logdir + "/big", n=n, t=t, h=h)
    write_points(logdir + "/small", n=4, t=6, h=3)
    served = served_factory(logdir)
    big = q(run="big", method=method, align="none", **extra)
    served.start(big)
    pid = _engine_pid(served)
    deadline = time.monotonic() + 120
    while not served.json(PREFIX + "/projection" + big)["phase"].startswith(phases):
        assert time.monotonic() < deadline, served.json(PREFIX + "/projection" + big)
        time.sleep(0.01)
    assert served.cancel(big)["state"] == "cancelled"
    small = q(run="small", method="pca", align="none")
    assert served.wait_done(small, timeout=30)["state"] == "done"
    # The engine process has ended (its memory with it), and the job stays cancelled.
    deadline = time.monotonic() + 10
    while os.path.exists("/proc/%d" % pid) and _running(pid):
        assert time.monotonic() < deadline, "the engine process %d still runs" % pid
        time.sleep(0.05)
    assert served.json(PREFIX + "/projection" + big)["state"] == "none"


def _running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- the bounded queue and the methods ------------------------------------------------


def test_a_flood_of_200_posts_queues_at_most_the_bound_and_answers_429_with_retry_after(
    logdir, served_factory
):
    small_run(logdir + "/r", n=60)
    served = served_factory(logdir, rnn_hidden_max_queued_jobs=8)
    accepted, refused = [], []
    for seed in range(200):
        response = post(served, "/projection", body_of(q(method="tsne", iterations=5000, seed=seed)))
        if response.status_code == 200:
            accepted.append(seed)
            assert response.get_json()["state"] in ("queued", "running")
        else:
            assert response.status_code == 429, response.get_data(as_text=True)
            assert int(response.headers["Retry-After"]) >= 1
            assert "--rnn_hidden_max_queued_jobs" in response.get_json()["error"]
            refused.append(seed)
    assert len(accepted) == 8 and len(refused) == 192
    # Joining a queued job is not refused; a cancel makes room for one more.
    assert served.start(q(method="tsne", iterations=5000, seed=accepted[-1]))["state"] == "queued"
    assert served.cancel(q(method="tsne", iterations=5000, seed=accepted[-1]))["state"] == "cancelled"
    assert served.start(q(method="tsne", iterations=5000, seed=refused[0]))["state"] == "queued"
    for seed in accepted[:-1] + refused[:1]:
        served.cancel(q(method="tsne", iterations=5000, seed=seed))
    assert served.plugin._projections.pool.user_jobs() == 0


def test_get_reports_and_never_starts_a_job(logdir, served_factory):
    small_run(logdir + "/r")
    served = served_factory(logdir)
    for _ in range(3):
        status = served.json(PREFIX + "/projection" + q(method="pca"))
        assert status["state"] == "none" and status["num_points"] > 0
    assert served.plugin._projections.pool.user_jobs() == 0 and not served.plugin._projections.pool._jobs
    assert "POST" in served.json(PREFIX + "/projection" + q(method="pca", retry=1), 400)["error"]
    assert served.wait_done(q(method="pca"))["state"] == "done"  # POST, then GET polls
    assert served.json(PREFIX + "/projection" + q(method="pca"))["state"] == "done"


@pytest.mark.parametrize("route", ["/projection", "/projection/cancel"])
def test_a_post_without_a_json_object_body_is_refused_and_starts_nothing(
    logdir, served_factory, route
):
    small_run(logdir + "/r")
    served = served_factory(logdir)
    client = served.client()
    fields = dict(run="r", tag="lstm", step="0", method="pca")
    form = client.post(PREFIX + route, data=fields)  # what a cross-site HTML form sends
    assert form.status_code == 415 and "application/json" in form.get_json()["error"]
    text = client.post(PREFIX + route, data=json.dumps(fields), content_type="text/plain")
    assert text.status_code == 415
    query = client.post(PREFIX + route + q(method="pca"))  # the old API: no body at all
    assert query.status_code == 415
    for body, fragment in (("[1, 2]", "JSON object"), ("{", "not valid JSON"),
                           ("[" * 5000, "nested too deeply"),
                           ('{"run": "r", "tag": "lstm", "step": "0"}', "'step'"),
                           ('{"run": "r", "tag": "lstm", "step": 0, "retry": 1}', "'retry'"),
                           ('{"run": "r", "tag": "lstm", "step": 0, "colour": 1}', "colour")):
        bad = client.post(PREFIX + route, data=body, content_type="application/json")
        assert bad.status_code == 400 and fragment in bad.get_json()["error"], bad.get_json()
    big = client.post(PREFIX + route, data="{" + " " * (1 << 17) + "}", content_type="application/json")
    assert big.status_code == 413
    assert not served.plugin._projections.pool._jobs


@pytest.mark.parametrize("route, allowed", [
    ("/projection", "GET, POST, HEAD"),
    ("/projection/cancel", "POST"),
    ("/projection/points", "GET, HEAD"),
    ("/projection/provisional", "GET, HEAD"),
])
def test_other_methods_are_405_with_an_allow_header(logdir, served_factory, route, allowed):
    small_run(logdir + "/r")
    served = served_factory(logdir)
    methods = {"PUT", "DELETE", "PATCH", "OPTIONS", "GET", "POST"} - set(allowed.split(", "))
    for method in sorted(methods):
        response = served.client().open(PREFIX + route + q(method="pca"), method=method,
                                        json=body_of(q(method="pca")))
        assert response.status_code == 405, (method, response.status_code)
        assert response.headers["Allow"] == allowed
        assert method in response.get_json()["error"]
    assert not served.plugin._projections.pool._jobs
