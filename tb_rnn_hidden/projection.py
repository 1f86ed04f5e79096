"""2-D projections of hidden states: t-SNE (openTSNE), PCA (scikit-learn), UMAP (optional).

Pure computation: no TensorBoard imports. The job layer (projection_jobs.py) runs one
`project` call at a time in a worker, passes `progress`/`cancelled` callbacks, and, in
align mode, the embedding of a neighbouring checkpoint as `init`.

Engine choices, from the shared t-SNE research note (shared/research/tsne.md) and our measurements (2 cores; states
of a tanh RNN, D=128, 750 iterations; times vary by ~20 % between runs on this machine):

- Affinities are openTSNE's PerplexityBasedNN with the kNN search (its Annoy index,
  same seed, same result) queried in chunks, so it reports progress and can stop:
  that search is ~87 % of the affinity time (24 s at 50k points).
- Learning rate N / 12 in every phase (Belkina et al. 2019). openTSNE's "auto" uses
  N / exaggeration, so N after early exaggeration, and that lost local structure on
  tanh-RNN states: trustworthiness (k=10, 2k-point subsample) at 10k points 0.837
  against 0.855 with N / 12 and 0.867 for scikit-learn's TSNE; at 50k 0.770 against
  scikit-learn's 0.810.
- t-SNE is openTSNE's advanced API run in 50-iteration chunks (chunks cost ~5 % against
  one call; openTSNE's KL callbacks would cost ~60 %, so they are not used).
  Barnes-Hut up to FFT_ABOVE points, FFT above: 10k points BH 22-26 s, FFT 26-27 s;
  20k BH 57 s, FFT 37 s (the note's tight-cluster data: 10k BH 19 s vs FFT 58 s).
- Rows are reduced to PCA_DIMS dimensions with PCA first only when D > PCA_ABOVE: at
  D = 128 the reduction saves nothing measurable; at D = 1024 it halves affinity time.
- metric="cosine" L2-normalises the rows and then uses Euclidean distances, a monotone
  function of cosine distance (|a-b|^2 = 2 - 2 cos); this keeps the PCA reduction valid
  and works with every engine.
- Align mode (init given): t-SNE starts from init as it is (centred), with no early
  exaggeration, ALIGNED_ITERATIONS iterations and a kNN graph of ALIGNED_ANNOY_TREES trees
  (see the constants for the measurements). History: with 250 iterations,
  10k points took 9-11 s against 22-26 s cold; at 50k points, warm-started FFT
  iterations run on an already spread-out layout and cost more each, so 250 made
  aligned only 1.3x faster than cold; the research note measured 100 iterations as
  good as 250 (Procrustes ~0, same kNN10). Procrustes disparity to the neighbour's layout 0.0001 (states
  2.5 % changed) / 0.0005 (10 %), against 0.06 for an independent run. Starting instead
  from init rescaled to std 1e-4 (openTSNE's advice for initialisations that then go
  through early exaggeration) without early exaggeration gives 0.08: no better than an
  independent run.
- When init is not a layout of these points (fewer than ALIGN_MIN_AGREEMENT of the
  points' strongest affinities among their 2-D neighbours; measured on a sample, 0.07 s
  at 50k), a warm start would stay trapped (kNN10 preservation 0.05 against 0.39), so
  the full schedule runs from init rescaled to std 1e-4 instead.
"""

import dataclasses
import math
import os

import numpy as np

METHODS = ("tsne", "pca", "umap")
METRICS = ("euclidean", "cosine")
ALIGNS = ("none", "neighbor")

PERPLEXITY_RANGE = (2.0, 200.0)
ITERATIONS_RANGE = (50, 5000)
SEED_LIMIT = 2**31

