"""Projection jobs, caching and routes against real event files and TensorBoard's WSGI app.

`projection.project` is wrapped (not replaced) where a test counts its calls:
the real engine always runs.
"""

import glob
import json
import os
import threading
import time

import numpy as np
import pytest
from scipy.spatial import procrustes

from tb_rnn_hidden import projection
from tb_rnn_hidden.projection import isolated
from tb_rnn_hidden.server import loader as plugin_loader
from tests.support.plugin_client import PREFIX, plugin_flags
from tests.support.projection_service import hidden_like, q, small_run, write_run


@pytest.fixture
def counted(monkeypatch):
    """Counts calls of the real `isolated.compute` (the engine in its child process):
    (params, with init?, reference, first row)."""
    calls = []
    real = isolated.compute

    def wrapper(points, params, **kwargs):
        first = np.asarray(points[:1], np.float32).copy()
        calls.append((params, kwargs.get("init") is not None, kwargs.get("reference"), first))
        return real(points, params, **kwargs)

    monkeypatch.setattr(isolated, "compute", wrapper)
    return calls


def valid_rows(states, lengths):
    return np.concatenate([states[i, :length] for i, length in enumerate(lengths)])

def test_pca_points_in_states_order(logdir, served_factory, counted):
    checkpoints = small_run(logdir + "/r")
    served = served_factory(logdir)
    first = served.start(q(method="pca"))
    assert first["state"] in ("queued", "running", "done")
    assert first["params"]["method"] == "pca" and first["aligned_to"] is None
    status = served.wait_done(q(method="pca"))
    assert status["state"] == "done" and status["progress"] == 1.0
    states, _ = served.array(PREFIX + "/states" + q(dtype="float32"))
    assert status["num_points"] == len(states) == int(checkpoints[0][1].sum())
    coords, response = served.array(PREFIX + "/projection/points" + q(method="pca"))
    assert coords.shape == (len(states), 2) and coords.dtype == np.float32
    assert json.loads(response.headers["X-Projection-Params"])["method"] == "pca"
    from sklearn.decomposition import PCA

    reference = PCA(2, svd_solver="full").fit_transform(states.astype(np.float64))
    for k in range(2):  # equal up to the sign of each component
        sign = np.sign(np.dot(coords[:, k], reference[:, k]))
        np.testing.assert_allclose(coords[:, k] * sign, reference[:, k], atol=1e-3)
    assert len(counted) == 1


def test_tsne_deterministic_and_duplicate_lands_together(logdir, served_factory, tmp_path):
    base, states = hidden_like(1, n=20, t=15, h=10)
    states[7, 3] = states[2, 5]  # a duplicated point
    lengths = np.full(20, 15)
    write_run(logdir + "/r", {0: (states, lengths)})
    params = dict(method="tsne", iterations=50, perplexity=10, seed=3)
    a = served_factory(logdir, tmp_path / "c1")
    b = served_factory(logdir, tmp_path / "c2")
    for served in (a, b):
        assert served.wait_done(q(**params))["state"] == "done"
    ya, _ = a.array(PREFIX + "/projection/points" + q(**params))
    yb, _ = b.array(PREFIX + "/projection/points" + q(**params))
    np.testing.assert_array_equal(ya, yb)
    i, j = 2 * 15 + 5, 7 * 15 + 3  # rows of the duplicate in /states order
    spread = np.linalg.norm(ya - ya.mean(0), axis=1).mean()
    assert np.linalg.norm(ya[i] - ya[j]) < 0.05 * spread


