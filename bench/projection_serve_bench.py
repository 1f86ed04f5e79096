"""Latency of serving a cached 100k-point projection through the plugin's route (goal < 100 ms).

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/projection_serve_bench.py [--points 100000]

A checkpoint of 2,000 sequences x 50 steps x 128 units is written with
HiddenStateWriter. The plugin (TensorBoard's WSGI app and data provider)
computes its PCA projection once. Then `/projection/points` is timed from the
in-memory cache, and again from the disk cache by a new plugin instance, as
after a restart. Baseline: `/states` of the same checkpoint, cached.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="projection_serve_bench_")
    os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")  # the plugin's default cache dir
    from support.plugin_client import make_client
    from tb_rnn_hidden.writer import HiddenStateWriter

    steps = 50
    rng = np.random.default_rng(0)
    states = np.tanh(rng.standard_normal((args.points // steps, steps, 128))).astype(np.float32)
    logdir = os.path.join(tmp, "logs")
    with HiddenStateWriter(os.path.join(logdir, "run")) as writer:
        writer.add("lstm", states, step=0)

    query = "?run=run&tag=lstm&step=0&method=pca"
    client = make_client(logdir)
    while client.get("/data/plugin/rnn_hidden/projection" + query).json["state"] != "done":
        time.sleep(0.1)

    def timed(client, route):
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            response = client.get("/data/plugin/rnn_hidden/" + route + query)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_data()
        return statistics.median(times), len(response.get_data())

    memory, size = timed(client, "projection/points")
    states_time, states_size = timed(client, "states")
    restarted = make_client(logdir)  # new plugin instance: disk cache only
    start = time.perf_counter()
    status = restarted.get("/data/plugin/rnn_hidden/projection" + query).json
    first_status = time.perf_counter() - start
    disk = time.perf_counter()
    restarted.get("/data/plugin/rnn_hidden/projection/points" + query)
    disk = time.perf_counter() - disk
    print("points: %d (%d sequences x %d steps x 128 units); median of %d"
          % (args.points, args.points // steps, steps, args.repeats))
    print("| request | ms | bytes |")
    print("|---|---|---|")
    print("| /projection/points, memory cache | %.1f | %d |" % (1000 * memory, size))
    print("| /projection after a restart (state %s, cached=%s) | %.1f | |"
          % (status["state"], status["cached"], 1000 * first_status))
    print("| /projection/points after a restart (disk cache) | %.1f | %d |" % (1000 * disk, size))
    print("| /states, cached (baseline) | %.1f | %d |" % (1000 * states_time, states_size))


if __name__ == "__main__":
    main()