EARLY_EXAGGERATION = 12.0
EARLY_EXAGGERATION_ITERATIONS = 250
CHUNK = 50
# An aligned run starts from the neighbouring checkpoint's layout, which already holds
# the structure: it needs no early exaggeration, few iterations and a coarser kNN graph.
# Measured at 50k tanh-RNN states (2 cores, bench/RESULTS.md): trustworthiness 0.8034
# with 100 iterations and 50 Annoy trees, 0.8030 with 50 and 25 (0.7911 and 0.7912
# after a six times larger change of the weights); 19.0 s -> 10.7 s.
ALIGNED_ITERATIONS = 50
ALIGNED_ANNOY_TREES = 25
# Negative gradients: Barnes-Hut up to this many points, FFT above. Measured (2 cores,
# tanh-RNN states, D=128, 750 iterations): 10k BH 22-26 s, FFT 26-27 s; 20k BH 57 s,
# FFT 37 s. The research note's tight-cluster data: 10k BH 19 s, FFT 58 s; 50k BH 118 s,
# FFT 88 s. The crossover depends on the data; 15k sits between the two.
FFT_ABOVE = 15_000
# FFT interpolation intervals per unit of the layout (openTSNE's default 1). The grid
# grows with the layout's extent (~200 units at 50k points with learning rate N/12),
# so later iterations cost more and more. Measured at 50k tanh-RNN states, 250 + 750
# iterations (2 cores): 1 -> optimisation 51 s, trustworthiness 0.8055; 1.5 -> 22 s,
# 0.8042; 2 -> 16 s, 0.8025 (scikit-learn 0.810). 1.5 keeps the quality within 0.01.
FFT_INTS_IN_INTERVAL = 1.5
# Align mode falls back to the full schedule (from init rescaled to std 1e-4, openTSNE's
# advice) when init keeps fewer than this fraction of the points' 10 strongest
# affinities among their 10 nearest 2-D neighbours: init is then not a layout of
# these points (a converged layout of related points keeps 0.3-0.9; an unrelated one ~0).
ALIGN_MIN_AGREEMENT = 0.05
AGREEMENT_K = 10
PCA_ABOVE = 200
# Affinities: openTSNE uses exact kNN below this many points and Annoy above (as
# openTSNE does, with its 50 trees); the Annoy queries run in chunks of KNN_CHUNK
# points per thread. Shares of the affinity phase, measured at 50k points:
# indexing (add items + build) 7 %, queries 87 %, perplexity calibration 6 %.
EXACT_KNN_BELOW = 1000
ANNOY_TREES = 50
KNN_CHUNK = 1000
KNN_SHARES = (0.07, 0.87, 0.06)
# Relative costs behind the progress fraction, measured (2 cores, tanh-RNN states,
# D=128): an early-exaggeration iteration costs ~0.35 of a later one (the layout is
# still compact); the affinity phase as much as ~45 later iterations at 10k points
# and ~180 at 50k (kNN grows faster than the per-iteration cost).
EE_ITERATION_COST = 0.35
AFFINITY_COST_AT_10K = 45.0
AFFINITY_COST_EXPONENT = 0.9
PCA_DIMS = 50

_IGNORED_KEYS = frozenset(("run", "tag", "step", "experiment"))
UMAP_MISSING = "umap needs the optional extra: pip install tb-rnn-hidden[umap]"


def _n_jobs():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _bad(name, value, expected):
    return ValueError("%s is %s; expected %s" % (name, value, expected))


