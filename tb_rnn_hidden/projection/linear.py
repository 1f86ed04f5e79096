"""PCA layouts: the first two principal components, also drawn at once while a
projection computes (the provisional layout)."""

import numpy as np

from tb_rnn_hidden.projection import points


def pca(x):
    """The first two principal components, from the D x D covariance matrix.

    One pass over the points and an eigendecomposition of D x D: 100k x 256 states take
    0.1 s, where scikit-learn's full SVD takes ~5 s. Each axis points where its largest
    loading is positive (scikit-learn's convention), so that checkpoints do not flip.
    """
    n, d = x.shape
    if n < 2:
        return np.zeros((n, 2))
    precise = x.astype(np.float64) if x.size <= 4_000_000 else x
    centred = precise - precise.mean(axis=0)
    _, vectors = np.linalg.eigh((centred.T @ centred).astype(np.float64))
    axes = vectors[:, ::-1][:, : min(2, d)]
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(axes.shape[1])])
    y = (centred @ axes.astype(centred.dtype)).astype(np.float64)
    if y.shape[1] < 2:
        y = np.hstack([y, np.zeros((n, 2 - y.shape[1]))])
    return y


def project_pca(x, params, init, reference, report):
    report(0.0, "pca")
    x = points.prepare(x, params, reduce=False)
    return points.rotated(x, pca(x), init)
