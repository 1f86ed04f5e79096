"""Write / read / serve cost of one 512 x 200 x 256 checkpoint, against naive baselines.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/format_bench.py [--repeats 3]

Ours: `summary.hidden_states` (TF op) and `hidden_states_pb` + `HiddenStateWriter`,
read by TensorBoard's EventMultiplexer, served by the plugin's WSGI routes.
Baselines, in the same run on the same arrays:
  * tensor summary: the arrays written as plain float32/string tensors with
    `tf.summary.write` (what a script logs without this plugin), read the same way;
  * JSON: the arrays as nested JSON lists (how the research tool served them).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N, T, H, C, VOCAB = 512, 200, 256, 5, 5000


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    states = np.tanh(rng.standard_normal((N, T, H), dtype=np.float32))
    logits = rng.standard_normal((N, T, C), dtype=np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    words = np.array(["w%d" % i for i in range(VOCAB)], dtype=object)
    tokens = words[rng.integers(0, VOCAB, size=(N, T))]
    return dict(
        states=states,
        probabilities=probabilities,
        tokens=tokens,
        lengths=np.full(N, T),
        labels=rng.integers(0, C, size=N),
        class_names=["c%d" % k for k in range(C)],
    )


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import tensorflow as tf
    from support.plugin_client import make_client, make_data_provider
    from tb_rnn_hidden import summary, writer

    data = make_data()
    tmp = tempfile.mkdtemp(prefix="format_bench_")
    rows = []
    counter = iter(range(10**6))

    def fresh(name):
        return os.path.join(tmp, name, "run%d" % next(counter))

    def write_tf_op():
        path = fresh("tf_op")
        with tf.summary.create_file_writer(path).as_default() as w:
            summary.hidden_states("lstm", step=0, **data)
            w.flush()
        return path

    def write_pb():
        path = fresh("pb")
        with writer.HiddenStateWriter(path) as w:
            w.add("lstm", step=0, **data)
        return path

    def write_event_file_writer():
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        path = fresh("efw")
        event_writer = EventFileWriter(path)
        pb = summary.hidden_states_pb("lstm", **data)
        event_writer.add_event(event_pb2.Event(wall_time=time.time(), step=0, summary=pb))
        event_writer.close()
        return path

    def write_tensor_baseline():
        path = fresh("tensor")
        with tf.summary.create_file_writer(path).as_default() as w:
            tf.summary.write("states", data["states"], step=0)
            tf.summary.write("probabilities", data["probabilities"], step=0)
            tf.summary.write("tokens", tf.constant(data["tokens"].astype(str)), step=0)
            w.flush()
        return path

    def json_baseline():
        return json.dumps(
            {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in data.items()}
        ).encode()

    write_tf_op()  # warm up TF's writer and tracing once
    t_tf, tf_path = timed(write_tf_op, args.repeats)
    t_pb, pb_path = timed(write_pb, args.repeats)
    t_efw, efw_path = timed(write_event_file_writer, 1)  # pure-Python CRC: slow
    t_tensor, tensor_path = timed(write_tensor_baseline, args.repeats)
    t_json, json_bytes = timed(json_baseline, args.repeats)
    raw = data["states"].nbytes + data["probabilities"].nbytes
    rows.append(("write: TF op (hidden_states)", t_tf, dir_bytes(tf_path)))
    rows.append(("write: protobuf path + HiddenStateWriter", t_pb, dir_bytes(pb_path)))
    rows.append(("write: protobuf path + TensorBoard's EventFileWriter (1 run)", t_efw, dir_bytes(efw_path)))
    rows.append(("write: baseline tensor summaries (float32)", t_tensor, dir_bytes(tensor_path)))
    rows.append(("encode: baseline JSON lists", t_json, len(json_bytes)))

    def read(path):
        return lambda: make_data_provider(path, {"rnn_hidden": 0, "tensors": 0})

    t_read_ours, _ = timed(read(pb_path), args.repeats)
    t_read_tensor, _ = timed(read(tensor_path), args.repeats)
    t_json_decode, _ = timed(lambda: json.loads(json_bytes), args.repeats)
    rows.append(("read: EventMultiplexer load, ours", t_read_ours, None))
    rows.append(("read: EventMultiplexer load, baseline tensors", t_read_tensor, None))
    rows.append(("read: baseline JSON decode", t_json_decode, None))

    routes = ["sequences", "tokens", "probabilities", "states", "distances"]
    serve = {}
    for route in routes:
        cold = []
        warm = []
        size = 0
        for _ in range(args.repeats):
            client = make_client(os.path.dirname(pb_path))  # new plugin: empty cache
            run = os.path.basename(pb_path)
            url = "/data/plugin/rnn_hidden/%s?run=%s&tag=lstm&step=0" % (route, run)
            start = time.perf_counter()
            response = client.get(url)
            cold.append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_data()
            start = time.perf_counter()
            size = len(client.get(url).get_data())
            warm.append(time.perf_counter() - start)
        serve[route] = (statistics.median(cold), statistics.median(warm), size)
    t_json_states, states_json = timed(lambda: json.dumps(data["states"].tolist()), 1)

    tracemalloc.start()
    make_data_provider(pb_path, {"rnn_hidden": 0})
    _, peak_ours = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    make_data_provider(tensor_path, {"tensors": 0})
    _, peak_tensor = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print("checkpoint: N=%d sequences x T=%d steps x H=%d units, C=%d, %d tokens (vocab %d)"
          % (N, T, H, C, N * T, VOCAB))
    print("raw float32 states + probabilities: %.1f MiB" % (raw / 2**20))
    print("median of %d runs\n" % args.repeats)
    print("| step | seconds | bytes |")
    print("|---|---|---|")
    for name, seconds, nbytes in rows:
        print("| %s | %.3f | %s |" % (name, seconds, "%.1f MiB" % (nbytes / 2**20) if nbytes else ""))
    for route, (cold, warm, size) in serve.items():
        print("| serve /%s (cold / cached) | %.3f / %.4f | %.1f MiB |" % (route, cold, warm, size / 2**20))
    print("| serve states as JSON (baseline, encode only) | %.3f | %.1f MiB |"
          % (t_json_states, len(states_json) / 2**20))
    print("| reader peak Python allocations, ours / baseline tensors | %.0f / %.0f MiB | |"
          % (peak_ours / 2**20, peak_tensor / 2**20))
    print()
    ours_bytes = dir_bytes(pb_path)
    print("ratios (baseline / ours):")
    print("  bytes on disk vs tensor summaries: %.2fx smaller" % (dir_bytes(tensor_path) / ours_bytes))
    print("  bytes vs JSON: %.1fx smaller" % (len(json_bytes) / ours_bytes))
    print("  write time vs tensor summaries: TF op takes %.2fx, protobuf path %.2fx the"
          " baseline's time (validation, float16 conversion, token vocabulary)"
          % (t_tf / t_tensor, t_pb / t_tensor))
    print("  HiddenStateWriter vs TensorBoard's EventFileWriter: %.1fx faster" % (t_efw / t_pb))
    print("  write time vs JSON encode: %.1fx faster (protobuf path)" % (t_json / t_pb))
    print("  read time vs tensor summaries: %.2fx faster" % (t_read_tensor / t_read_ours))
    print("  serve states (cold) vs JSON encode: %.1fx faster" % (t_json_states / serve["states"][0]))


if __name__ == "__main__":
    main()
