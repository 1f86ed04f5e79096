"""Token search and nearest neighbours at scale, against naive baselines in the same run.

Not a test: run it by hand and record the output in bench/RESULTS.md
("Token search and neighbours").

    python bench/lstmvis_search_bench.py                       # 1M tokens, 1M x 256 states
    python bench/lstmvis_search_bench.py --points 200000       # smaller
    python bench/lstmvis_search_bench.py --only search         # or neighbors
    python bench/lstmvis_search_bench.py --real LOGDIR RUN TAG # every checkpoint, and digits

Search: 1M tokens in sequences of 200, a word vocabulary (5,000 words, Zipf-distributed)
and a character one; `token_search` (exact, prefix, regex) against a Python loop over
the tokens (exact, prefix) and Python's `re` over each sequence's text with a per-character
map back to tokens (regex); both must find the same hits. Neighbours: clustered tanh
states (hidden-state-like: 50 clusters on an 8-D manifold) of `--points` x 256 float16;
`neighbors` exact and approximate (the index build, then per-query times and recall@k
against exact), against NumPy brute force (`np.linalg.norm` over the whole float32 copy)
and scikit-learn's NearestNeighbors (brute), and openTSNE's Annoy on `--annoy-points`;
then recall on harder data (tanh random walks, pure noise) of `--points` / 10.
`--real` repeats the neighbour recall and timings on every checkpoint of a logged run
(the demo's, untrained to last epoch) and on scikit-learn's digits (1,797 x 64).
"""

import argparse
import os
import platform
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from tb_rnn_hidden.analysis import neighbors  # noqa: E402
from tb_rnn_hidden.analysis import token_search  # noqa: E402

SEQUENCE_LENGTH = 200


CPU = {}  # the median CPU seconds of the last `timed` call: the wall time of a busy machine


