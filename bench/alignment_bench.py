"""Aligned against cold t-SNE layouts on checkpoints of real training, in one run.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/alignment_bench.py                      # the four runs below
    python bench/alignment_bench.py --runs demo digits   # some of them

Runs (each trained here by demo/train.py, from the untrained model to the last epoch,
and read back through TensorBoard's data provider, as the plugin reads them):
  demo     the README's demo: LSTM(32) on generated reviews, 300 probe sequences,
           7 checkpoints of ~3.6k points
  large    the same training with 4,500 probe sequences: ~53k points per checkpoint
  large-batches  the same training logged every 42 batches (three times an epoch)
           instead of every epoch: 19 checkpoints of ~53k points
  digits   scikit-learn's bundled handwritten digits, each image read row by row as a
           sequence of 8 steps of 8 values; LSTM(32), 898 probe images, 13 checkpoints
           of 7,184 points

Per checkpoint, in the order the background projector lays them out (the newest
cold, then each earlier one aligned to the one after it):
  cold      tb_rnn_hidden.projection.compute without init: seconds, trustworthiness
  aligned   compute with the neighbour's layout and info: mode (warm / relayout),
            seconds, trustworthiness, Procrustes disparity to the neighbour's layout
  cold pair Procrustes disparity between the cold layouts of the two checkpoints
Trustworthiness: k=10 on the engine's fixed 2,000-point sample (quality.trustworthiness).
Goals (issue 10): aligned trustworthiness >= cold - 0.01 for every checkpoint; aligned
Procrustes clearly below the cold pair's; over a run of >= 50k points, the aligned run
(newest cold, the rest aligned) at least 2x faster than all cold.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the test helpers (support/), as other benches

RUNS = {
    "demo": ["--dataset", "generated"],
    "large": ["--dataset", "generated", "--probe", "4500"],
    "large-batches": ["--dataset", "generated", "--probe", "4500", "--every-n-batches", "42"],
    "digits": ["--dataset", "digits"],
}


def train(name, logdir):
    """Trains the run with demo/train.py (no TensorBoard) unless its logs exist."""
    if os.path.isdir(logdir) and os.listdir(logdir):
        return
    command = [sys.executable, os.path.join(ROOT, "demo", "train.py"), "--no-serve",
               "--logdir", logdir] + RUNS[name]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def checkpoints(logdir):
    """{step: states float32 [P, H]} of the run's only tag, through the data provider."""
    from tensorboard import context

    from support.plugin_client import make_data_provider
    from tb_rnn_hidden.server import reader as checkpoint_reader

    reader = checkpoint_reader.CheckpointReader(make_data_provider(logdir, {"rnn_hidden": 0}))
    ctx = context.RequestContext()
    ((run, tags),) = reader.list_series(ctx, "").items()
    ((tag, entry),) = tags.items()
    return {
        step: np.asarray(reader.checkpoint(ctx, "", run, tag, step).states, np.float32)
        for step in entry["steps"]
    }


def disparity(a, b):
    from scipy.spatial import procrustes

    return float(procrustes(a, b)[2])


def measure(states, log):
    """Cold and aligned layouts of every checkpoint; one row per checkpoint."""
    from tb_rnn_hidden import projection

    steps = sorted(states, reverse=True)  # the background projector's order
    cold = {}
    rows = []
    for step in steps:
        started = time.perf_counter()
        layout = projection.compute(states[step], projection.ProjectionParams())
        seconds = time.perf_counter() - started
        cold[step] = layout
        rows.append(dict(step=step, points=len(states[step]), cold_s=seconds, cold=layout.info))
        log(dict(rows[-1], kind="cold"))
    previous = cold[steps[0]]
    rows[0]["aligned"] = None
    for row, step, after in zip(rows[1:], steps[1:], steps):
        params = projection.ProjectionParams(align="neighbor")
        started = time.perf_counter()
        layout = projection.compute(states[step], params, init=previous.coords,
                                    reference=previous.info)
        row["aligned_s"] = time.perf_counter() - started
        row["aligned"] = layout.info
        row["procrustes_aligned"] = disparity(previous.coords, layout.coords)
        row["procrustes_cold_pair"] = disparity(cold[after].coords, cold[step].coords)
        log(dict(row, kind="aligned"))
        previous = layout
    return rows


def table(name, rows):
    lines = [
        "%s: %d checkpoints of %d points" % (name, len(rows), rows[0]["points"]),
        "",
        "| step | cold s | cold trust | cold it. | aligned | aligned s | aligned trust "
        "| Δ trust | aligned it. | Procrustes to neighbour: aligned | cold pair |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["cold"]
        cells = ["%d" % r["step"], "%.1f" % r["cold_s"], "%.4f" % c["trustworthiness"],
                 "%d+%d" % (c["early_exaggeration_iterations"], c["iterations"])]
        a = r["aligned"]
        if a is None:
            cells += ["(first: cold)"] + ["–"] * 6
        else:
            delta = a["trustworthiness"] - c["trustworthiness"]
            tried = a.get("warm_iterations")
            mode = a["mode"] + (" (warm %.4f after %d it.)" % (a["warm_trustworthiness"], tried)
                                if tried else "")
            cells += [mode, "%.1f" % r["aligned_s"], "%.4f" % a["trustworthiness"],
                      "%+.4f%s" % (delta, "" if delta >= -0.01 else " ✗"),
                      "%d+%d" % (a["early_exaggeration_iterations"], a["iterations"]),
                      "%.4f" % r["procrustes_aligned"], "%.4f" % r["procrustes_cold_pair"]]
        lines.append("| " + " | ".join(cells) + " |")
    cold_total = sum(r["cold_s"] for r in rows)
    aligned_total = rows[0]["cold_s"] + sum(r["aligned_s"] for r in rows[1:])
    worst = min(r["aligned"]["trustworthiness"] - r["cold"]["trustworthiness"]
                for r in rows[1:])
    lines += ["", "all cold %.1f s; newest cold + the rest aligned %.1f s: %.2fx; "
              "worst aligned - cold trustworthiness %+.4f" % (
                  cold_total, aligned_total, cold_total / aligned_total, worst)]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=["demo", "digits", "large"])
    parser.add_argument("--logs", default=os.path.join(tempfile.gettempdir(), "alignment_bench_logs"),
                        help="where the training runs are written (kept for later runs)")
    parser.add_argument("--json", help="also write every row as JSON lines here")
    args = parser.parse_args()
    out = open(args.json, "w") if args.json else None

    def log(row):
        print(json.dumps(row, default=float), file=sys.stderr, flush=True)
        if out:
            print(json.dumps(row, default=float), file=out, flush=True)

    print("%s, %d CPUs, load %.2f" % (time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(),
                                       os.getloadavg()[0]), flush=True)
    for name in args.runs:
        logdir = os.path.join(args.logs, name)
        train(name, logdir)
        rows = measure(checkpoints(logdir), log)
        print("\n" + table(name, rows) + "\n", flush=True)


if __name__ == "__main__":
    main()
