"""The k nearest steps of one point in the original hidden space (euclidean).

The point itself is excluded; neighbours come by ascending distance, ties by point
index. Two methods:

- exact: brute force over float32 copies of fixed-size chunks of the states, so
  memory stays bounded whatever P (a float16 checkpoint is never copied whole).
- approximate: a `ProjectedIndex` built once per checkpoint (the reader caches it):
  the states' top principal axes (PCA of an even sample of rows) and every point
  projected on them. A query ranks all points by projected distance, a matrix-vector
  product over [P, r], then re-ranks the nearest `candidates` by exact distance in the
  full space. A projected distance never exceeds the true one, so when the k-th exact
  distance found is below the smallest projected distance left out, the answer is
  provably exact (`Neighbors.exact`). Chosen by measurement (bench/RESULTS.md,
  "Token search and nearest neighbours"): at 1M x 256, 22 ms per query after a 2.5 s
  (CPU) build, in 126 MiB; Annoy (bundled with openTSNE) at 50k x 256 built in 2.8 s
  against our 0.25 s for recall@10 0.83 against 1.0, and would hold a float32 copy of
  the states (1 GiB at 1M); scikit-learn's NearestNeighbors has no index that helps
  in 256 dimensions (brute force: 420 ms per query at 1M).
"""

from typing import NamedTuple

import numpy as np

from tb_rnn_hidden.analysis import derived

METHODS = ("exact", "approximate")
MAX_K = 1000
DEFAULT_K = 10
# Exact by default up to this many state values (P x H): ~0.9 ms of CPU per 1,000
# points of 256 units, so ~60 ms at the bound.
EXACT_MAX_VALUES = 1 << 24
CHUNK_BYTES = 16 << 20  # float32 copy of the states per chunk of the exact search
PROJECTED_DIMS = 32
PCA_SAMPLE = 16_384  # rows whose covariance gives the axes: plenty for 32 of them


class Neighbors(NamedTuple):
    points: np.ndarray  # int64 [k'] (k' = min(k, P - 1))
    distances: np.ndarray  # float32 [k']
    method: str
    exact: bool  # provably the exact k nearest


def default_method(points, state_size):
    """Exact while brute force is fast enough, approximate above."""
    return "exact" if points * state_size <= EXACT_MAX_VALUES else "approximate"


def _nearest(squared, indices, k):
    """The `k` smallest of `squared` ([n]), ties by `indices`: (indices, squared)."""
    if len(squared) > k:
        kth = np.partition(squared, k - 1)[k - 1]
        below = np.flatnonzero(squared < kth)
        tied = np.flatnonzero(squared == kth)[: k - len(below)]  # ascending index
        keep = np.concatenate([below, tied])
        squared, indices = squared[keep], indices[keep]
    order = np.lexsort((indices, squared))
    return indices[order], squared[order]


def _squared_distances(rows, query):
    diff = rows.astype(np.float32, copy=False) - query
    return np.einsum("ij,ij->i", diff, diff)