def timed(function, *args, repeat=1, **kwargs):
    """(result, median wall seconds of `repeat` calls); CPU["last"] the median CPU seconds."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU["last"] = float(np.median(cpu))
    return result, float(np.median(times))


def ms(seconds):
    return "%.1f ms" % (seconds * 1e3)


def wall_cpu(seconds):
    """Wall time, and the CPU time of the last `timed` call (all threads)."""
    return "%s (cpu %s)" % (ms(seconds), ms(CPU["last"]))


# -- search ------------------------------------------------------------------------------


def word_checkpoint(points, seed=0):
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    vocabulary = list(dict.fromkeys(
        "".join(rng.choice(letters, rng.integers(2, 9))) for _ in range(5000)))
    token_ids = ((rng.zipf(1.2, points) - 1) % len(vocabulary)).astype(np.int32)
    return token_ids, vocabulary


def character_checkpoint(points, seed=0):
    rng = np.random.default_rng(seed)
    vocabulary = list("abcdefghij ()\n")
    weights = np.array([8, 3, 3, 3, 8, 2, 2, 4, 6, 1, 12, 2, 2, 1], dtype=float)
    token_ids = rng.choice(len(vocabulary), points, p=weights / weights.sum()).astype(np.int32)
    return token_ids, vocabulary


def naive_token_hits(token_ids, lengths, vocabulary, tokens, prefix):
    hits, point = [], 0
    ids = token_ids.tolist()
    for length in lengths:
        for start in range(length - len(tokens) + 1):
            for j, token in enumerate(tokens):
                word = vocabulary[ids[point + start + j]]
                if not (word.startswith(token) if prefix else word == token):
                    break
            else:
                hits.append((point + start, len(tokens)))
        point += length
    return hits


def naive_regex_hits(token_ids, lengths, vocabulary, pattern):
    separator = "" if token_search.is_character_vocabulary(vocabulary) else " "
    compiled = re.compile(pattern)
    hits, point, ids = set(), 0, token_ids.tolist()
    for length in lengths:
        words = [vocabulary[i] for i in ids[point : point + length]]
        owner = []
        for index, word in enumerate(words):
            if index:
                owner += [None] * len(separator)
            owner += [index] * len(word)
        for match in compiled.finditer(separator.join(words)):
            covered = [owner[c] for c in range(*match.span()) if owner[c] is not None]
            if covered:
                hits.add((point + covered[0], covered[-1] - covered[0] + 1))
        point += length
    return sorted(hits)


def bench_search(points):
    lengths = np.full(points // SEQUENCE_LENGTH, SEQUENCE_LENGTH)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    print("## Token search over %d tokens (%d sequences of %d)"
          % (lengths.sum(), len(lengths), SEQUENCE_LENGTH))
    for kind, make in (("words", word_checkpoint), ("characters", character_checkpoint)):
        token_ids, vocabulary = make(int(lengths.sum()))
        text, build = timed(token_search.token_text, token_ids, offsets, vocabulary)
        print("%s (vocabulary %d): regex text built once in %s (%.1f MB)"
              % (kind, len(vocabulary), ms(build), len(text.text) / 1e6))
        words = vocabulary
        if kind == "words":  # a frequent word, a pair, prefixes, patterns
            queries = [(words[3], "exact"), (words[3] + " " + words[7], "exact"),
                       (words[40][:2], "prefix"), (words[3][:2] + " " + words[7][:1], "prefix"),
                       ("ab.d", "regex"), ("^" + words[3], "regex"),
                       (words[3] + " " + words[7], "regex"), ("q[a-e]+z", "regex")]
        else:
            queries = [("a", "exact"), ("(ab", "exact"), ("g j", "exact"),
                       (r"\([^()]*\)", "regex"), ("a+b", "regex"), ("^(a|b)", "regex"),
                       ("j{3}", "regex"), (".", "regex")]
        for query, mode in queries:
            hits, seconds = timed(token_search.search, token_ids, offsets, vocabulary, query,
                                  mode, text, repeat=3)
            search_time = wall_cpu(seconds)
            body, answer = timed(token_search.hits_json, hits, offsets, 1000)
            found = list(zip(hits.points.tolist(), hits.lengths.tolist()))
            if mode == "regex":
                expected, naive = timed(naive_regex_hits, token_ids, lengths, vocabulary, query)
            else:
                tokens = token_search.query_tokens(query, vocabulary)
                expected, naive = timed(naive_token_hits, token_ids, lengths, vocabulary,
                                        tokens, mode == "prefix")
            assert found == expected, (query, mode, len(found), len(expected))
            print("  %-6s %-22r %8d hits  search %-26s + JSON of 1,000 %7s   naive %9s  (x%.0f)"
                  % (mode, query, body["total"], search_time, ms(answer), ms(naive),
                     naive / seconds))


# -- neighbours --------------------------------------------------------------------------


def clustered_states(points, size, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, 8))
    states = np.empty((points, size), dtype=np.float16)
    mixing = rng.standard_normal((8, size))
    for start in range(0, points, 100_000):
        n = min(100_000, points - start)
        latent = centres[rng.integers(0, 50, n)] + 0.3 * rng.standard_normal((n, 8))
        noise = 0.05 * rng.standard_normal((n, size))
        states[start : start + n] = np.tanh(latent @ mixing / 3 + noise)
    return states


def recall(found, truth):
    return len(set(found.tolist()) & set(truth.tolist())) / max(1, len(truth))


def bench_neighbor_methods(states, queries, label, k=10, dims=neighbors.PROJECTED_DIMS):
    """Index build, per-query times and recall@k of approximate against exact."""
    index, build = timed(neighbors.projected_index, states, dims=dims)
    build = wall_cpu(build)
    exact_times, approx_times, recalls, proven = [], [], [], 0
    exact_cpu, approx_cpu = [], []
    for point in queries:
        exact, seconds = timed(neighbors.exact_neighbors, states, point, k)
        exact_times.append(seconds)
        exact_cpu.append(CPU["last"])
        found, seconds = timed(neighbors.approximate_neighbors, states, index, point, k)
        approx_times.append(seconds)
        approx_cpu.append(CPU["last"])
        recalls.append(recall(found.points, exact.points))
        proven += found.exact
    print("  %s: %d x %d, %d axes; index build %s (%.0f MiB); exact %s (cpu %s)/query; approximate "
          "%s (cpu %s)/query (p95 %s); recall@%d %.3f (min %.2f); proven exact %d/%d; default %s"
          % (label, states.shape[0], states.shape[1], index.axes.shape[1], build,
             sum(a.nbytes for a in index) / 2**20, ms(np.median(exact_times)),
             ms(np.median(exact_cpu)), ms(np.median(approx_times)), ms(np.median(approx_cpu)),
             ms(np.percentile(approx_times, 95)), k,
             np.mean(recalls), np.min(recalls), proven, len(queries),
             neighbors.default_method(*states.shape)))
    return index


def bench_neighbors(points, size, query_count, annoy_points):
    print("## Nearest neighbours among %d x %d (float16, clustered tanh states)" % (points, size))
    states, made = timed(clustered_states, points, size)
    rng = np.random.default_rng(1)
    queries = [int(p) for p in rng.integers(0, points, query_count)]
    index = bench_neighbor_methods(states, queries, "k=10")
    for k in (100, 1000):
        times, recalls = [], []
        for point in queries[:5]:
            found, seconds = timed(neighbors.approximate_neighbors, states, index, point, k)
            times.append(seconds)
            recalls.append(recall(found.points, neighbors.exact_neighbors(states, point, k).points))
        print("  k=%d: approximate %s/query, recall@%d %.3f" % (k, ms(np.median(times)), k,
                                                              np.mean(recalls)))
    # Baselines: NumPy brute force over the whole float32 copy; scikit-learn brute.
    def numpy_brute(point):
        distances = np.linalg.norm(states.astype(np.float32) - states[point].astype(np.float32),
                                   axis=1)
        return np.argsort(distances)[1 : 11]

    _, seconds = timed(numpy_brute, queries[0], repeat=2)
    print("  baseline NumPy brute force (astype float32, norm, argsort): %s/query" % ms(seconds))
    from sklearn.neighbors import NearestNeighbors

    model, fit = timed(NearestNeighbors(n_neighbors=11, algorithm="brute").fit,
                       states.astype(np.float32))
    _, seconds = timed(model.kneighbors, states[queries[:1]].astype(np.float32), repeat=2)
    print("  baseline scikit-learn NearestNeighbors(brute): fit %s (float32 copy), %s/query"
          % (ms(fit), ms(seconds)))
    del model
    bench_annoy(states[:annoy_points], queries_within(annoy_points, query_count))
    # Harder data for the projection: the tanh random walks of the other benches (noise
    # around a walk), and pure noise (no structure at all: the worst case).
    rng = np.random.default_rng(3)
    smaller = max(1000, points // 10)
    walk = rng.standard_normal((smaller, size)).cumsum(axis=0) * 0.05
    for label, data in (("walks", walk + rng.standard_normal((smaller, size))),
                        ("noise", rng.standard_normal((smaller, size)))):
        bench_neighbor_methods(np.tanh(data).astype(np.float16),
                               queries_within(smaller, query_count), label)


def queries_within(points, count):
    return [int(p) for p in np.random.default_rng(2).integers(0, points, count)]


def bench_annoy(states, queries, k=10, trees=10):
    from openTSNE.dependencies.annoy import AnnoyIndex

    def build():
        index = AnnoyIndex(states.shape[1], "euclidean")
        index.set_seed(1)
        as_float32 = states.astype(np.float32)
        for i in range(len(states)):
            index.add_item(i, as_float32[i])
        index.build(trees, n_jobs=2)
        return index

    index, seconds = timed(build)
    times, recalls = [], []
    for point in queries:
        found, query = timed(index.get_nns_by_item, point, k + 1)
        times.append(query)
        found = np.array([p for p in found if p != point][:k])
        recalls.append(recall(found, neighbors.exact_neighbors(states, point, k).points))
    ours, ours_build = timed(neighbors.projected_index, states)
    ours_times, ours_recalls = [], []
    for point in queries:
        found, query = timed(neighbors.approximate_neighbors, states, ours, point, k)
        ours_times.append(query)
        truth = neighbors.exact_neighbors(states, point, k).points
        ours_recalls.append(recall(found.points, truth))
    print("  Annoy (openTSNE's, %d trees) on %d x %d: build %s, %s/query, recall@%d %.3f;"
          " ours on the same: build %s, %s/query, recall %.3f"
          % (trees, len(states), states.shape[1], ms(seconds), ms(np.median(times)), k,
             np.mean(recalls), ms(ours_build), ms(np.median(ours_times)), np.mean(ours_recalls)))


def bench_real(logdir, run, tag, query_count):
    from sklearn.datasets import load_digits
    from support.plugin_client import make_data_provider
    from tensorboard import context as tb_context

    from tb_rnn_hidden.server import reader as checkpoint_reader

    print("## Real data: %s run %r tag %r, and scikit-learn's digits" % (logdir, run, tag))
    reader = checkpoint_reader.CheckpointReader(make_data_provider(logdir, {"rnn_hidden": 0}))
    ctx = tb_context.RequestContext()
    for datum in reader.series(ctx, "", run, tag):
        checkpoint = reader.checkpoint(ctx, "", run, tag, datum.step)
        states = checkpoint.states
        queries = queries_within(len(states), query_count)
        bench_neighbor_methods(states, queries, "step %d" % datum.step)
        # With as many axes as units the projection loses nothing: a harder case too.
        bench_neighbor_methods(states, queries, "step %d" % datum.step, dims=4)
        if checkpoint.token_ids is not None and datum is reader.series(ctx, "", run, tag)[-1]:
            vocabulary = checkpoint.vocabulary
            for query, mode in ((vocabulary[1], "exact"), (vocabulary[1][:1], "prefix"),
                                (vocabulary[1] + ".", "regex")):
                hits, seconds = timed(token_search.search, checkpoint.token_ids,
                                      checkpoint.offsets, vocabulary, query, mode,
                                      checkpoint.token_text)
                print("  step %d search %s %r: %d hits in %s over %d tokens"
                      % (datum.step, mode, query, len(hits.points), ms(seconds), len(states)))
    digits = load_digits().data.astype(np.float32)
    for dims in (neighbors.PROJECTED_DIMS, 8):
        bench_neighbor_methods(digits, queries_within(len(digits), query_count), "digits",
                               dims=dims)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--state-size", type=int, default=256)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--annoy-points", type=int, default=50_000)
    parser.add_argument("--real", nargs=3, metavar=("LOGDIR", "RUN", "TAG"))
    parser.add_argument("--only", choices=("search", "neighbors"), help="run one half")
    args = parser.parse_args()
    print("# %s, %d cores, numpy %s, Python %s, %s, load average %.1f" % (
        platform.platform(), os.cpu_count(), np.__version__, platform.python_version(),
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]))
    if args.real:
        bench_real(*args.real, args.queries)
        return
    if args.only != "neighbors":
        bench_search(args.points)
    if args.only != "search":
        bench_neighbors(args.points, args.state_size, args.queries, args.annoy_points)
    print("# load average at the end %.1f" % os.getloadavg()[0])


if __name__ == "__main__":
    main()
