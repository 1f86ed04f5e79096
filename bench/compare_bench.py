"""GET /compare and GET /training: time once both checkpoints are decoded, cold and cached,
against the decode of one checkpoint by the reader, measured in the same run (issue 15).

Not a test: run it by hand and record the output in bench/RESULTS.md ("Compare mode").

    python bench/compare_bench.py                    # 2 x 100,000 points (500 x 200, 256 units)
    python bench/compare_bench.py synthetic N T H
    python bench/compare_bench.py real LOGDIR        # every run and tag of a logged run

`synthetic`: run "r", tag "lstm" at steps 0, 1, 2 (tanh states, float16 as logged; 5
softmax classes, tokens from 5,000 words, labels), and tag "gru" at step 1 with half the
units: one probe set. Through TensorBoard's WSGI app and data provider (a fresh plugin, no
socket):

- baseline: loading A as the tab does (/sequences, /tokens, /probabilities, /states,
  /distances), cold: the reader reads and decodes every blob of the checkpoint; then B
  likewise. The tab has loaded both by the time it asks for their comparison;
- `/compare` of steps 0 and 2 (same units), "cold" (first request: the probe-set check,
  per-checkpoint predictions, flips and unit means, the answer) and "cached" (median of
  5); then at another threshold (the flips again, the rest cached); then lstm against
  gru (Procrustes, cold and cached);
- `/training` of the run's 3 checkpoints (step 1 not loaded before: its blobs are read
  and decoded in this request), cold and cached.

`real`: for each run and tag of LOGDIR, every checkpoint loaded as the tab does, then step 0
against the last and every consecutive pair, cold and cached, with the transition matrix, and
`/training` of the tag; the decode baseline per tag.
"""

import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.support.plugin_client import PREFIX, make_client  # noqa: E402

C, VOCAB = 5, 5000


def timed(get, path):
    """(seconds, JSON answer or None) of one GET, checked to be a 200."""
    start = time.perf_counter()
    response = get(PREFIX + path)
    body = response.get_data()  # a streamed body is sent (and read) here
    seconds = time.perf_counter() - start
    assert response.status_code == 200, body[:300]
    is_json = response.headers["Content-Type"].startswith("application/json")
    return seconds, (json.loads(body) if is_json else None)


def median_of(get, path, repeats=5):
    return statistics.median(timed(get, path)[0] for _ in range(repeats))


