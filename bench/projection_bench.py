"""Projection engine: seconds, peak memory and trustworthiness, against scikit-learn's TSNE.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/projection_bench.py --sizes 10000 50000 100000 200000 --sklearn-timeout 1800

Data (--data):
  tanh    hidden states of a tanh RNN (128 units) over sequences of 50 steps with
          AR(1) inputs, as in the shared research note (the distribution the engine
          was first tuned on); the "next checkpoint" perturbs the recurrent and input
          weights so that the states change by about 7 %, as a training step would.
  walk    tanh of Gaussian random walks: 500 sequences x 100 steps x 128 units
          (50,000 points, whatever --sizes says); wide layouts, where the FFT grid
          grows with the layout's extent.
  large   the last checkpoint of the demo's larger run (demo/train.py --probe 4500:
          LSTM(32) on generated reviews, ~53k points), trained here unless its logs
          exist (bench/alignment_bench.py --logs).
  digits  the last checkpoint of the digits run (demo/train.py --dataset digits,
          7,184 points).
Each measurement runs in its own process, so peak RSS is that run's alone.
Rows:
  ours cold     t-SNE from scratch (tb_rnn_hidden.projection.project)
  ours aligned  the next checkpoint, initialised from the cold result
  ours indep.   the next checkpoint from scratch (how far independent layouts move)
  sklearn       sklearn.manifold.TSNE with default settings (the baseline)
CPU seconds (user + system, all threads, of the measured call) are reported beside wall
seconds: on a machine shared with other work they move less than wall time.
Trustworthiness (k=10) is computed on a random 2,000-point subsample.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

DIMS = 128
INPUT_DIMS = 16
STEPS = 50


def make_points(n, seed=0, delta=0.0):
    """[n, DIMS] hidden states of a tanh RNN run over n // STEPS sequences of STEPS steps.

    h_t = tanh(0.95 Q h_{t-1} + U x_t + b) with Q orthogonal and AR(1) inputs
    x_t = 0.9 x_{t-1} + 0.45 noise (the research note's set-up). The same seed gives
    the same inputs (the probe set); `delta` perturbs Q and U as a training step
    would, for the next checkpoint (0.05 changes the states by about 7 %).
    """
    rng = np.random.default_rng(seed)
    sequences = n // STEPS
    q, _ = np.linalg.qr(rng.standard_normal((DIMS, DIMS)))
    u = rng.standard_normal((INPUT_DIMS, DIMS)) / np.sqrt(INPUT_DIMS)
    b = 0.1 * rng.standard_normal(DIMS)
    if delta:
        change = np.random.default_rng(seed + 1)
        q = q + delta * change.standard_normal(q.shape) / np.sqrt(DIMS)
        u = u + delta * change.standard_normal(u.shape) / np.sqrt(INPUT_DIMS)
    q, u, b = (a.astype(np.float32) for a in (q, u, b))
    inputs = np.random.default_rng(seed + 2)
    x = np.zeros((sequences, INPUT_DIMS), np.float32)
    h = np.zeros((sequences, DIMS), np.float32)
    out = np.empty((sequences, STEPS, DIMS), np.float32)
    for t in range(STEPS):
        x = 0.9 * x + 0.45 * inputs.standard_normal(x.shape).astype(np.float32)
        h = np.tanh(0.95 * h @ q + x @ u + b)
        out[:, t] = h
    return out.reshape(-1, DIMS)


def walk_points():
    """tanh of random walks: 500 sequences x 100 steps x 128 units, steps of std 0.15."""
    rng = np.random.default_rng(0)
    walks = np.cumsum(0.15 * rng.standard_normal((500, 100, DIMS)), axis=1)
    return np.tanh(walks).astype(np.float32).reshape(-1, DIMS)


def training_points(name, logs):
    """The newest checkpoint of a run of bench/alignment_bench.py (trained if missing)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import alignment_bench

    logdir = os.path.join(logs, name)
    alignment_bench.train(name, logdir)
    states = alignment_bench.checkpoints(logdir)
    return states[max(states)]


def points(data, n, logs):
    if data == "tanh":
        return make_points(n)
    if data == "walk":
        return walk_points()
    return training_points(data, logs)


def trust(x, y, seed=0):
    from sklearn.manifold import trustworthiness

    idx = np.random.default_rng(seed).choice(len(x), size=min(2000, len(x)), replace=False)
    return trustworthiness(x[idx], y[idx], n_neighbors=10)


def disparity(a, b):
    """Procrustes disparity of two layouts of the same points (0: identical up to rotation/scale)."""
    from scipy.spatial import procrustes

    return float(procrustes(a, b)[2])


def child(kind, n, workdir, data="tanh", logs=None):
    """One measurement; prints a JSON line."""
    from tb_rnn_hidden import projection

    x = points(data, n, logs)
    n = len(x)
    params = projection.ProjectionParams(method="tsne", seed=0)
    extra = {}
    load_before = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    if kind == "cold":
        layout = projection.compute(x, params)
        y = layout.coords
        extra["iterations"] = "%d+%d" % (layout.info["early_exaggeration_iterations"],
                                         layout.info["iterations"])
        np.save(os.path.join(workdir, "cold_%d.npy" % n), y)
        with open(os.path.join(workdir, "cold_%d.json" % n), "w") as f:
            json.dump(layout.info, f)
    elif kind in ("aligned", "independent"):
        # The next checkpoint: aligned to the cold layout, or computed from scratch.
        previous = np.load(os.path.join(workdir, "cold_%d.npy" % n))
        with open(os.path.join(workdir, "cold_%d.json" % n)) as f:
            reference = json.load(f)
        x = make_points(n, delta=0.05)
        init, align = (previous, "neighbor") if kind == "aligned" else (None, "none")
        start, cpu_start = time.perf_counter(), time.process_time()
        layout = projection.compute(
            x, projection.ProjectionParams(method="tsne", seed=0, align=align), init=init,
            reference=reference if init is not None else None)
        y = layout.coords
        extra["procrustes_to_previous"] = disparity(previous, y)
        extra["mode"] = layout.info["mode"]
    else:
        from sklearn.manifold import TSNE

        y = TSNE(n_components=2, random_state=0).fit_transform(x)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start  # all threads of this process
    print(json.dumps(dict(
        kind=kind, n=n, data=data, seconds=seconds, cpu_seconds=cpu_seconds,
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, trust=trust(x, y),
        load=[load_before, os.getloadavg()[0]], **extra)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000, 100000, 200000])
    parser.add_argument("--sklearn-up-to", type=int, default=200000,
                        help="run scikit-learn's TSNE only up to this many points (it is slow)")
    parser.add_argument("--sklearn-timeout", type=float, default=None,
                        help="stop scikit-learn's TSNE after this many seconds and record the "
                             "time as a lower bound")
    parser.add_argument("--independent-up-to", type=int, default=50000,
                        help="also project the next checkpoint from scratch up to this many "
                             "points (Procrustes disparity of independent vs aligned layouts)")
    parser.add_argument("--kinds", nargs="+", default=["cold", "aligned", "independent", "sklearn"],
                        help="which rows to measure (aligned and independent need cold)")
    parser.add_argument("--data", choices=["tanh", "walk", "large", "digits"], default="tanh")
    parser.add_argument("--logs", default=os.path.join(__import__("tempfile").gettempdir(),
                                                       "alignment_bench_logs"),
                        help="training runs for --data large/digits (see alignment_bench.py)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, workdir = args.child
        return child(kind, int(n), workdir, args.data, args.logs)
    if args.data != "tanh":
        points(args.data, 0, args.logs)  # train once, before anything is timed
        args.sizes = [len(points(args.data, 0, args.logs))]

    import tempfile

    workdir = tempfile.mkdtemp(prefix="projection_bench_")
    results = {}
    print("%s, %d CPUs, data %s" % (time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), args.data),
          flush=True)
    for n in args.sizes:
        kinds = ["cold", "aligned"]
        kinds += ["independent"] if n <= args.independent_up_to else []
        kinds += ["sklearn"] if n <= args.sklearn_up_to else []
        kinds = [kind for kind in kinds if kind in args.kinds]
        if args.data != "tanh":  # no synthetic next checkpoint: see alignment_bench.py
            kinds = [kind for kind in kinds if kind in ("cold", "sklearn")]
        for kind in kinds:
            timeout = args.sklearn_timeout if kind == "sklearn" else None
            started = time.perf_counter()
            try:
                out = subprocess.run([sys.executable, __file__, "--child", kind, str(n), workdir,
                                      "--data", args.data, "--logs", args.logs],
                                     capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                seconds = time.perf_counter() - started
                results[(kind, n)] = dict(kind=kind, n=n, seconds=seconds, stopped=True)
                print("%-11s n=%-7d stopped after %.0f s (lower bound)" % (kind, n, seconds),
                      flush=True)
                continue
            if out.returncode != 0:
                print("%s at %d failed:\n%s" % (kind, n, out.stderr[-2000:]), file=sys.stderr)
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            results[(kind, n)] = row
            print(json.dumps(row), flush=True)

    def cell(r):
        if r is None:
            return "not run"
        if r.get("stopped"):
            return "> %.0f (stopped)" % r["seconds"]
        return "%.1f / %.0f / %.0f / %.3f" % (r["seconds"], r["cpu_seconds"], r["peak_mb"], r["trust"])

    print("\n| points | ours cold s / CPU s / MB / trust | ours aligned | sklearn TSNE | "
          "cold speed-up | aligned speed-up | cold CPU ratio | aligned CPU ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        cells = [cell(results.get((kind, n))) for kind in ("cold", "aligned", "sklearn")]
        base = results.get(("sklearn", n))
        ratios = []
        for field in ("seconds", "cpu_seconds"):
            for k in ("cold", "aligned"):
                ours = results.get((k, n))
                if not base or not ours:
                    ratios.append("–")
                elif base.get("stopped"):
                    ratios.append("≥ %.1f×" % (base["seconds"] / ours["seconds"])
                                  if field == "seconds" else "–")
                else:
                    ratios.append("%.1f×" % (base[field] / ours[field]))
        print("| %d | %s | %s |" % (n, " | ".join(cells), " | ".join(ratios)))

    print("\n| points | Procrustes to previous: aligned | independent | aligned s | independent s |")
    print("|---|---|---|---|---|")
    for n in args.sizes:
        a, i = results.get(("aligned", n)), results.get(("independent", n))
        if a and i:
            print("| %d | %.1e | %.2f | %.1f | %.1f |" % (
                n, a["procrustes_to_previous"], i["procrustes_to_previous"], a["seconds"],
                i["seconds"]))


if __name__ == "__main__":
    main()
