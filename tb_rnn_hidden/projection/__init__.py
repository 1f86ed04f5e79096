"""2-D projections of hidden states: t-SNE (openTSNE), PCA (scikit-learn), UMAP (optional).

Pure computation: no TensorBoard imports. The job layer (jobs.py) runs each `compute`
call in a child process (isolated.py, killed on cancel), passes a `progress` callback,
and, in align mode, the layout of a neighbouring checkpoint as `init` with its `info` as
`reference`. How t-SNE is scheduled, and how an aligned layout is kept faithful, is in
tsne.py.

Modules by concept: params.py (the parameters, from the schema JSON), points.py (checks
and preparation shared by the engines), linear.py (PCA), tsne.py (t-SNE), umap_layout.py
(UMAP), then limits.py (what a job may cost), isolated.py (the engine's process), jobs.py,
background.py and cache.py, which run and keep the results.

Engine choices, from the shared t-SNE research note (shared/research/tsne.md) and our
measurements (2 cores):

- Learning rate N / 12 in every phase (Belkina et al. 2019). openTSNE's "auto" uses
  N / exaggeration, so N after early exaggeration, and that lost local structure on
  tanh-RNN states: trustworthiness (k=10, 2k-point subsample) at 10k points 0.837
  against 0.855 with N / 12 and 0.867 for scikit-learn's TSNE.
- Rows are reduced to PCA_DIMS dimensions with PCA first only when D > PCA_ABOVE: at
  D = 128 the reduction saves nothing measurable; at D = 1024 it halves affinity time.
- metric="cosine" L2-normalises the rows and then uses Euclidean distances, a monotone
  function of cosine distance (|a-b|^2 = 2 - 2 cos); this keeps the PCA reduction valid
  and works with every engine.
- Every layout carries `info`: how it was made and its trustworthiness (k=10) on a
  fixed sample of 2,000 points, the quality figure the tab shows.
"""

import dataclasses

import numpy as np

from tb_rnn_hidden.projection import linear
from tb_rnn_hidden.projection import points as _points
from tb_rnn_hidden.projection import tsne
from tb_rnn_hidden.projection import umap_layout
from tb_rnn_hidden.projection.params import (  # noqa: F401 (the package's public face)
    ALIGNS,
    METHOD_LABELS,
    METHODS,
    METRICS,
    PARAM_SPECS,
    SPECS,
    ParamSpec,
    ProjectionParams,
)
from tb_rnn_hidden.projection.points import PCA_ABOVE, PCA_DIMS  # noqa: F401

ENGINE_VERSION = 2  # part of every cache key: results of an older schedule are not served

UMAP_MISSING = (
    "UMAP is not installed on this TensorBoard server: install it with "
    "`pip install tb-rnn-hidden[umap]` and restart TensorBoard, or choose t-SNE or PCA"
)


class Cancelled(Exception):
    """Raised by `compute` when `cancelled()` returned True."""


@dataclasses.dataclass(frozen=True)
class Projection:
    """A layout: coords [P, 2] float32 in point order, and `info` (JSON), how it was made:
    `mode` (cold, warm, relayout; PCA and UMAP: cold or rotated), `trustworthiness`, and
    for t-SNE the iterations run, whether it converged and its KL divergence."""

    coords: np.ndarray
    info: dict


def umap_available() -> bool:
    try:
        import umap  # noqa: F401
    except Exception:  # ImportError, or a broken numba install
        return False
    return True


def umap_installed() -> bool:
    """Whether umap-learn is installed, without importing it (its import takes 5-30 s)."""
    import importlib.util

    return importlib.util.find_spec("umap") is not None


def method_availability():
    """[(method, available, reason)]: what this installation can compute."""
    installed = umap_installed()
    return [
        ("tsne", True, None),
        ("pca", True, None),
        ("umap", installed, None if installed else UMAP_MISSING),
    ]


def library_versions() -> dict:
    import openTSNE
    import sklearn

    versions = {
        "engine": ENGINE_VERSION,
        "openTSNE": openTSNE.__version__,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "umap": None,
    }
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            versions["umap"] = version("umap-learn")
        except PackageNotFoundError:
            pass
    except ImportError:  # pragma: no cover
        pass
    return versions


class _Reporter:
    """Calls progress(fraction, phase) and checks cancelled() after every report."""

    def __init__(self, progress, cancelled):
        self._progress = progress
        self._cancelled = cancelled
        self._last = 0.0

    def __call__(self, fraction, phase):
        fraction = min(1.0, max(self._last, float(fraction)))
        self._last = fraction
        if self._progress is not None:
            self._progress(fraction, phase)
        if fraction < 1.0:
            self.check()

    def check(self):
        if self._cancelled is not None and self._cancelled():
            raise Cancelled("projection cancelled")


def provisional(points, metric="euclidean"):
    """[P, 2] float32: the PCA of the points, to draw at once while a projection computes
    (no quality figure, no progress)."""
    params = ProjectionParams(method="pca", metric=metric)
    x = _points.prepare(_points.check_points(points), params, reduce=False)
    return np.ascontiguousarray(linear.pca(x), dtype=np.float32)


def compute(points, params, *, init=None, reference=None, progress=None, cancelled=None):
    """[P, D] points -> `Projection` (coords [P, 2] float32 in the same order, info).

    points: float (float16 accepted; computed in float32). Rows with NaN/Inf raise
    ValueError naming how many and the first index.
    init: optional [P, 2] layout of a neighbouring checkpoint (same points), with its
    `info` (or its `reference_trustworthiness`) as `reference`. t-SNE starts from it
    as tsne.py describes; PCA is rotated/reflected onto it (orthogonal Procrustes); UMAP
    uses it as its init and its result is rotated onto it.
    progress(fraction, phase): fraction in [0, 1], non-decreasing, last call is
    (1.0, "done"). cancelled() is checked after every progress call (between chunks of
    work); when it returns True, Cancelled is raised.
    """
    if not isinstance(params, ProjectionParams):
        raise TypeError("params must be a ProjectionParams, not %s" % type(params).__name__)
    report = _Reporter(progress, cancelled)
    x = _points.check_points(points)
    if init is not None:
        init = _points.check_init(init, x.shape[0])
    if x.shape[0] == 0:
        report(1.0, "done")
        return Projection(np.zeros((0, 2), np.float32), dict(mode="cold", trustworthiness=None))
    if params.method == "umap" and not umap_available():
        raise ValueError(UMAP_MISSING)
    run = {
        "tsne": tsne.project_tsne,
        "pca": linear.project_pca,
        "umap": umap_layout.project_umap,
    }[params.method]
    y, info = run(x, params, init, reference, report)
    report(1.0, "done")
    return Projection(np.ascontiguousarray(y, dtype=np.float32), info)


def project(points, params, *, init=None, reference=None, progress=None, cancelled=None):
    """`compute(...)`'s coordinates alone: [P, 2] float32."""
    return compute(
        points, params, init=init, reference=reference, progress=progress, cancelled=cancelled
    ).coords
