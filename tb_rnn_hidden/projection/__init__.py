"""2-D projections of hidden states: t-SNE (openTSNE), PCA (scikit-learn), UMAP (optional).

Pure computation: no TensorBoard imports. The job layer (projection_jobs.py) runs one
`compute` call at a time in a worker, passes `progress`/`cancelled` callbacks, and, in
align mode, the layout of a neighbouring checkpoint as `init` with its `info` as
`reference`. How t-SNE is scheduled, and how an aligned layout is kept faithful, is in
tsne.py.

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
import math

import numpy as np

METHODS = ("tsne", "pca", "umap")
METRICS = ("euclidean", "cosine")
ALIGNS = ("none", "neighbor")
METHOD_LABELS = {"tsne": "t-SNE", "pca": "PCA", "umap": "UMAP"}
SEED_LIMIT = 2**31

PCA_ABOVE = 200
PCA_DIMS = 50
ENGINE_VERSION = 2  # part of every cache key: results of an older schedule are not served

_IGNORED_KEYS = frozenset(("run", "tag", "step", "experiment"))
UMAP_MISSING = (
    "UMAP is not installed on this TensorBoard server: install it with "
    "`pip install tb-rnn-hidden[umap]` and restart TensorBoard, or choose t-SNE or PCA"
)


def _bad(name, value, expected):
    return ValueError("%s is %s; expected %s" % (name, value, expected))


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One projection parameter: its type, bounds or choices, default, and the methods it
    applies to. `ProjectionParams`, its query parsing and the `/info` route read these."""

    name: str
    kind: str  # "number", "integer" or "choice"
    default: object
    methods: tuple
    low: float = None
    high: float = None
    choices: tuple = ()
    help: str = ""

    def expected(self):
        if self.kind == "choice":
            return "one of %s" % ", ".join(self.choices)
        article = "an integer" if self.kind == "integer" else "a number"
        return "%s with %s <= %s <= %s" % (article, _g(self.low), self.name, _g(self.high))

    def check(self, value):
        """The value, as the parameter's type; ValueError naming it otherwise. Never clamps."""
        if self.kind == "choice":
            if value not in self.choices:
                raise _bad(self.name, repr(value), self.expected())
            return value
        numeric = (int, np.integer) if self.kind == "integer" else (int, float, np.integer, np.floating)
        if (
            isinstance(value, bool)
            or not isinstance(value, numeric)
            or not math.isfinite(value)
            or not self.low <= value <= self.high
        ):
            raise _bad(self.name, value, self.expected())
        return int(value) if self.kind == "integer" else float(value)

    def parse(self, text):
        """A query-string value -> the parameter's type (then `check`)."""
        if self.kind == "choice":
            return text
        try:
            return int(text, 10) if self.kind == "integer" else float(text)
        except ValueError:
            raise _bad(self.name, repr(text), self.expected()) from None

    def as_dict(self):
        out = dict(name=self.name, kind=self.kind, default=self.default,
                   methods=list(self.methods), help=self.help)
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        else:
            out.update(min=self.low, max=self.high)
        return out


def _g(number):
    return "%g" % number


PARAM_SPECS = (
    ParamSpec("method", "choice", "tsne", METHODS, choices=METHODS,
              help="projection method"),
    ParamSpec("perplexity", "number", 30.0, ("tsne",), 2.0, 200.0,
              help="effective number of neighbours of each point (t-SNE); must be < P / 3"),
    # A cap: the run stops earlier once settled (see tsne.MOVE_TOLERANCE).
    ParamSpec("iterations", "integer", 750, ("tsne",), 50, 5000,
              help="most iterations after early exaggeration (t-SNE); runs stop earlier "
              "once converged"),
    ParamSpec("n_neighbors", "integer", 15, ("umap",), 2, 200,
              help="size of the local neighbourhood (UMAP); must be < P"),
    ParamSpec("min_dist", "number", 0.1, ("umap",), 0.0, 1.0,
              help="how tightly UMAP packs points together"),
    ParamSpec("seed", "integer", 0, ("tsne", "umap"), 0, SEED_LIMIT - 1,
              help="random seed"),
    ParamSpec("metric", "choice", "euclidean", METHODS, choices=METRICS,
              help="distance between hidden states"),
    # Aligned by default, as the tab asks: an aligned layout is as faithful as a cold one
    # (tsne.py) and keeps the points of consecutive checkpoints in place.
    ParamSpec("align", "choice", "neighbor", METHODS, choices=ALIGNS,
              help="start from the layout of the nearest checkpoint already laid out"),
)
SPECS = {spec.name: spec for spec in PARAM_SPECS}


