"""What annotation tracks cost: validation and encoding, bytes, decoding and serving.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/annotations_bench.py [--steps 1000000] [--repeats 3]

One checkpoint of `--steps` valid steps (sequences of 200 steps, 8 units, so
that the states do not hide the tracks' cost), logged with each kind of track
on its own: numeric (int64 depths, float64 scores, booleans) and categorical
(45 part-of-speech tags as a numpy str array and as an object array, and
50,000 distinct words: uint16 codes). Per track: the time `codec.encode` adds
over the same record without tracks, the bytes it adds, `decode_annotations`,
and `/annotations` served through TensorBoard's WSGI app and data provider
(cold: the first request of a new plugin, after `/sequences` read the header;
cached: the second).
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tb_rnn_hidden import writer  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from format_bench import timed  # noqa: E402  (median of repeats, beside this file)
from tb_rnn_hidden.records import codec  # noqa: E402
from tb_rnn_hidden.records import metadata  # noqa: E402
from tests.support.plugin_client import PREFIX, make_client  # noqa: E402

T, H = 200, 8


def tracks(n, rng):
    tags = np.array(["T%02d" % k for k in range(45)])
    words = np.array(["word%05d" % k for k in range(50_000)], dtype=object)
    depth = np.cumsum(rng.choice([-1, 1], size=(n, T)), axis=1)
    return {
        "depth (int64)": depth,
        "score (float64)": rng.standard_normal((n, T)),
        "flag (bool)": rng.random((n, T)) < 0.5,
        "pos (numpy str, 45)": tags[rng.integers(0, 45, size=(n, T))],
        "pos (objects, 45)": tags.astype(object)[rng.integers(0, 45, size=(n, T))],
        "word (objects, 50,000)": words[rng.integers(0, len(words), size=(n, T))],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.steps // T
    rng = np.random.default_rng(0)
    states = np.tanh(rng.standard_normal((n, T, H), dtype=np.float32))
    base_time, base = timed(lambda: codec.encode_checkpoint(states), args.repeats)
    base_bytes = sum(map(len, base))
    print("%d sequences x %d steps x %d units = %d steps; without tracks: encode %.3f s, %d bytes"
          % (n, T, H, n * T, base_time, base_bytes))
    print("| track | encode adds (s) | bytes added | decode (s) | serve cold / cached (s) |")
    print("|---|---|---|---|---|")
    for name, track in tracks(n, rng).items():
        seconds, blobs = timed(
            lambda: codec.encode_checkpoint(states, annotations={name: track}), args.repeats)
        header = codec.decode_header(blobs[metadata.BLOB_HEADER])
        decode, _ = timed(
            lambda: codec.decode_annotations(blobs[metadata.BLOB_ANNOTATIONS], header),
            args.repeats)
        with tempfile.TemporaryDirectory() as logdir:
            with writer.HiddenStateWriter(logdir + "/run") as w:
                w.add("lstm", states, step=0, annotations={name: track})
            client = make_client(logdir)
            query = "?run=run&tag=lstm&step=0&name=" + name.replace(" ", "%20").replace(
                ",", "%2C")
            client.get(PREFIX + "/sequences?run=run&tag=lstm&step=0")  # header read
            served = []
            for _ in range(2):
                start = time.perf_counter()
                response = client.get(PREFIX + "/annotations" + query)
                body = response.get_data()
                served.append(time.perf_counter() - start)
                assert response.status_code == 200 and len(body) == 4 * n * T
        print("| %s | %.3f | %d | %.4f | %.3f / %.4f |" % (
            name, seconds - base_time, sum(map(len, blobs)) - base_bytes, decode, *served))


if __name__ == "__main__":
    main()
