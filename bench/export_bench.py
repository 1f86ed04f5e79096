"""What GET /export costs: writing a checkpoint's layout table as CSV and as NPZ.

    python bench/export_bench.py [--points 100000 1000000]

Builds the table of P points (tokens from a vocabulary of 5,000 words, 5
classes, labels and class names) and encodes it as server/export.py does,
without HTTP: seconds, bytes, and the peak memory Python allocates (tracemalloc,
in a second run) while the CSV is written chunk by chunk and the NPZ is written.
"""

import argparse
import time
import tracemalloc

import numpy as np

from tb_rnn_hidden.analysis import point_table
from tb_rnn_hidden.server import export


def table_of(points, seed=0):
    rng = np.random.default_rng(seed)
    lengths = np.full(points // 100, 100)
    logits = rng.standard_normal((points, 5)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return point_table.PointTable(
        lengths=lengths, coords=rng.standard_normal((points, 2)).astype(np.float32) * 30,
        token_ids=rng.integers(0, 5000, points).astype(np.int32),
        vocabulary=["word%d" % i for i in range(5000)],
        labels=rng.integers(0, 5, len(lengths)), probabilities=probabilities,
        class_names=["class %d" % k for k in range(5)],
    )


def measure(encode):
    """(seconds, bytes written, peak bytes allocated): timed alone, then again under
    tracemalloc (which slows allocation-heavy code several times) for the peak."""
    start = time.perf_counter()
    size = encode()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    encode()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, size, peak


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print("| points | format | seconds | MiB written | peak MiB allocated |")
    print("|---|---|---|---|---|")
    for points in args.points:
        table = table_of(points)
        csv = measure(lambda: sum(len(chunk) for chunk in export.csv_chunks(table)))

        def npz():
            with export.npz_file(table) as file:
                file.seek(0, 2)
                return file.tell()

        for name, (seconds, size, peak) in (("csv", csv), ("npz", measure(npz))):
            print("| %d | %s | %.2f | %.1f | %.0f |" % (points, name, seconds, size / 2**20, peak / 2**20))


if __name__ == "__main__":
    main()