@dataclasses.dataclass(frozen=True)
class ProjectionParams:
    """The parameters of one projection, checked on construction (never clamped).

    A parameter that does not apply to the method (see PARAM_SPECS) is reset to its
    default, so that e.g. PCA requests differing only in perplexity share one result.
    """

    method: str = SPECS["method"].default
    perplexity: float = SPECS["perplexity"].default
    seed: int = SPECS["seed"].default
    iterations: int = SPECS["iterations"].default
    metric: str = SPECS["metric"].default
    align: str = SPECS["align"].default
    n_neighbors: int = SPECS["n_neighbors"].default
    min_dist: float = SPECS["min_dist"].default

    def __post_init__(self):
        method = SPECS["method"].check(self.method)
        for spec in PARAM_SPECS:
            value = spec.check(getattr(self, spec.name))
            if method not in spec.methods:
                value = spec.default
            object.__setattr__(self, spec.name, value)

    @classmethod
    def from_query(cls, args) -> "ProjectionParams":
        """From a mapping of query-string values (str).

        Unknown keys or out-of-range/unparseable values raise
        ValueError('<name> is <value>; expected ...'). Never clamps. Ignores the keys
        run, tag, step, experiment.
        """
        values = {}
        for key in args.keys():
            if key in _IGNORED_KEYS:
                continue
            if key not in SPECS:
                raise _bad("parameter %r" % key, "unknown", "one of %s" % ", ".join(sorted(SPECS)))
            raw = args[key]
            if isinstance(raw, (list, tuple)):  # parse_qs-style mappings
                if len(raw) != 1:
                    raise _bad(key, repr(raw), "a single value")
                raw = raw[0]
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            values[key] = SPECS[key].parse(str(raw).strip())
        return cls(**values)

    def as_dict(self) -> dict:
        """JSON-serialisable; used in cache keys and responses."""
        return dataclasses.asdict(self)


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


def _check_points(points):
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


def _check_init(init, n):
    y = np.asarray(init, dtype=np.float64)
    if y.shape != (n, 2):
        raise ValueError("init has shape %s; expected [%d, 2]" % (y.shape, n))
    if not np.isfinite(y).all():
        raise ValueError("init has NaN or Inf values")
    return y


def _prepare(x, params, reduce=True):
    """float32 rows; cosine -> L2-normalised rows; PCA to PCA_DIMS when D > PCA_ABOVE."""
    if params.metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = x / np.where(norms > 0, norms, 1.0)
    if reduce and x.shape[1] > PCA_ABOVE and x.shape[0] > PCA_DIMS:
        from sklearn.decomposition import PCA

        x = PCA(PCA_DIMS, svd_solver="randomized", random_state=params.seed).fit_transform(x)
    return np.ascontiguousarray(x, dtype=np.float32)


def _project_pca(x, params, init, report):
    from sklearn.decomposition import PCA

    report(0.0, "pca")
    x = _prepare(x, params, reduce=False)
    if x.shape[0] < 2:
        y = np.zeros((x.shape[0], 2))
    else:
        k = min(2, x.shape[0], x.shape[1])
        y = PCA(k, svd_solver="full").fit_transform(x.astype(np.float64))
        if k < 2:
            y = np.hstack([y, np.zeros((y.shape[0], 2 - k))])
    if init is not None:
        y = _procrustes_rotate(y, init)
    return y