@dataclasses.dataclass(frozen=True)
class ProjectionParams:
    method: str = "tsne"
    perplexity: float = 30.0  # tsne/umap (n_neighbors ~ perplexity); 2 <= p <= 200, < P/3 checked at run time
    seed: int = 0  # 0 <= seed < 2**31
    # 250 early-exaggeration + 750 = 1000 iterations, scikit-learn's default budget: with
    # openTSNE's 500 the trustworthiness of 10k tanh-RNN states was 0.012 below
    # scikit-learn's, with 750 within 0.01 (bench/RESULTS.md).
    iterations: int = 750  # tsne iterations after early exaggeration (cold); 50..5000
    metric: str = "euclidean"  # "euclidean" | "cosine"
    align: str = "none"  # "none" | "neighbor" (the job layer supplies `init` from a neighbouring checkpoint)

    def __post_init__(self):
        if self.method not in METHODS:
            raise _bad("method", repr(self.method), "one of %s" % ", ".join(METHODS))
        if self.metric not in METRICS:
            raise _bad("metric", repr(self.metric), "one of %s" % ", ".join(METRICS))
        if self.align not in ALIGNS:
            raise _bad("align", repr(self.align), "one of %s" % ", ".join(ALIGNS))
        p = self.perplexity
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not (
            PERPLEXITY_RANGE[0] <= p <= PERPLEXITY_RANGE[1]
        ):
            raise _bad("perplexity", p, "a number with 2 <= perplexity <= 200")
        object.__setattr__(self, "perplexity", float(p))
        for name, (low, high) in (("seed", (0, SEED_LIMIT - 1)), ("iterations", ITERATIONS_RANGE)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not (low <= v <= high):
                raise _bad(name, v, "an integer with %d <= %s <= %d" % (low, name, high))
            object.__setattr__(self, name, int(v))

    @classmethod
    def from_query(cls, args) -> "ProjectionParams":
        """From a mapping of query-string values (str).

        Unknown keys or out-of-range/unparseable values raise
        ValueError('<name> is <value>; expected ...'). Never clamps. Ignores the keys
        run, tag, step, experiment.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {}
        for key in args.keys():
            if key in _IGNORED_KEYS:
                continue
            if key not in fields:
                raise _bad(
                    "parameter %r" % key, "unknown", "one of %s" % ", ".join(sorted(fields))
                )
            raw = args[key]
            if isinstance(raw, (list, tuple)):  # parse_qs-style mappings
                if len(raw) != 1:
                    raise _bad(key, repr(raw), "a single value")
                raw = raw[0]
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            text = str(raw).strip()
            if key == "perplexity":
                try:
                    value = float(text)
                except ValueError:
                    raise _bad(key, repr(text), "a number with 2 <= perplexity <= 200") from None
                if not math.isfinite(value):
                    raise _bad(key, repr(text), "a number with 2 <= perplexity <= 200")
            elif key in ("seed", "iterations"):
                low, high = (0, SEED_LIMIT - 1) if key == "seed" else ITERATIONS_RANGE
                try:
                    value = int(text, 10)
                except ValueError:
                    raise _bad(
                        key, repr(text), "an integer with %d <= %s <= %d" % (low, key, high)
                    ) from None
            else:
                value = text
            values[key] = value
        return cls(**values)

    def as_dict(self) -> dict:
        """JSON-serialisable; used in cache keys and responses."""
        return dataclasses.asdict(self)


class Cancelled(Exception):
    """Raised by `project` when `cancelled()` returned True."""


def umap_available() -> bool:
    try:
        import umap  # noqa: F401
    except Exception:  # ImportError, or a broken numba install
        return False
    return True


def library_versions() -> dict:
    import openTSNE
    import sklearn

    versions = {
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


def _procrustes_rotate(y, target):
    """y rotated/reflected (about its centre) to best match target; no scaling."""
    yc = y - y.mean(axis=0)
    tc = target - target.mean(axis=0)
    u, _, vt = np.linalg.svd(yc.T @ tc)
    return yc @ (u @ vt) + target.mean(axis=0)


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
    if not params.perplexity < n / 3.0:
        raise ValueError(
            "perplexity is %g; expected perplexity < P/3 = %.4g for these %d points"
            % (params.perplexity, n / 3.0, n)
        )


def _neighbour_agreement(P, y, k=AGREEMENT_K, sample=2000):
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


def _affinity_cost(n, trees=ANNOY_TREES):
    """The affinity phase's cost, in iterations after early exaggeration (for progress).

    The kNN search (all but the calibration) grows with the number of trees.
    """
    share = KNN_SHARES[2] + (1 - KNN_SHARES[2]) * trees / ANNOY_TREES
    return AFFINITY_COST_AT_10K * (n / 10_000) ** AFFINITY_COST_EXPONENT * share


def _annoy_neighbours(x, k, seed, n_jobs, report, trees=ANNOY_TREES):
    """openTSNE's Annoy kNN (same index, seed and results), queried in chunks.

    openTSNE builds the kNN graph in one call that can neither report progress
    nor stop; at 50k points it is most of the affinity time (measured: adding
    items 0.4 s, building 50 trees 1.5 s, querying 24 s, calibration 1.5 s).
    Querying chunk by chunk lets the job report it and be cancelled between chunks.
    """
    from openTSNE.dependencies.annoy import AnnoyIndex

    n = x.shape[0]
    index = AnnoyIndex(x.shape[1], "euclidean")
    index.set_seed(np.random.RandomState(seed).randint(np.iinfo(np.int32).max))
    for i in range(n):
        index.add_item(i, x[i])
    report(KNN_SHARES[0], "nearest neighbours: indexing")
    index.build(n_jobs=n_jobs, n_trees=trees)
    neighbours = np.zeros((n, k), dtype=int)
    distances = np.zeros((n, k))

    def query(rows):
        for i in rows:
            # Annoy returns the point itself first.
            found, found_distances = index.get_nns_by_item(i, k + 1, include_distances=True)
            neighbours[i] = found[1:]
            distances[i] = found_distances[1:]

    from concurrent.futures import ThreadPoolExecutor

    # Annoy releases the GIL while it searches: threads run in parallel.
    wave = KNN_CHUNK * n_jobs
    with ThreadPoolExecutor(n_jobs) as pool:
        for start in range(0, n, wave):
            report(
                KNN_SHARES[0] + KNN_SHARES[1] * start / n,
                "nearest neighbours: %d of %d points" % (start, n),
            )
            stop = min(n, start + wave)
            chunks = [range(a, min(stop, a + KNN_CHUNK)) for a in range(start, stop, KNN_CHUNK)]
            list(pool.map(query, chunks))
    return neighbours, distances


def _affinities(x, params, n_jobs, report, trees=ANNOY_TREES):
    """openTSNE's PerplexityBasedNN, with its kNN search split so it reports progress.

    report(fraction of this phase, phase) is called between chunks, and raises
    Cancelled when the job is cancelled.
    """
    from openTSNE import affinity, nearest_neighbors

    n = x.shape[0]
    if n < EXACT_KNN_BELOW:  # openTSNE's own choice for small data: exact kNN, fast
        return affinity.PerplexityBasedNN(
            x, perplexity=params.perplexity, metric="euclidean", n_jobs=n_jobs,
            random_state=params.seed,
        )
    k = min(n - 1, int(3 * params.perplexity))  # openTSNE's k_neighbors="auto"
    neighbours, distances = _annoy_neighbours(x, k, params.seed, n_jobs, report, trees)
    report(KNN_SHARES[0] + KNN_SHARES[1], "affinities: calibrating perplexity")
    return affinity.PerplexityBasedNN(
        perplexity=params.perplexity,
        n_jobs=n_jobs,
        knn_index=nearest_neighbors.PrecomputedNeighbors(neighbours, distances),
    )


def _project_tsne(x, params, init, report):
    from openTSNE import TSNEEmbedding, initialization

    n = x.shape[0]
    _check_perplexity(params, n)
    n_jobs = _n_jobs()
    # Progress is counted in the cost of one iteration after early exaggeration.
    trees = ANNOY_TREES if init is None else ALIGNED_ANNOY_TREES
    affinity_cost = _affinity_cost(n, trees)
    cold_cost = EARLY_EXAGGERATION_ITERATIONS * EE_ITERATION_COST + params.iterations
    total = affinity_cost + (cold_cost if init is None else ALIGNED_ITERATIONS)

    def affinities(start, trees, cost):
        """The affinity phase, reported from `start` to `start + cost` of `total`."""
        return _affinities(x, params, n_jobs, lambda f, phase: report((start + f * cost) / total, phase), trees)

    report(0.0, "affinities")
    x = _prepare(x, params)
    aff = affinities(0.0, trees, affinity_cost)
    done = affinity_cost
    report(done / total, "initialisation")
    warm = (
        init is not None
        and np.ptp(init, axis=0).all()  # not all on a line or a point
        and _neighbour_agreement(aff.P, init) >= ALIGN_MIN_AGREEMENT
    )
    if warm:
        ee_iters, iters = 0, ALIGNED_ITERATIONS
        start = init - init.mean(axis=0)
    else:
        ee_iters, iters = EARLY_EXAGGERATION_ITERATIONS, params.iterations
        if init is not None:
            # The full schedule after all, on a cold run's kNN graph (exact below
            # EXACT_KNN_BELOW: no need to search again); the fraction already
            # reported is kept and the rest spread over the work that remains.
            fraction = done / total  # < 1: the aligned iterations were still to come
            affinity_cost = _affinity_cost(n) if n >= EXACT_KNN_BELOW else 0.0
            remaining = affinity_cost + cold_cost
            total = remaining / (1 - fraction)
            done = total - remaining
            if affinity_cost:
                aff = affinities(done, ANNOY_TREES, affinity_cost)
                done += affinity_cost
        if init is not None and np.ptp(init, axis=0).all():
            start = initialization.rescale(init - init.mean(axis=0))
        else:
            start = initialization.pca(x, random_state=params.seed)
    learning_rate = max(200.0, n / EARLY_EXAGGERATION)
    embedding = TSNEEmbedding(
        np.ascontiguousarray(start, dtype=np.float64),
        aff,
        negative_gradient_method="bh" if n <= FFT_ABOVE else "fft",
        ints_in_interval=FFT_INTS_IN_INTERVAL,
        n_jobs=n_jobs,
        random_state=params.seed,
    )
    for phase, count, exaggeration, momentum, cost in (
        ("early exaggeration", ee_iters, EARLY_EXAGGERATION, 0.5, EE_ITERATION_COST),
        ("optimisation", iters, 1.0, 0.8, 1.0),
    ):
        remaining = count
        while remaining > 0:
            step = min(CHUNK, remaining)
            report(done / total, phase)
            embedding.optimize(
                n_iter=step,
                exaggeration=exaggeration,
                momentum=momentum,
                learning_rate=learning_rate,
                inplace=True,
                propagate_exception=True,
            )
            remaining -= step
            done += step * cost
    return np.asarray(embedding)


def _project_umap(x, params, init, report):
    if not umap_available():
        raise ValueError(UMAP_MISSING)
    import umap

    n = x.shape[0]
    _check_perplexity(params, n)
    report(0.0, "umap")
    x = _prepare(x, params)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=int(max(2, min(n - 1, round(params.perplexity)))),
        metric="euclidean",
        random_state=params.seed,
        init=init if init is not None else "spectral",
    )
    y = reducer.fit_transform(x)
    # UMAP's own optimisation moves an init a lot (Procrustes disparity to it 0.06-0.08
    # on tanh-RNN states, about that of an independent run); rotating the result onto
    # the neighbour at least removes the flips and turns a user would see.
    return y if init is None else _procrustes_rotate(y, init)


def project(points, params, *, init=None, progress=None, cancelled=None) -> np.ndarray:
    """[P, D] points -> [P, 2] float32 embedding, in the same order.

    points: float (float16 accepted; computed in float32). Rows with NaN/Inf raise
    ValueError naming how many and the first index.
    init: optional [P, 2] embedding of a neighbouring checkpoint (same points). When
    given, t-SNE starts from it (centred, at its own scale) with no early exaggeration
    and ALIGNED_ITERATIONS iterations, so consecutive layouts stay
    comparable; PCA is rotated/reflected onto it (orthogonal Procrustes); UMAP uses it
    as its init and its result is rotated onto it.
    progress(fraction, phase): fraction in [0, 1], non-decreasing, last call is
    (1.0, "done"). cancelled() is checked after every progress call (between 50-iteration
    chunks); when it returns True, Cancelled is raised.
    """
    if not isinstance(params, ProjectionParams):
        raise TypeError("params must be a ProjectionParams, not %s" % type(params).__name__)
    report = _Reporter(progress, cancelled)
    x = _check_points(points)
    if init is not None:
        init = _check_init(init, x.shape[0])
    if x.shape[0] == 0:
        report(1.0, "done")
        return np.zeros((0, 2), np.float32)
    if params.method == "umap" and not umap_available():
        raise ValueError(UMAP_MISSING)
    run = {"tsne": _project_tsne, "pca": _project_pca, "umap": _project_umap}[params.method]
    y = run(x, params, init, report)
    y = np.ascontiguousarray(y, dtype=np.float32)
    report(1.0, "done")
    return y
