"""What every projection engine does to its input and output: checks, the metric, the
PCA reduction of wide states, and the rotation onto a neighbour's layout."""

import numpy as np

from tb_rnn_hidden.projection import quality

PCA_ABOVE = 200
PCA_DIMS = 50


def check_points(points):
    x = np.asarray(points)
    if x.ndim != 2:
        raise ValueError("points have shape %s; expected [P, D]" % (x.shape,))
    if x.dtype.kind not in "fiub":
        raise ValueError("points have dtype %s; expected a float array" % x.dtype)
    x = x.astype(np.float32, copy=False)
    bad = ~np.isfinite(x).all(axis=1)
    count = int(bad.sum())
    if count:
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "%d of %d points have NaN or Inf values; the first is row %d"
            % (count, x.shape[0], first)
        )
    return x


def check_init(init, n):
    y = np.asarray(init, dtype=np.float64)
    if y.shape != (n, 2):
        raise ValueError("init has shape %s; expected [%d, 2]" % (y.shape, n))
    if not np.isfinite(y).all():
        raise ValueError("init has NaN or Inf values")
    return y


def prepare(x, params, reduce=True):
    """float32 rows; cosine -> L2-normalised rows; PCA to PCA_DIMS when D > PCA_ABOVE."""
    if params.metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = x / np.where(norms > 0, norms, 1.0)
    if reduce and x.shape[1] > PCA_ABOVE and x.shape[0] > PCA_DIMS:
        from sklearn.decomposition import PCA

        x = PCA(PCA_DIMS, svd_solver="randomized", random_state=params.seed).fit_transform(x)
    return np.ascontiguousarray(x, dtype=np.float32)


def rotated(x, y, init):
    """(y rotated onto init when given, info) for the methods that are not scheduled."""
    if init is not None:
        y = quality.procrustes_rotate(y, init)
    trust = quality.trustworthiness(x, y)
    trust = None if trust is None else round(trust, 5)
    return y, dict(mode="cold" if init is None else "rotated", trustworthiness=trust,
                   reference_trustworthiness=trust)
