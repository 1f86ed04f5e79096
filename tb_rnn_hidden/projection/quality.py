"""How faithful a 2-D layout is to its points, and how to turn one layout onto another.

Shared by every engine: each layout's info carries its trustworthiness, measured the
same way (k, sample) for every checkpoint of a probe set so that layouts compare.
"""

import numpy as np

# Trustworthiness (k=10) is measured on this many points, a fixed sample.
TRUST_SAMPLE = 2000
TRUST_K = 10
# neighbour_agreement: a point's k strongest affinities against its k nearest in 2-D.
AGREEMENT_K = 10


def trustworthiness(x, y, sample=TRUST_SAMPLE, k=TRUST_K):
    """Trustworthiness (k nearest neighbours) of layout y of points x, on a fixed sample.

    The sample is the same for every checkpoint of a probe set (same points, same
    seed), so layouts of neighbouring checkpoints are compared on the same points.
    """
    from sklearn.manifold import trustworthiness as sk_trustworthiness

    n = x.shape[0]
    if n <= 2 * k + 1:  # sklearn needs k < n / 2
        return None
    points = np.arange(n)
    if n > sample:
        points = np.sort(np.random.default_rng(0).choice(n, sample, replace=False))
    return float(sk_trustworthiness(x[points], np.asarray(y)[points], n_neighbors=k))


def neighbour_agreement(P, y, k=AGREEMENT_K, sample=2000):
    """Mean fraction of a point's k largest affinities that are among its k nearest in y.

    Estimated on at most `sample` points (a fixed subset): 0.01 s at 50k points.
    """
    from sklearn.neighbors import NearestNeighbors

    n = y.shape[0]
    k = min(k, n - 1)
    if k < 1:
        return 1.0
    points = np.arange(n)
    if n > sample:
        points = np.sort(np.random.default_rng(0).choice(n, sample, replace=False))
    near = NearestNeighbors(n_neighbors=k + 1).fit(y).kneighbors(y[points], return_distance=False)
    sub = P.tocsr()[points]
    rows = np.repeat(np.arange(len(points)), np.diff(sub.indptr))
    keep = sub.indices != points[rows]
    rows, cols, weights = rows[keep], sub.indices[keep], sub.data[keep]
    if rows.size == 0:
        return 1.0
    order = np.lexsort((-weights, rows))  # by row, then strongest first
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(rows, np.arange(len(points)))
    top = np.arange(rows.size) - starts[rows] < k
    rows, cols = rows[top], cols[top]
    return float((near[rows] == cols[:, None]).any(axis=1).mean())


def procrustes_rotate(y, target):
    """y rotated/reflected (about its centre) to best match target; no scaling."""
    yc = y - y.mean(axis=0)
    tc = target - target.mean(axis=0)
    u, _, vt = np.linalg.svd(yc.T @ tc)
    return yc @ (u @ vt) + target.mean(axis=0)
