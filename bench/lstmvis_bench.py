"""LSTMVis' match search: ours (`analysis/units.py`, bit-packed and cached) against a
direct NumPy transcription of LSTMVis' own algorithm, in the same run (issue 13).

Not a test: run it by hand and record the output in bench/RESULTS.md
("LSTMVis match search").

    python bench/lstmvis_bench.py                      # 1,000,000 steps x 256 units (~3 min)
    python bench/lstmvis_bench.py synthetic STEPS UNITS
    python bench/lstmvis_bench.py real LOGDIR [RUN TAG]  # every checkpoint of logged runs
    python bench/lstmvis_bench.py search [--only search|neighbors] [--real LOGDIR RUN TAG]

`search` runs the token search and nearest-neighbour half of the issue's speed goals
(bench/lstmvis_search_bench.py, its options after `search`).

`synthetic`: tanh of smoothed noise (sequences of 200 steps, float16 as logged), with
units 3, 7 and 11 planted: on exactly inside bracketed ranges of each sequence. Queries:
the planted units (with LSTMVis' default left constraint, and with none), 5 and 10
random units. "first" builds the packed on/off matrix of the threshold and answers;
"cached" answers with it built (median of 3), as the server does for the next query at
that threshold. The direct implementation follows LSTMVis' `query_similar_activations`
(precise mode: batches of floor(5e6 / P) units for c[t], per-k clipping and run-length
encoding, candidates in a dict up to 10,000 by constraint score, then per candidate
all H units discretised to +-1 over [pos - 1, pos + len + 1) and dotted with the mask)
on one flat axis, as LSTMVis has it, with its index wrap-arounds at the ends guarded.
For the comparison ours runs on one flat sequence too; "same top 50" compares the
ranking keys (intersection, union, length) of the best 50. They differ only where
LSTMVis' cap of 10,000 candidates binds ("its cap"): it then drops runs by constraint
score (ties in arbitrary set order) that ours ranks.

`real`: every checkpoint of a run (e.g. the demo's, untrained to last epoch): a
hypothesis selected at the last checkpoint (the range of up to 6 steps with the most
selected units, off one step before), then that query at every checkpoint: times and
match quality (the "when did these units learn this" curve).
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from tb_rnn_hidden.analysis import derived  # noqa: E402
from tb_rnn_hidden.analysis import units as units_lib  # noqa: E402

THRESHOLD = units_lib.DEFAULT_THRESHOLD
PLANTED = [3, 7, 11]


# -- LSTMVis, directly ----------------------------------------------------------------------

def _rle(values):
    """(lengths, starts, values) of the runs of a 1-D array (LSTMVis' `hf.rle`)."""
    starts = np.concatenate([[0], np.flatnonzero(values[1:] != values[:-1]) + 1])
    lengths = np.diff(np.concatenate([starts, [len(values)]]))
    return lengths, starts, values[starts]


def lstmvis_direct(states, cells, threshold, left=True, right=False, cap=10_000, limit=50):
    """[(pos, length, intersection, union)] best first, and the candidate count (`cap`
    None: no cap)."""
    steps = len(states)
    per_batch = max(1, int(5e6 // steps))
    counts = None
    for b in range(0, len(cells), per_batch):
        batch = (np.asarray(states[:, cells[b : b + per_batch]], np.float32) >= threshold)
        counts = batch.sum(axis=1) if counts is None else counts + batch.sum(axis=1)
    k, clipped, collected = len(cells), counts.copy(), {}
    while k > 0 and (cap is None or len(collected) < cap):
        clipped[clipped > k] = k
        lengths, positions, values = _rle(clipped)
        found = np.flatnonzero((values == k) & (lengths >= 2))
        before = np.take(values, found - 1, mode="wrap")
        after = np.take(values, found + 1, mode="clip")
        score = (k - before - after if left and right else k - before if left
                 else k - after if right else np.zeros(len(found), np.int64))
        for entry in set(zip(lengths[found].tolist(), positions[found].tolist(), score.tolist())):
            collected.setdefault((entry[0], entry[1]), entry + (k,))
        k -= 1
    # LSTMVis sorts by score alone, ties in set order; here ties by k, then position.
    candidates = sorted(collected.values(), key=lambda c: (-c[2], -c[3], c[1]))[:cap]
    results = []
    for length, pos, _, _ in candidates:
        low, high = max(pos - 1, 0), min(pos + length + 1, steps)
        window = np.where(np.asarray(states[low:high], np.float32) >= threshold, 1, -1)
        mask = np.ones(high - low)
        has_before, has_after = pos > 0, pos + length < steps
        if has_before:
            mask[0] = -1 if left else 0
        if has_after:
            mask[-1] = -1 if right else 0
        pattern = length + (left and has_before) + (right and has_after)
        active = np.flatnonzero(mask @ window == pattern)
        results.append((pos, length, len(np.intersect1d(active, cells)),
                        len(np.union1d(active, cells))))
    results.sort(key=lambda r: (-r[2], r[3], -r[1]))
    return results[:limit], len(candidates)


# -- measuring ------------------------------------------------------------------------------

def _seconds(function, repeat=1):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def compare(states, lengths, query, label, left=True, right=False, direct=True):
    """Prints ours (first, cached) and the direct transcription for one query."""
    offsets = derived.offsets(lengths)
    options = dict(off_before=left, off_after=right)
    build_s, packed = _seconds(lambda: units_lib.pack_on(states, THRESHOLD))
    first_s, found = _seconds(lambda: units_lib.find_matches(packed, offsets, query, **options))
    cached_s, found = _seconds(
        lambda: units_lib.find_matches(packed, offsets, query, **options), repeat=3)
    line = ("%-28s |S|=%-2d ours: first %.3f s (pack %.3f + match %.3f), cached %.3f s, "
            "%d candidates, quality %.2f" % (
                label, len(query), build_s + first_s, build_s, first_s, cached_s,
                found.candidates, units_lib.match_quality(found, len(query))))
    if direct:
        flat = units_lib.find_matches(packed, np.array([0, len(states)]), query, **options)
        direct_s, (theirs, count) = _seconds(
            lambda: lstmvis_direct(states, list(query), THRESHOLD, left, right))
        ours = sorted(zip(flat.intersection.tolist(), flat.union.tolist(), flat.length.tolist()))
        same = ours == sorted((r[2], r[3], r[1]) for r in theirs)
        line += ("; direct LSTMVis %.2f s (%d candidates%s, %.0fx ours cached), "
                 "same top 50: %s" % (direct_s, count, ", its cap" if count == 10_000 else "",
                                      direct_s / cached_s, "yes" if same else "no"))
    print(line, flush=True)
    return found


def synthetic_states(steps, num_units, length=200, seed=0):
    """[P, H] float16 tanh of noise smoothed over 8 steps, `PLANTED` units on inside
    bracketed ranges; lengths."""
    rng = np.random.default_rng(seed)
    num_sequences = steps // length
    states = np.empty((num_sequences * length, num_units), dtype=np.float16)
    chunk = max(1, (1 << 24) // (length * num_units))
    for first in range(0, num_sequences, chunk):
        n = min(chunk, num_sequences - first)
        noise = rng.standard_normal((n, length + 8, num_units), dtype=np.float32).cumsum(axis=1)
        smooth = (noise[:, 8:] - noise[:, :-8]) / np.sqrt(8)
        block = np.tanh(smooth * 0.8 - 0.2)
        block[:, :, PLANTED] = -0.6
        for i in range(n):
            t = int(rng.integers(0, 10))
            while t + 2 < length:
                end = min(t + int(rng.integers(2, 30)), length)
                block[i, t:end, PLANTED] = 0.8
                t = end + int(rng.integers(5, 60))
        states[first * length : (first + n) * length] = block.reshape(-1, num_units)
    return states, np.full(num_sequences, length)


def synthetic(steps=1_000_000, num_units=256):
    print("synthetic: %d steps x %d units, float16, sequences of 200 steps" % (steps, num_units))
    start = time.perf_counter()
    states, lengths = synthetic_states(steps, num_units)
    print("generated in %.1f s" % (time.perf_counter() - start), flush=True)
    rng = np.random.default_rng(1)
    queries = [(PLANTED, "planted, off before", True), (PLANTED, "planted, no constraint", False),
               (sorted(rng.choice(num_units, 5, replace=False)), "random 5", True),
               (sorted(rng.choice(num_units, 10, replace=False)), "random 10", True)]
    for query, label, left in queries:
        compare(states, lengths, query, label, left=left)
    head = states[:100_000]
    packed = units_lib.pack_on(head, THRESHOLD)
    for query, label, left in queries:
        ours = units_lib.find_matches(packed, np.array([0, len(head)]), query, off_before=left)
        theirs, count = lstmvis_direct(head, list(query), THRESHOLD, left, cap=None)
        same = list(zip(ours.point.tolist(), ours.length.tolist(), ours.intersection.tolist(),
                        ours.union.tolist())) == theirs
        print("first 100,000 steps, %-24s: direct LSTMVis without its cap (%d candidates): "
              "the same 50 matches in the same order: %s" % (label, count, "yes" if same else "no"))


def _hypothesis(checkpoint, max_sequences=40):
    """(units, sequence, start, end): the range of 2-6 steps with the most selected units."""
    best = ([], 0, 0, 0)
    offsets, states = checkpoint.offsets, checkpoint.states
    for i, length in enumerate(checkpoint.lengths[:max_sequences].tolist()):
        for start in range(length):
            for end in range(start + 2, min(start + 6, length) + 1):
                before, after = units_lib.clip_off_extents(length, start, end, 1, 0)
                window = states[offsets[i] + start - before : offsets[i] + end + after]
                found = units_lib.selected_units(window, THRESHOLD, before, after)
                if len(found) > len(best[0]):
                    best = (found.tolist(), i, start, end)
    return best


def real(logdir, run=None, tag=None):
    """Every checkpoint of `run`/`tag` (default: of every run and tag in `logdir`)."""
    from support.plugin_client import make_data_provider
    from tensorboard import context as tb_context

    from tb_rnn_hidden.server import reader as checkpoint_reader

    reader = checkpoint_reader.CheckpointReader(make_data_provider(logdir, {"rnn_hidden": 0}))
    ctx = tb_context.RequestContext()
    listing = reader.list_series(ctx, "")
    for run_name, tags in sorted(listing.items()):
        for tag_name, entry in sorted(tags.items()):
            if run in (None, run_name) and tag in (None, tag_name):
                real_series(reader, ctx, logdir, run_name, tag_name, entry["steps"])


def real_series(reader, ctx, logdir, run, tag, steps):
    last = reader.checkpoint(ctx, "", run, tag, steps[-1])
    start_s = time.perf_counter()
    units, sequence, start, end = _hypothesis(last)
    print("%s %s/%s: %d checkpoints of %d points x %d units; hypothesis from step %d, "
          "sequence %d [%d, %d): units %s (searched in %.1f s)" % (
              logdir, run, tag, len(steps), len(last.states), last.states.shape[1], steps[-1],
              sequence, start, end, units, time.perf_counter() - start_s), flush=True)
    for step in steps:
        checkpoint = reader.checkpoint(ctx, "", run, tag, step)
        compare(checkpoint.states, checkpoint.lengths, units, "step %d" % step)


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "synthetic"
    if mode == "synthetic":
        synthetic(*(int(a) for a in sys.argv[2:4]))
    elif mode == "real":
        real(*sys.argv[2:5])
    elif mode == "search":
        import lstmvis_search_bench  # beside this file

        sys.argv = [sys.argv[0]] + sys.argv[2:]
        lstmvis_search_bench.main()
    else:
        sys.exit(__doc__)
