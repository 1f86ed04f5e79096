"""Projection engine: seconds, peak memory and trustworthiness, against scikit-learn's TSNE.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/projection_bench.py --sizes 10000 50000 100000 200000 --sklearn-up-to 50000

Data: hidden-state-like points, 128 dims: sequences of 50 steps as random
walks through tanh space (h_t = tanh(0.95 h_{t-1} + noise)); the "next
checkpoint" perturbs every state by 5%, as a training step would.
Each measurement runs in its own process, so peak RSS is that run's alone.
Rows:
  ours cold     t-SNE from scratch (tb_rnn_hidden.projection.project)
  ours aligned  the next checkpoint, initialised from the cold result
  sklearn       sklearn.manifold.TSNE with default settings (the baseline)
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
STEPS = 50


def make_points(n, seed=0, perturb=0.0):
    rng = np.random.default_rng(seed)
    sequences = n // STEPS
    w = rng.standard_normal((DIMS, DIMS)).astype(np.float32) / np.sqrt(DIMS)
    h = np.zeros((sequences, DIMS), np.float32)
    out = np.empty((sequences, STEPS, DIMS), np.float32)
    for t in range(STEPS):
        h = np.tanh(0.95 * h @ w + rng.standard_normal((sequences, DIMS)).astype(np.float32))
        out[:, t] = h
    points = out.reshape(-1, DIMS)
    if perturb:
        points = points + perturb * np.random.default_rng(seed + 1).standard_normal(
            points.shape
        ).astype(np.float32) * points.std()
    return points


def trust(x, y, seed=0):
    from sklearn.manifold import trustworthiness

    idx = np.random.default_rng(seed).choice(len(x), size=min(2000, len(x)), replace=False)
    return trustworthiness(x[idx], y[idx], n_neighbors=10)


def child(kind, n, workdir):
    """One measurement; prints a JSON line."""
    from tb_rnn_hidden import projection

    x = make_points(n)
    params = projection.ProjectionParams(method="tsne", seed=0)
    start = time.perf_counter()
    if kind == "cold":
        y = projection.project(x, params)
        np.save(os.path.join(workdir, "cold_%d.npy" % n), y)
    elif kind == "aligned":
        init = np.load(os.path.join(workdir, "cold_%d.npy" % n))
        x = make_points(n, perturb=0.05)
        start = time.perf_counter()
        y = projection.project(x, projection.ProjectionParams(method="tsne", seed=0, align="neighbor"),
                               init=init)
    else:
        from sklearn.manifold import TSNE

        y = TSNE(n_components=2, random_state=0).fit_transform(x)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(kind=kind, n=n, seconds=seconds, peak_mb=peak_mb, trust=trust(x, y))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000, 100000, 200000])
    parser.add_argument("--sklearn-up-to", type=int, default=50000,
                        help="run scikit-learn's TSNE only up to this many points (it is slow)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, workdir = args.child
        return child(kind, int(n), workdir)

    import tempfile

    workdir = tempfile.mkdtemp(prefix="projection_bench_")
    results = {}
    for n in args.sizes:
        kinds = ["cold", "aligned"] + (["sklearn"] if n <= args.sklearn_up_to else [])
        for kind in kinds:
            out = subprocess.run([sys.executable, __file__, "--child", kind, str(n), workdir],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print("%s at %d failed:\n%s" % (kind, n, out.stderr[-2000:]), file=sys.stderr)
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            results[(kind, n)] = row
            print("%-8s n=%-7d %8.1f s %7.0f MB trust %.3f"
                  % (kind, n, row["seconds"], row["peak_mb"], row["trust"]), flush=True)

    print("\n| points | ours cold s / MB / trust | ours aligned s / MB / trust | sklearn TSNE s / MB / trust | cold speed-up | aligned speed-up |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        cells = []
        for kind in ("cold", "aligned", "sklearn"):
            r = results.get((kind, n))
            cells.append("%.1f / %.0f / %.3f" % (r["seconds"], r["peak_mb"], r["trust"]) if r else "not run")
        base = results.get(("sklearn", n))
        ratios = [
            "%.1f×" % (base["seconds"] / results[(k, n)]["seconds"]) if base and (k, n) in results else "–"
            for k in ("cold", "aligned")
        ]
        print("| %d | %s | %s |" % (n, " | ".join(cells), " | ".join(ratios)))


if __name__ == "__main__":
    main()