def _check_perplexity(params, n):
    if n / 3.0 <= SPECS["perplexity"].low:
        raise ValueError(
            "t-SNE needs more than %d points (perplexity >= %g must be < P/3); this checkpoint "
            "has %d: choose PCA" % (int(3 * SPECS["perplexity"].low), SPECS["perplexity"].low, n)
        )
    if not params.perplexity < n / 3.0:
        raise ValueError(
            "perplexity is %g; expected perplexity < P/3 = %.4g for these %d points: "
            "lower the perplexity" % (params.perplexity, n / 3.0, n)
        )


def _project_tsne(x, params, init, reference, report):
    from tb_rnn_hidden.projection import tsne

    _check_perplexity(params, x.shape[0])
    report(0.0, "affinities")
    x = _prepare(x, params)
    if isinstance(reference, dict):
        reference = reference.get("reference_trustworthiness")
    return tsne.embed(x, params, init=init, reference=reference, report=report)


def _project_umap(x, params, init, reference, report):
    if not umap_available():
        raise ValueError(UMAP_MISSING)
    import umap

    n = x.shape[0]
    if not params.n_neighbors < n:
        raise ValueError(
            "n_neighbors is %d; expected n_neighbors < P = %d for these points: lower n_neighbors"
            % (params.n_neighbors, n)
        )
    report(0.0, "umap")
    x = _prepare(x, params)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=params.n_neighbors,
        min_dist=params.min_dist,
        metric="euclidean",
        random_state=params.seed,
        init=init if init is not None else "spectral",
    )
    y = reducer.fit_transform(x)
    # UMAP's own optimisation moves an init a lot (Procrustes disparity to it 0.06-0.08
    # on tanh-RNN states, about that of an independent run); rotating the result onto
    # the neighbour at least removes the flips and turns a user would see.
    return _rotated(x, y, init)


def _pca(x):
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


def _project_pca(x, params, init, reference, report):
    report(0.0, "pca")
    x = _prepare(x, params, reduce=False)
    return _rotated(x, _pca(x), init)


def provisional(points, metric="euclidean"):
    """[P, 2] float32: the PCA of the points, to draw at once while a projection computes
    (no quality figure, no progress)."""
    x = _prepare(_check_points(points), ProjectionParams(method="pca", metric=metric), reduce=False)
    return np.ascontiguousarray(_pca(x), dtype=np.float32)


def _rotated(x, y, init):
    """(y rotated onto init when given, info) for the methods that are not scheduled."""
    from tb_rnn_hidden.projection import tsne

    if init is not None:
        y = tsne.procrustes_rotate(y, init)
    trust = tsne.trustworthiness(x, y)
    trust = None if trust is None else round(trust, 5)
    return y, dict(mode="cold" if init is None else "rotated", trustworthiness=trust,
                   reference_trustworthiness=trust)


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
    x = _check_points(points)
    if init is not None:
        init = _check_init(init, x.shape[0])
    if x.shape[0] == 0:
        report(1.0, "done")
        return Projection(np.zeros((0, 2), np.float32), dict(mode="cold", trustworthiness=None))
    if params.method == "umap" and not umap_available():
        raise ValueError(UMAP_MISSING)
    run = {"tsne": _project_tsne, "pca": _project_pca, "umap": _project_umap}[params.method]
    y, info = run(x, params, init, reference, report)
    report(1.0, "done")
    return Projection(np.ascontiguousarray(y, dtype=np.float32), info)


def project(points, params, *, init=None, reference=None, progress=None, cancelled=None):
    """`compute(...)`'s coordinates alone: [P, 2] float32."""
    return compute(
        points, params, init=init, reference=reference, progress=progress, cancelled=cancelled
    ).coords