def checkpoint_arrays(n, t, h, seed, probe):
    rng = np.random.default_rng(seed)
    states = np.tanh(rng.standard_normal((n, t, h), dtype=np.float32))
    logits = 2 * rng.standard_normal((n, t, C), dtype=np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return dict(states=states, probabilities=probabilities, **probe)


def write_synthetic(logdir, n, t, h):
    from tb_rnn_hidden import writer

    rng = np.random.default_rng(0)
    words = np.array(["w%d" % i for i in range(VOCAB)], dtype=object)
    probe = dict(tokens=words[rng.integers(0, VOCAB, size=(n, t))], lengths=np.full(n, t),
                 labels=rng.integers(0, C, size=n), class_names=["c%d" % k for k in range(C)])
    with writer.HiddenStateWriter(os.path.join(logdir, "r")) as w:
        for step in (0, 1, 2):
            w.add("lstm", step=step, **checkpoint_arrays(n, t, h, step, probe))
        w.add("gru", step=1, **checkpoint_arrays(n, t, h // 2, 7, probe))


def compare_path(a, b, threshold=None):
    path = "/compare?run=%s&tag=%s&step=%d&run_b=%s&tag_b=%s&step_b=%d" % (a + b)
    return path + ("" if threshold is None else "&flip_threshold=%r" % threshold)


def states_path(address):
    return "/states?run=%s&tag=%s&step=%d" % address


# What the tab reads of a checkpoint it shows (controllers/checkpoint_loader.ts): /sequences,
# then the arrays it has (numeric sequences have no tokens).
TAB_ROUTES = ("/sequences", "/tokens", "/probabilities", "/states", "/distances")


def load(get, address):
    """Seconds to load a checkpoint as the tab does, cold: every blob read and decoded."""
    query = "?run=%s&tag=%s&step=%d" % address
    seconds, meta = timed(get, "/sequences" + query)
    skipped = {"/tokens": not meta.get("has_tokens", True),
               "/probabilities": not meta.get("has_probabilities", True)}
    return seconds + sum(timed(get, route + query)[0] for route in TAB_ROUTES[1:] if not skipped.get(route))


def synthetic(n=500, t=200, h=256):
    logdir = tempfile.mkdtemp(prefix="compare_bench_")
    write_synthetic(logdir, n, t, h)
    get = make_client(logdir).get
    a, b, gru = ("r", "lstm", 0), ("r", "lstm", 2), ("r", "gru", 1)
    print("synthetic: %d sequences x %d steps = %d points per checkpoint, %d units, %d classes"
          % (n, t, n * t, h, C))
    decode_a = load(get, a)
    decode_b = load(get, b)
    probabilities = median_of(get, "/probabilities?run=r&tag=lstm&step=0")
    cold, body = timed(get, compare_path(a, b))
    cached = median_of(get, compare_path(a, b))
    threshold = timed(get, compare_path(a, b, 0.3))[0]
    load(get, gru)
    procrustes_cold, procrustes = timed(get, compare_path(a, gru))
    procrustes_cached = median_of(get, compare_path(a, gru))
    training_cold, training = timed(get, "/training?run=r&tag=lstm")
    training_cached = median_of(get, "/training?run=r&tag=lstm")
    rows = [
        ("baseline: loading A as the tab does (%s), cold" % ", ".join(TAB_ROUTES), decode_a),
        ("loading B likewise, cold", decode_b),
        ("baseline: /probabilities of A, cached", probabilities),
        ("/compare lstm 0 vs 2 (same units), cold", cold),
        ("/compare lstm 0 vs 2, cached (median of 5)", cached),
        ("/compare lstm 0 vs 2, another flip_threshold", threshold),
        ("/compare lstm 0 vs gru 1 (procrustes, %d vs %d units), cold" % (h, h // 2),
         procrustes_cold),
        ("/compare lstm 0 vs gru 1, cached (median of 5)", procrustes_cached),
        ("/training lstm (3 checkpoints, step 1 not yet decoded), cold", training_cold),
        ("/training lstm, cached (median of 5)", training_cached),
    ]
    for name, seconds in rows:
        print("| %s | %.4f |" % (name, seconds))
    for name, baseline in (("A (the first: warm-up included)", decode_a), ("B", decode_b)):
        print("ratios to loading %s: /compare cold %.3f, cached %.5f; procrustes cold %.3f"
              % (name, cold / baseline, cached / baseline, procrustes_cold / baseline))
    print("answer: transitions %s, units %s / %s, moved_max %.3f, training change %s"
          % (body["transitions"], body["units"], procrustes["units"], body["moved_max"],
             [None if c is None else round(c, 3) for c in training["change"]]))


def real(logdir):
    get = make_client(logdir).get
    listing = timed(get, "/tags")[1]
    _real_layers(get, listing)
    print("across runs:")
    across_runs(get, listing)


def _real_layers(get, listing):
    for run, tags in sorted(listing.items()):
        for tag, entry in sorted(tags.items()):
            steps = entry["steps"]
            points = timed(get, "/sequences?run=%s&tag=%s&step=%d" % (run, tag, steps[0]))[1]
            print("run %r, tag %r: steps %s, %d sequences, %d points, %d units"
                  % (run, tag, steps, points["num_sequences"], points["num_steps"],
                     points["state_size"]))
            decodes = [load(get, (run, tag, step)) for step in steps]
            print("  baseline: loading a checkpoint as the tab does, cold, median over "
                  "checkpoints: %.4f s" % statistics.median(decodes))
            pairs = [(steps[0], steps[-1])] + list(zip(steps, steps[1:]))
            for x, y in pairs:
                path = compare_path((run, tag, x), (run, tag, y))
                cold, body = timed(get, path)
                cached = median_of(get, path)
                print("  /compare %d vs %d: cold %.4f s, cached %.5f s; transitions %s, "
                      "changed %d of %d, moved_max %.3f"
                      % (x, y, cold, cached, body["transitions"],
                         sum(k.startswith("became") for k in body["change"] or ()),
                         body["num_sequences"], body["moved_max"]))
            cold, training = timed(get, "/training?run=%s&tag=%s" % (run, tag))
            cached = median_of(get, "/training?run=%s&tag=%s" % (run, tag))
            print("  /training: cold %.4f s, cached %.5f s; accuracy %s; flips %s; change %s"
                  % (cold, cached, [round(v, 3) for v in training["accuracy"]],
                     training["flips"],
                     [None if v is None else round(v, 3) for v in training["change"]]))


def across_runs(get, listing):
    """`/compare` of the same step of every two run/tag pairs logged on the same steps (the
    demo's LSTM and GRU: Procrustes), cold and cached, where their probe sets agree."""
    layers = [(run, tag, tuple(entry["steps"])) for run, tags in sorted(listing.items())
              for tag, entry in sorted(tags.items())]
    for i, (run_a, tag_a, steps_a) in enumerate(layers):
        for run_b, tag_b, steps_b in layers[i + 1:]:
            if steps_a != steps_b:
                continue
            for step in sorted({steps_a[min(1, len(steps_a) - 1)], steps_a[-1]}):
                path = compare_path((run_a, tag_a, step), (run_b, tag_b, step))
                start = time.perf_counter()
                response = get(PREFIX + path)
                cold = time.perf_counter() - start
                if response.status_code != 200:
                    print("  /compare %s/%s vs %s/%s: %d" % (run_a, tag_a, run_b, tag_b, response.status_code))
                    continue
                body = json.loads(response.get_data())
                print("  /compare %s/%s vs %s/%s at step %d (%s): cold %.4f s, cached %.5f s; transitions %s"
                      % (run_a, tag_a, run_b, tag_b, step, body["units"], cold, median_of(get, path),
                         body["transitions"]))


def main(argv):
    if argv and argv[0] == "real":
        real(argv[1])
    elif argv and argv[0] == "synthetic":
        synthetic(*(int(v) for v in argv[1:4]))
    else:
        synthetic()


if __name__ == "__main__":
    main(sys.argv[1:])
