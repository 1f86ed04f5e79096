"""What a projection job costs in memory, and how soon a cancel frees the worker (issue 12).

Not a test: run it by hand and record the output in bench/RESULTS.md
("Projection jobs: memory per point and cancel latency").

    python bench/job_limits_bench.py memory tsne 100000 64   # method, points, units
    python bench/job_limits_bench.py cancel tsne [phase ...]   # tsne, pca or umap
    python bench/job_limits_bench.py real LOGDIR RUN TAG        # real checkpoints, and digits

`memory` runs one engine process (`projection.isolated.compute`, t-SNE with 50
iterations after early exaggeration) on tanh random walks and prints its peak resident
memory (VmHWM), which `projection/limits.py` models. `cancel` writes a large checkpoint
(t-SNE 100k x 64, PCA 300k x 128, UMAP 50k x 64) and tiny ones, starts a job on the
large one, cancels it as soon as it reports each phase (or those named), and prints how
long after the cancel a tiny PCA queued behind it starts (one tiny checkpoint per phase,
so that none is served from the cache): the worker is free. Run it with
PYTHONPATH pointing at an older tree to measure that one. `real` checks the memory model
on real data: every checkpoint of a logged run (e.g. the demo's, untrained to last epoch)
and scikit-learn's digits (1,797 images of 64 pixels, one point each).
"""

import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

CANCEL_SIZES = {"tsne": (1000, 100, 64), "pca": (3000, 100, 128), "umap": (500, 100, 64)}
CANCEL_PHASES = {
    "tsne": ["nearest neighbours: indexing", "nearest neighbours: 0 of",
             "affinities: calibrating", "early exaggeration", "optimisation"],
    "pca": ["pca"],
    "umap": ["umap"],
}


def walks(n, d, seed=0):
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((n, d)).cumsum(axis=0) * 0.05 + rng.standard_normal((n, d))
    return np.tanh(steps).astype(np.float32)


def memory(method, n, d):
    measure(method, walks(n, d), "tanh walks")


def measure(method, x, what):
    """Runs one engine process on `x` and prints its peak memory beside the model's estimate."""
    from tb_rnn_hidden import projection
    from tb_rnn_hidden.projection import isolated, limits

    params = projection.ProjectionParams(
        method=method, align="none", **({"iterations": 50} if method == "tsne" else {}))
    n, d = x.shape
    started = time.monotonic()
    _, peak = isolated.compute(np.ascontiguousarray(x, dtype=np.float32), params)
    estimate = limits.estimate_bytes(n, d, params)
    print("%s, %s %d x %d: peak %d MiB (estimate %d MiB, %s), %.1f s" % (
        what, method, n, d, peak >> 20, estimate >> 20,
        "above" if estimate >= peak else "BELOW", time.monotonic() - started), flush=True)


def real(logdir, run, tag):
    from sklearn.datasets import load_digits
    from support.plugin_client import make_data_provider
    from tensorboard import context as tb_context

    from tb_rnn_hidden.server import reader as checkpoint_reader

    reader = checkpoint_reader.CheckpointReader(make_data_provider(logdir, {"rnn_hidden": 0}))
    ctx = tb_context.RequestContext()
    for datum in reader.series(ctx, "", run, tag):
        states = reader.checkpoint(ctx, "", run, tag, datum.step).states
        for method in ("tsne", "pca"):
            measure(method, states, "%s step %d" % (run, datum.step))
    for method in ("tsne", "pca"):
        measure(method, load_digits().data, "digits")


def cancel(method, phases=None):
    from support.plugin_client import make_data_provider
    from tensorboard import context as tb_context

    from tb_rnn_hidden import projection, writer
    from tb_rnn_hidden.projection import jobs
    from tb_rnn_hidden.server import reader

    logdir = tempfile.mkdtemp(prefix="job_limits_bench_")
    n, t, h = CANCEL_SIZES[method]
    rng = np.random.default_rng(0)
    big = np.tanh(rng.standard_normal((n, t, h)).cumsum(axis=1) * 0.1).astype(np.float32)
    with writer.HiddenStateWriter(logdir + "/big") as w:
        w.add("lstm", big, step=0, precision="float16")
    phases = phases or CANCEL_PHASES[method]
    for i in range(len(phases)):
        with writer.HiddenStateWriter(logdir + "/small%d" % i) as w:
            w.add("lstm", np.tanh(rng.standard_normal((4, 6, 3))).astype(np.float32), step=0)
    service = jobs.ProjectionService(
        reader.CheckpointReader(make_data_provider(logdir, {"rnn_hidden": 0})), tempfile.mkdtemp())
    ctx = tb_context.RequestContext()
    for seed, target in enumerate(phases):
        extra = {"iterations": 5000} if method == "tsne" else {}
        params = projection.ProjectionParams(method=method, align="none", seed=seed, **extra)
        small = projection.ProjectionParams(method="pca", align="none")
        run = "small%d" % seed
        key = service._resolve(ctx, "", "big", "lstm", 0, params).key
        service.status(ctx, "", "big", "lstm", 0, params)
        started = time.monotonic()
        while not service.pool.get(key).phase.startswith(target):
            time.sleep(0.01)
        reached = time.monotonic() - started
        cancelled = time.monotonic()
        service.cancel(ctx, "", "big", "lstm", 0, params)
        service.status(ctx, "", run, "lstm", 0, small)
        small_key = service._resolve(ctx, "", run, "lstm", 0, small).key
        while service.pool.get(small_key) is not None and service.pool.get(small_key).state == "queued":
            time.sleep(0.005)
        print("%s: cancelled in phase %r (reached after %.1f s); worker free %.2f s later"
              % (method, target, reached, time.monotonic() - cancelled), flush=True)
        while service.pool.get(small_key) is not None and service.pool.get(small_key).state != "done":
            time.sleep(0.01)
        service.pool.forget(small_key)
    service.close()


if __name__ == "__main__":  # the engine's processes re-import this module
    if sys.argv[1] == "memory":
        memory(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "real":
        real(*sys.argv[2:5])
    else:
        cancel(sys.argv[2], sys.argv[3:])
    os._exit(0)  # an older tree's worker thread may still run the cancelled engine