def exact_neighbors(states, point, k, chunk_bytes=CHUNK_BYTES):
    """`Neighbors` of `point` by brute force over chunks of `states` [P, H]."""
    total, size = states.shape
    query = states[point].astype(np.float32)
    rows_per_chunk = max(1, chunk_bytes // (4 * max(1, size)))
    found_points, found_squared = [], []
    for start in range(0, total, rows_per_chunk):
        squared = _squared_distances(states[start : start + rows_per_chunk], query)
        indices = np.arange(start, start + len(squared), dtype=np.int64)
        if start <= point < start + len(squared):
            squared[point - start] = np.inf
        chosen, chosen_squared = _nearest(squared, indices, k)
        found_points.append(chosen)
        found_squared.append(chosen_squared)
    points, squared = _nearest(np.concatenate(found_squared), np.concatenate(found_points), k)
    keep = np.isfinite(squared)
    return Neighbors(points[keep], np.sqrt(squared[keep]).astype(np.float32), "exact", True)


class ProjectedIndex(NamedTuple):
    """The states projected on their top principal axes (a tuple: the cache counts its bytes)."""

    mean: np.ndarray  # float32 [H]
    axes: np.ndarray  # float32 [H, r]
    projected: np.ndarray  # float32 [P, r]
    norms: np.ndarray  # float32 [P] squared norm of each projected row


def projected_index(states, dims=PROJECTED_DIMS, sample=PCA_SAMPLE):
    """A `ProjectedIndex` of `states` [P, H]: PCA of an even sample of at most `sample`
    rows, then every row projected, chunk by chunk."""
    total, size = states.shape
    step = max(1, total // sample)
    rows = states[::step][:sample].astype(np.float32)
    mean = rows.mean(axis=0, dtype=np.float64)
    centred = rows - mean.astype(np.float32)
    _, eigenvectors = np.linalg.eigh((centred.T @ centred).astype(np.float64))
    axes = eigenvectors[:, ::-1][:, : min(dims, size)].astype(np.float32)
    mean = mean.astype(np.float32)
    projected = np.empty((total, axes.shape[1]), dtype=np.float32)
    rows_per_chunk = max(1, CHUNK_BYTES // (4 * max(1, size)))
    for start in range(0, total, rows_per_chunk):
        chunk = states[start : start + rows_per_chunk].astype(np.float32, copy=False)
        projected[start : start + len(chunk)] = (chunk - mean) @ axes
    norms = np.einsum("ij,ij->i", projected, projected)
    return ProjectedIndex(mean, axes, projected, norms)


def candidate_count(k, points):
    """How many points an approximate query re-ranks exactly."""
    return min(points - 1, max(10 * k, 500))


def approximate_neighbors(states, index, point, k):
    """`Neighbors` of `point`: the nearest candidates by projected distance, re-ranked."""
    total = states.shape[0]
    candidates = candidate_count(k, total)
    query = index.projected[point]
    # |p - q|^2 = |p|^2 - 2 p.q + |q|^2, in place: one matrix-vector product over [P, r].
    projected_squared = index.projected @ query
    projected_squared *= -2.0
    projected_squared += index.norms
    projected_squared += float(query @ query)
    projected_squared[point] = np.inf
    if candidates < total - 1:
        # np.partition and a comparison: a third of np.argpartition's time at 1M points.
        left_out = np.partition(projected_squared, candidates)[candidates]
        chosen = np.flatnonzero(projected_squared < left_out)
        if len(chosen) < candidates:  # ties at the bound
            tied = np.flatnonzero(projected_squared == left_out)
            chosen = np.concatenate([chosen, tied[: candidates - len(chosen)]])
    else:
        chosen, left_out = np.flatnonzero(np.isfinite(projected_squared)), np.inf
    chosen = np.sort(chosen)
    squared = _squared_distances(states[chosen], states[point].astype(np.float32))
    points, squared = _nearest(squared, chosen.astype(np.int64), k)
    # Strictly nearer than any point left out (a tie there could win on its index), with a
    # margin for the float32 rounding of the projected distances.
    exact = bool(len(squared) == 0 or squared[-1] < left_out - 1e-4 * abs(left_out) - 1e-6)
    return Neighbors(points, np.sqrt(squared).astype(np.float32), "approximate", exact)


def neighbors_json(found, offsets, point, k):
    """The answer of /neighbors."""
    sequences, steps = derived.sequence_steps(offsets, found.points)
    return {
        "point": int(point),
        "k": int(k),
        "method": found.method,
        "exact": found.exact,
        "neighbors": [
            {"point": int(p), "sequence": int(s), "step": int(t), "distance": float(d)}
            for p, s, t, d in zip(found.points.tolist(), sequences.tolist(), steps.tolist(),
                                  found.distances.tolist())
        ],
    }
