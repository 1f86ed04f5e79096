"""t-SNE's input affinities: openTSNE's perplexity-based kNN graph, searched in chunks.

Split from the optimisation (tsne.py) because the search is most of a layout's time at
50k points, and it must report progress and stop when cancelled.
"""

import numpy as np

# Affinities: exact kNN below this many points (openTSNE's choice), Annoy above.
EXACT_KNN_BELOW = 1000
ANNOY_TREES = 50
ALIGNED_ANNOY_TREES = 25
KNN_CHUNK = 1000
KNN_SHARES = (0.07, 0.87, 0.06)  # indexing, queries, perplexity calibration (50k points)
# For the progress fraction: the affinity phase costs as much as ~45 iterations after
# early exaggeration at 10k points, growing with n**0.9.
AFFINITY_COST_AT_10K = 45.0
AFFINITY_COST_EXPONENT = 0.9


def n_jobs():
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def affinity_cost(n, trees=ANNOY_TREES):
    """The affinity phase's cost, in iterations after early exaggeration (for progress).

    The kNN search (all but the calibration) grows with the number of trees.
    """
    share = KNN_SHARES[2] + (1 - KNN_SHARES[2]) * trees / ANNOY_TREES
    return AFFINITY_COST_AT_10K * (n / 10_000) ** AFFINITY_COST_EXPONENT * share


def _annoy_neighbours(x, k, seed, jobs, report, trees):
    """openTSNE's Annoy kNN (same index, seed and results), queried in chunks.

    openTSNE builds the kNN graph in one call that can neither report progress
    nor stop; at 50k points it is most of the affinity time (measured: adding
    items 0.4 s, building 50 trees 1.5 s, querying 24 s, calibration 1.5 s).
    Querying chunk by chunk lets the job report it and be cancelled between chunks.
    """
    from concurrent.futures import ThreadPoolExecutor

    from openTSNE.dependencies.annoy import AnnoyIndex

    n = x.shape[0]
    index = AnnoyIndex(x.shape[1], "euclidean")
    index.set_seed(np.random.RandomState(seed).randint(np.iinfo(np.int32).max))
    for i in range(n):
        index.add_item(i, x[i])
    report(KNN_SHARES[0], "nearest neighbours: indexing")
    index.build(n_jobs=jobs, n_trees=trees)
    neighbours = np.zeros((n, k), dtype=int)
    distances = np.zeros((n, k))

    def query(rows):
        for i in rows:
            # Annoy returns the point itself first.
            found, found_distances = index.get_nns_by_item(i, k + 1, include_distances=True)
            neighbours[i] = found[1:]
            distances[i] = found_distances[1:]

    # Annoy releases the GIL while it searches: threads run in parallel.
    wave = KNN_CHUNK * jobs
    with ThreadPoolExecutor(jobs) as pool:
        for start in range(0, n, wave):
            report(
                KNN_SHARES[0] + KNN_SHARES[1] * start / n,
                "nearest neighbours: %d of %d points" % (start, n),
            )
            stop = min(n, start + wave)
            chunks = [range(a, min(stop, a + KNN_CHUNK)) for a in range(start, stop, KNN_CHUNK)]
            list(pool.map(query, chunks))
    return neighbours, distances


def affinities(x, perplexity, seed, report, trees=ANNOY_TREES):
    """openTSNE's PerplexityBasedNN, with its kNN search split so it reports progress.

    report(fraction of this phase, phase) is called between chunks, and raises
    Cancelled when the job is cancelled.
    """
    from openTSNE import affinity, nearest_neighbors

    n = x.shape[0]
    jobs = n_jobs()
    if n < EXACT_KNN_BELOW:  # openTSNE's own choice for small data: exact kNN, fast
        return affinity.PerplexityBasedNN(
            x, perplexity=perplexity, metric="euclidean", n_jobs=jobs, random_state=seed,
        )
    k = min(n - 1, int(3 * perplexity))  # openTSNE's k_neighbors="auto"
    neighbours, distances = _annoy_neighbours(x, k, seed, jobs, report, trees)
    report(KNN_SHARES[0] + KNN_SHARES[1], "affinities: calibrating perplexity")
    return affinity.PerplexityBasedNN(
        perplexity=perplexity,
        n_jobs=jobs,
        knn_index=nearest_neighbors.PrecomputedNeighbors(neighbours, distances),
    )