def test_concurrent_identical_requests_share_one_job(logdir, served_factory, counted):
    small_run(logdir + "/r", n=60)
    served = served_factory(logdir)
    params = dict(method="tsne", iterations=50, perplexity=15)
    barrier = threading.Barrier(6)
    answers = []

    def hit():
        barrier.wait()
        answers.append(served.start(q(**params)))

    threads = [threading.Thread(target=hit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6
    assert served.wait_done(q(**params))["state"] == "done"
    for _ in range(3):
        assert served.json(PREFIX + "/projection" + q(**params))["state"] == "done"
    assert len(counted) == 1


def test_disk_cache_survives_restart_and_corruption_is_recomputed(
    logdir, served_factory, counted, tmp_path, caplog
):
    small_run(logdir + "/r")
    cache = tmp_path / "shared-cache"
    params = dict(method="tsne", iterations=50, perplexity=10)
    first = served_factory(logdir, cache)
    assert first.wait_done(q(**params))["cached"] is False
    y1, _ = first.array(PREFIX + "/projection/points" + q(**params))
    assert len(counted) == 1

    second = served_factory(logdir, cache)
    status = second.json(PREFIX + "/projection" + q(**params))
    assert status["state"] == "done" and status["cached"] is True
    y2, _ = second.array(PREFIX + "/projection/points" + q(**params))
    np.testing.assert_array_equal(y1, y2)
    assert len(counted) == 1

    (result,) = glob.glob(str(cache / "v*" / "results" / "*.bin"))
    data = bytearray(open(result, "rb").read())
    data[-5] ^= 0xFF  # flip bits of the payload
    open(result, "wb").write(bytes(data))
    third = served_factory(logdir, cache)
    assert third.json(PREFIX + "/projection/points" + q(**params), 409)["state"] == "none"
    assert "corrupt" in caplog.text
    assert third.wait_done(q(**params))["cached"] is False
    assert len(counted) == 2
    y3, _ = third.array(PREFIX + "/projection/points" + q(**params))
    np.testing.assert_array_equal(y1, y3)

    with open(result, "r+b") as f:  # a partial file
        f.truncate(os.path.getsize(result) // 2)
    fourth = served_factory(logdir, cache)
    assert fourth.wait_done(q(**params))["cached"] is False
    assert len(counted) == 3
    fifth = served_factory(logdir, cache)
    assert fifth.json(PREFIX + "/projection" + q(**params))["cached"] is True


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ("&method=isomap", "method"),
        ("&perplexity=abc", "perplexity"),
        ("&iterations=3", "iterations"),
        ("&colour=red", "colour"),
        ("&align=sideways", "align"),
    ],
)
def test_bad_params_are_400_naming_the_parameter(logdir, served_factory, extra, fragment):
    small_run(logdir + "/r")
    served = served_factory(logdir)
    for route in ("/projection", "/projection/points"):
        body = served.json(PREFIX + route + q() + extra, 400)
        assert fragment in body["error"]
    for route in ("/projection", "/projection/cancel"):
        assert fragment in served.start(q() + extra, 400, route)["error"]


def test_unknown_checkpoint_is_404_and_missing_job(logdir, served_factory):
    small_run(logdir + "/r")
    served = served_factory(logdir)
    assert "step 9" in served.start(q(step=9), 404)["error"]
    assert served.start(q(run="nope"), 404)["error"]
    assert "'step'" in served.json(PREFIX + "/projection?run=r&tag=lstm", 400)["error"]
    response = served.client().post(PREFIX + "/projection", json=dict(run="r", tag="lstm"))
    assert response.status_code == 400 and "'step'" in response.get_json()["error"]
    assert served.cancel(q(method="pca"), 404)
    body = served.json(PREFIX + "/projection/points" + q(method="pca"), 409)
    assert body["state"] == "none" and "/projection" in body["error"]


def test_perplexity_too_large_for_the_points_fails_the_job(logdir, served_factory, counted):
    write_run(logdir + "/r", {0: (hidden_like(2, n=3, t=4, h=3)[1], np.full(3, 4))})
    served = served_factory(logdir)
    status = served.wait_done(q(method="tsne", perplexity=30))
    assert status["state"] == "failed" and "perplexity" in status["error"]
    assert "lower the perplexity" in status["error"]  # what to do
    assert status["retryable"] is False and status["layout"] is None
    assert served.json(PREFIX + "/projection/points" + q(method="tsne", perplexity=30), 409)[
        "state"
    ] == "failed"
    # A retry could only fail again: it is not started.
    again = served.start(q(method="tsne", perplexity=30, retry=1))
    assert again["state"] == "failed" and len(counted) == 1


def test_an_internal_failure_is_retryable(logdir, served_factory, monkeypatch):
    small_run(logdir + "/r")
    real = isolated.compute
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("out of memory")
        return real(*args, **kwargs)

    monkeypatch.setattr(isolated, "compute", flaky)
    served = served_factory(logdir)
    status = served.wait_done(q(method="pca"))
    assert status["state"] == "failed" and status["retryable"] is True
    assert "MemoryError" in status["error"]
    assert served.json(PREFIX + "/projection" + q(method="pca"))["state"] == "failed"  # polling
    served.start(q(method="pca", retry=1))
    assert served.wait_done(q(method="pca"))["state"] == "done" and len(calls) == 2


def test_cancel_a_long_tsne_job(logdir, served_factory, monkeypatch):
    base, states = hidden_like(4, n=100, t=30, h=16)
    write_run(logdir + "/r", {0: (states, np.full(100, 30))})
    outcome = []
    real = isolated.compute

    def wrapper(*args, **kwargs):
        started = time.monotonic()
        try:
            return real(*args, **kwargs)
        except BaseException as e:
            outcome.append((type(e), time.monotonic() - started))
            raise

    monkeypatch.setattr(isolated, "compute", wrapper)
    served = served_factory(logdir)
    params = dict(method="tsne", iterations=5000)
    served.start(q(**params))
    deadline = time.monotonic() + 30
    while served.json(PREFIX + "/projection" + q(**params))["phase"] not in (
        "early exaggeration",
        "optimisation",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    status = served.cancel(q(**params))
    assert status["state"] == "cancelled"
    deadline = time.monotonic() + 20
    while not outcome:
        assert time.monotonic() < deadline, "the engine did not stop"
        time.sleep(0.05)
    assert outcome[0][0] is projection.Cancelled
    assert served.cancel(q(**params), 404)
    # A new request starts a new job.
    assert served.start(q(**params))["state"] in ("queued", "running")
    assert served.cancel(q(**params))["state"] == "cancelled"


def test_align_neighbor_follows_the_previous_checkpoint(logdir, served_factory, counted):
    small_run(logdir + "/r", steps=(10, 20), n=30, t=20, h=12)
    served = served_factory(logdir)
    params = dict(method="tsne", iterations=100, perplexity=15, align="neighbor")
    first = served.wait_done(q(step=10, **params))
    assert first["state"] == "done" and first["aligned_to"] is None
    second = served.wait_done(q(step=20, **params))
    assert second["state"] == "done" and second["aligned_to"] == 10
    assert counted[-1][1] is True  # the engine got an init...
    reference = counted[-1][2]  # ...and the neighbour's layout info as its reference
    assert reference["reference_trustworthiness"] == first["layout"]["reference_trustworthiness"]
    assert second["layout"]["aligned_to"] == 10 and second["layout"]["mode"] in ("warm", "relayout")
    y10, _ = served.array(PREFIX + "/projection/points" + q(step=10, **params))
    y20, response = served.array(PREFIX + "/projection/points" + q(step=20, **params))
    assert json.loads(response.headers["X-Projection-Aligned-To"]) == 10
    cold = dict(params, align="none", seed=7)
    assert served.wait_done(q(step=20, **cold))["aligned_to"] is None
    y20_cold, _ = served.array(PREFIX + "/projection/points" + q(step=20, **cold))
    aligned = procrustes(y10, y20)[2]
    independent = procrustes(y10, y20_cold)[2]
    assert aligned < 0.5 * independent, (aligned, independent)
    # Stable once computed: served again (also after a restart) with the same neighbour.
    again = served_factory(logdir, served.plugin._projections.disk.directory)
    assert again.json(PREFIX + "/projection" + q(step=20, **params))["aligned_to"] == 10


def test_precompute_aligns_new_checkpoints(logdir, served_factory, counted):
    small_run(logdir + "/r", steps=(1, 2, 3))
    served = served_factory(
        logdir, rnn_hidden_precompute="pca", rnn_hidden_precompute_interval=0.2
    )
    params = dict(method="pca", align="neighbor")
    deadline = time.monotonic() + 30
    while len(counted) < 3:
        assert time.monotonic() < deadline, counted
        time.sleep(0.05)
    statuses = [served.wait_done(q(step=s, **params)) for s in (1, 2, 3)]
    # Before anyone asks, newest first (the tab opens there), each aligned to the one after.
    assert [s["aligned_to"] for s in statuses] == [2, 3, None]
    assert [c[0].method for c in counted] == ["pca"] * 3
    time.sleep(0.5)  # further scans find everything stored
    assert len(counted) == 3


def test_tensorboard_answers_while_a_job_runs(logdir, served_factory):
    base, states = hidden_like(5, n=160, t=25, h=32)
    write_run(logdir + "/r", {0: (states, np.full(160, 25))})
    served = served_factory(logdir)
    params = dict(method="tsne", iterations=100)
    served.start(q(**params))
    latencies = []
    deadline = time.monotonic() + 60
    while True:
        status = served.json(PREFIX + "/projection" + q(**params))
        if status["state"] != "running" and status["state"] != "queued":
            break
        if status["state"] == "running":
            started = time.monotonic()
            served.json(PREFIX + "/tags")
            latencies.append(time.monotonic() - started)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status["state"] == "done"
    assert len(latencies) >= 5
    assert max(latencies) < 0.2, latencies


def test_flags_defaults_and_validation(monkeypatch, tmp_path):
    import argparse

    from tb_rnn_hidden.projection import cache as projection_cache

    flags = plugin_flags()
    assert flags.rnn_hidden_projection_workers == 1
    assert flags.rnn_hidden_precompute == "tsne"
    assert flags.rnn_hidden_cache_dir is None  # resolved by the plugin:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert projection_cache.default_cache_dir() == str(tmp_path / "tb_rnn_hidden" / "projections")
    parser = argparse.ArgumentParser()
    plugin_loader.RnnHiddenLoader().define_flags(parser)
    parsed = parser.parse_args(["--rnn_hidden_projection_workers", "3", "--rnn_hidden_precompute", "tsne"])
    assert parsed.rnn_hidden_projection_workers == 3 and parsed.rnn_hidden_precompute == "tsne"
    for bad in (["--rnn_hidden_projection_workers", "0"], ["--rnn_hidden_precompute", "umap"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


@pytest.mark.skipif(not projection.umap_available(), reason="umap-learn is not installed")
def test_umap_job_served_in_point_order_and_aligned(logdir, served_factory):
    checkpoints = small_run(logdir + "/r", steps=(0, 1))
    served = served_factory(logdir)
    first = served.wait_done(q(step=0, method="umap", n_neighbors=10, align="neighbor"), timeout=180)
    assert first["state"] == "done" and first["aligned_to"] is None, first
    coords, response = served.array(PREFIX + "/projection/points" + q(step=0, method="umap",
                                                                      n_neighbors=10,
                                                                      align="neighbor"))
    assert coords.shape == (int(checkpoints[0][1].sum()), 2) and np.isfinite(coords).all()
    sent = json.loads(response.headers["X-Projection-Params"])
    assert sent["method"] == "umap" and sent["n_neighbors"] == 10 and sent["perplexity"] == 30
    following = served.wait_done(q(step=1, method="umap", n_neighbors=10, align="neighbor"),
                                 timeout=180)
    assert following["state"] == "done" and following["aligned_to"] == 0, following
    assert following["layout"]["mode"] == "rotated" and following["layout"]["trustworthiness"] > 0.5


def test_status_says_what_the_layout_is_and_keeps_it_across_restarts(logdir, served_factory):
    small_run(logdir + "/r")
    params = dict(method="tsne", perplexity=15, iterations=300)
    served = served_factory(logdir)
    status = served.wait_done(q(**params))
    layout = status["layout"]
    assert layout["method"] == "tsne" and layout["mode"] == "cold" and layout["aligned_to"] is None
    assert layout["early_exaggeration_iterations"] == 250
    assert 50 <= layout["iterations"] <= 300 and isinstance(layout["converged"], bool)
    assert layout["iterations"] == 300 or layout["converged"]
    states, _ = served.array(PREFIX + "/states" + q(dtype="float32"))
    coords, _ = served.array(PREFIX + "/projection/points" + q(**params))
    from tb_rnn_hidden.projection import quality

    assert layout["trustworthiness"] == pytest.approx(quality.trustworthiness(states, coords), abs=1e-5)
    assert layout["kl_divergence"] > 0 and layout["seconds"] > 0
    again = served_factory(logdir, served.plugin._projections.disk.directory)
    stored = again.json(PREFIX + "/projection" + q(**params))
    assert stored["cached"] is True and stored["layout"] == layout


def test_provisional_layout_is_the_checkpoints_pca_at_once(logdir, served_factory, counted):
    checkpoints = small_run(logdir + "/r", steps=(0, 1))
    served = served_factory(logdir)
    started = time.monotonic()
    coords, response = served.array(PREFIX + "/projection/provisional" + q(step=1))
    assert time.monotonic() - started < 1.0
    assert response.headers["X-Projection-Provisional"] == "pca"
    states, _ = served.array(PREFIX + "/states" + q(step=1, dtype="float32"))
    assert coords.shape == (len(states), 2) == (int(checkpoints[1][1].sum()), 2)
    from sklearn.decomposition import PCA

    reference = PCA(2, svd_solver="full").fit_transform(states.astype(np.float64))
    for k in range(2):  # up to the sign of each axis
        sign = np.sign(np.dot(coords[:, k], reference[:, k]))
        np.testing.assert_allclose(coords[:, k] * sign, reference[:, k], atol=1e-3)
    assert counted == []  # no job: computed in the request
    assert served.json(PREFIX + "/projection/points" + q(step=1), 409)["state"] == "none"
    assert "step 7" in served.json(PREFIX + "/projection/provisional" + q(step=7), 404)["error"]
    assert "metric" in served.json(PREFIX + "/projection/provisional" + q(metric="l1"), 400)["error"]


def test_info_offers_only_what_this_installation_can_run(logdir, served_factory, monkeypatch):
    small_run(logdir + "/r")
    served = served_factory(logdir, rnn_hidden_precompute="pca")
    info = served.json(PREFIX + "/info")
    methods = {m["name"]: m for m in info["methods"]}
    assert set(methods) == {"tsne", "pca", "umap"}
    assert methods["umap"]["available"] == projection.umap_installed()
    assert info["background"] == "pca"
    specs = {p["name"]: p for p in info["params"]}
    assert specs["perplexity"]["methods"] == ["tsne"] and specs["n_neighbors"]["methods"] == ["umap"]
    assert specs["iterations"]["default"] == projection.ProjectionParams().iterations
    assert specs["metric"]["choices"] == ["euclidean", "cosine"]
    monkeypatch.setattr(projection, "umap_installed", lambda: False)
    umap = {m["name"]: m for m in served.json(PREFIX + "/info")["methods"]}["umap"]
    assert umap["available"] is False and "pip install tb-rnn-hidden[umap]" in umap["reason"]
    assert served_factory(logdir).json(PREFIX + "/info")["background"] is None


def test_background_lays_out_the_focused_layer_outwards_from_what_is_on_screen(
    logdir, served_factory, counted
):
    small_run(logdir + "/r", steps=(0, 1, 2, 3, 4))
    small_run(logdir + "/other", steps=(0, 1), seed=1)
    served = served_factory(logdir, rnn_hidden_precompute="pca", rnn_hidden_precompute_interval=60)
    background = served.plugin._projections.background
    # Before anyone asks: every layer newest first (the tab opens on the newest).
    plan = [(t[1], t[3]) for t in background.plan()]
    assert plan == [("other", 1), ("other", 0), ("r", 4), ("r", 3), ("r", 2), ("r", 1), ("r", 0)]
    params = dict(method="pca", align="neighbor")
    # A user looks at step 2: its layer comes first, outwards from step 2.
    served.start(q(step=2, **params))
    plan = [(t[1], t[3]) for t in background.plan()]
    assert plan == [("r", 2), ("r", 1), ("r", 3), ("r", 0), ("r", 4), ("other", 1), ("other", 0)]
    assert all(t[4] == projection.ProjectionParams(**params) for t in background.plan())


def test_background_projection_lays_out_everything_unasked_and_chains_alignment(
    logdir, served_factory, counted
):
    checkpoints = small_run(logdir + "/r", steps=(0, 1, 2, 3, 4))
    served = served_factory(logdir, rnn_hidden_precompute="pca", rnn_hidden_precompute_interval=60)
    params = dict(method="pca", align="neighbor")
    served.wait_done(q(step=2, **params))  # the user opens step 2
    deadline = time.monotonic() + 60
    aligned = {}
    for step in (0, 1, 3, 4):  # never asked for: /projection/points starts nothing
        while True:
            response = served.client().get(PREFIX + "/projection/points" + q(step=step, **params))
            if response.status_code == 200:
                aligned[step] = json.loads(response.headers["X-Projection-Aligned-To"])
                break
            assert response.status_code == 409
            assert time.monotonic() < deadline, json.loads(response.get_data())
            time.sleep(0.05)
    order = [next(s for s, (x, _) in checkpoints.items() if np.array_equal(
        valid_rows(x, checkpoints[s][1])[:1], first)) for first in [c[3] for c in counted]]
    # Outwards from step 2, each aligned to the nearest one already laid out; the newest
    # may have started (cold, newest first) before the user's request arrived.
    if order[0] == 4:
        assert order == [4, 2, 1, 3, 0] and aligned == {1: 2, 3: 2, 0: 1, 4: None}
    else:
        assert order == [2, 1, 3, 0, 4] and aligned == {1: 2, 3: 2, 0: 1, 4: 3}
    statuses = [served.json(PREFIX + "/projection" + q(step=s, **params)) for s in (0, 1)]
    assert all(s["state"] == "done" for s in statuses) and len(counted) == 5


def test_a_users_projection_preempts_background_work(logdir, served_factory):
    base, states = hidden_like(4, n=100, t=30, h=16)
    write_run(logdir + "/r", {0: (states, np.full(100, 30)), 1: (states * 0.9, np.full(100, 30))})
    served = served_factory(logdir, rnn_hidden_precompute="tsne", rnn_hidden_precompute_interval=60)
    pool = served.plugin._projections.pool
    deadline = time.monotonic() + 30
    while not any(j.state == "running" and j.priority == 1 for j in list(pool._jobs.values())):
        assert time.monotonic() < deadline, "no background job started"
        time.sleep(0.02)
    (job,) = [j for j in list(pool._jobs.values()) if j.priority == 1]
    mine = served.wait_done(q(step=0, method="pca"), timeout=30)
    assert mine["state"] == "done" and mine["background"] is False
    # It ran on the background job's thread, between two of its chunks, which goes on.
    assert job.state == "running", (job.state, job.phase)
    assert job.finished_event.wait(120) and job.state == "done"
