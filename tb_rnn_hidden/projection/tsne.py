"""t-SNE layouts of one checkpoint: cold, or aligned to a neighbouring checkpoint's layout.

openTSNE optimises; this module chooses the schedule and judges the result. The numbers
behind each constant are in bench/RESULTS.md ("Alignment on real training").

- Every run stops once the layout has settled: when, over a chunk of CHUNK iterations,
  its points moved on average less than MOVE_TOLERANCE of the layout's standard
  deviation. The user's `iterations` is the cap. opt-SNE's rule on the KL divergence
  (Belkina et al. 2019) was measured first and rejected: openTSNE's KL divergence
  carries the error of its estimate of the normalisation (Barnes-Hut or FFT), which
  swings by more than the rule's tolerance from chunk to chunk (at 53k points: 2.19,
  2.04, 2.56, 2.04 in consecutive chunks), so it stopped runs at random.
- An aligned run first tries a warm start: the neighbour's layout as it is, no early
  exaggeration. Where the states changed little this is faithful and keeps every point
  in place. Where they changed more, the layout stays trapped in the neighbour's
  structure, and more iterations do not help (on the handwritten digits, a warm start
  from the last epoch's layout kept trustworthiness 0.978 at epoch 3 after 50 and after
  600 iterations, against 0.990 for a cold layout). So a warm result is judged: it is
  kept only if its trustworthiness is at least the reference's minus WARM_TOLERANCE.
  The reference is the trustworthiness of the nearest faithful layout of the chain (a
  cold layout or a re-layout, never a warm one, so that small losses do not add up).
- Otherwise the checkpoint is re-laid out as a cold layout is (PCA initialisation, early
  exaggeration, the optimisation), on the same affinities, and rotated onto the
  neighbour's layout: faithful by construction, and turned the neighbour's way. Starting
  the re-layout from the neighbour's layout instead, shrunk 4x, kept more of its
  arrangement and was as faithful as a cold layout up to 7k points, but at 53k points
  it stayed 0.012-0.024 less trustworthy than a cold layout (the old arrangement
  survives early exaggeration there), so it is not used: faithful first.
"""

import numpy as np

from tb_rnn_hidden.projection import points
from tb_rnn_hidden.projection.affinities import ALIGNED_ANNOY_TREES, affinities, affinity_cost, n_jobs
from tb_rnn_hidden.projection.params import SPECS
from tb_rnn_hidden.projection.quality import neighbour_agreement, procrustes_rotate, trustworthiness

EARLY_EXAGGERATION = 12.0
EARLY_EXAGGERATION_ITERATIONS = 250
CHUNK = 50
# A run has settled when its points moved less than this share of the layout's standard
# deviation over the last chunk. Measured on real training (53k points, demo, digits):
# trustworthiness stops improving while the movement falls from ~0.4 to ~0.07; the
# movement then levels off at 0.01-0.03 (clusters drifting slowly apart).
MOVE_TOLERANCE = 0.05
WARM_TOLERANCE = 0.005
# A warm start is judged after this many iterations (or sooner, if it converged), and
# continued only if it is kept: its trustworthiness hardly moves after its first 50
# iterations (digits, last epoch's layout -> epoch 3: 0.9783 after 50, 0.9772-0.9783
# from 100 to 600), so judging early wastes little when a re-layout follows.
WARM_PROBE = 100
# Negative gradients: Barnes-Hut up to this many points, FFT above. Measured (2 cores,
# cold layouts that stop once settled; seconds BH / FFT, trustworthiness BH / FFT): demo
# 3.6k 6.9 / 6.4, 0.9979 / 0.9977; tanh RNN 5k 10.8 / 8.9, 0.914 / 0.914; digits 7.2k
# 17.7 / 10.0, 0.9873 / 0.9868; tanh RNN 10k 23.8 / 13.3, 0.852 / 0.859; random walks 10k
# 18.8 / 8.3, 0.988 / 0.984. (With 750 fixed iterations and FFT at 1 interval per unit,
# the crossover had been 10k-20k.)
FFT_ABOVE = 4_000
# FFT interpolation: intervals of 1.5 layout units (openTSNE's default 1), and at most
# FFT_MAX_INTERVALS along an axis: the grid otherwise grows with the layout's extent.
# Measured at 50k points (2 cores, optimisation only): tanh random walks (extent ~200)
# 64.6 s -> 37.5 s, trustworthiness 0.6984 -> 0.6970; tanh-RNN states (extent ~150)
# 34.5 s -> 35.5 s, 0.8082 -> 0.8094.
FFT_INTS_IN_INTERVAL = 1.5
FFT_MAX_INTERVALS = 100
# An early-exaggeration iteration costs ~0.35 of a later one (for progress).
EE_ITERATION_COST = 0.35
# A warm start is not even tried when init keeps fewer than this fraction of the points'
# strongest affinities among their nearest 2-D neighbours (init is not a layout of
# these points: a converged layout of related points keeps 0.3-0.9, an unrelated one ~0).
ALIGN_MIN_AGREEMENT = 0.05


# -- optimisation -------------------------------------------------------------------


class _Budget:
    """Progress of one layout, in units of one iteration after early exaggeration.

    Stopping on convergence ends a phase early: the fraction then jumps ahead. When
    more work turns out to be needed (a re-layout), `replan` keeps the fraction reported
    and spreads the rest over the work that remains.
    """

    def __init__(self, report, total):
        self._report = report
        self.total = total
        self.done = 0.0

    def report(self, phase):
        self._report(min(1.0, self.done / self.total), phase)

    def scope(self, cost):
        """report(fraction, phase) of a sub-phase costing `cost`, from `done`."""
        start = self.done
        return lambda f, phase: self._report(min(1.0, (start + f * cost) / self.total), phase)

    def replan(self, remaining):
        fraction = min(self.done / self.total, 0.99)
        self.total = remaining / (1 - fraction)
        self.done = self.total - remaining


class _Optimiser:
    """An openTSNE embedding optimised in chunks, stopping on convergence."""

    def __init__(self, aff, start, seed):
        from openTSNE import TSNEEmbedding

        n = start.shape[0]
        self.learning_rate = max(200.0, n / EARLY_EXAGGERATION)
        self.embedding = TSNEEmbedding(
            np.ascontiguousarray(start, dtype=np.float64),
            aff,
            negative_gradient_method="bh" if n <= FFT_ABOVE else "fft",
            ints_in_interval=FFT_INTS_IN_INTERVAL,
            n_jobs=n_jobs(),
            random_state=seed,
        )
        self.kl_divergence = None

    def run(self, budget, phase, iterations, exaggeration=1.0, stop=True):
        """Up to `iterations`; (iterations run, settled)."""
        early = exaggeration != 1.0
        momentum, cost = (0.5, EE_ITERATION_COST) if early else (0.8, 1.0)
        done = 0
        while done < iterations:
            step = min(CHUNK, iterations - done)
            budget.report(phase)
            before = self.coords
            extent = float(np.ptp(before, axis=0).max())
            self.embedding.optimize(
                n_iter=step, exaggeration=exaggeration, momentum=momentum,
                learning_rate=self.learning_rate, inplace=True, propagate_exception=True,
                ints_in_interval=max(FFT_INTS_IN_INTERVAL, extent / FFT_MAX_INTERVALS),
            )
            done += step
            budget.done += step * cost
            self.kl_divergence = float(self.embedding.kl_divergence)
            if stop and step == CHUNK and self.movement(before) < MOVE_TOLERANCE:
                budget.done += (iterations - done) * cost  # the rest is not needed
                return done, True
        return done, False

    def movement(self, before):
        """Mean displacement of the points since `before`, per standard deviation of the layout."""
        now = self.coords
        spread = float(now.std(axis=0).mean())
        if spread == 0.0:
            return 0.0
        return float(np.linalg.norm(now - before, axis=1).mean()) / spread

    @property
    def coords(self):
        return np.array(self.embedding)


# -- layouts ----------------------------------------------------------------------------


def _info(mode, optimiser, early, iterations, converged, trust, reference, **extra):
    info = dict(
        mode=mode,
        early_exaggeration_iterations=early,
        iterations=iterations,
        converged=converged,
        kl_divergence=None if optimiser.kl_divergence is None else round(optimiser.kl_divergence, 5),
        trustworthiness=None if trust is None else round(trust, 5),
        reference_trustworthiness=None if reference is None else round(reference, 5),
    )
    info.update(extra)
    return info


def _full_schedule(x, aff, params, budget, rotate_onto=None):
    """A cold layout: PCA initialisation, early exaggeration, then the optimisation until
    settled; rotated onto `rotate_onto` if given (a re-layout). (y, info)."""
    from openTSNE import initialization

    start = initialization.pca(x, random_state=params.seed)
    optimiser = _Optimiser(aff, start, params.seed)
    early = EARLY_EXAGGERATION_ITERATIONS
    optimiser.run(budget, "early exaggeration", early, EARLY_EXAGGERATION, stop=False)
    iterations, converged = optimiser.run(budget, "optimisation", params.iterations)
    y = optimiser.coords
    if rotate_onto is not None:
        y = procrustes_rotate(y, rotate_onto)
    budget.report("quality")
    trust = trustworthiness(x, y)
    mode = "cold" if rotate_onto is None else "relayout"
    return y, _info(mode, optimiser, early, iterations, converged, trust, trust)


def _warm(x, aff, params, init, reference, budget):
    """The warm start, judged against `reference`: (y, info), or (None, what it reached)."""
    optimiser = _Optimiser(aff, init, params.seed)
    first = min(WARM_PROBE, params.iterations)
    iterations, converged = optimiser.run(budget, "optimisation from the neighbour", first)
    budget.report("quality")
    trust = trustworthiness(x, optimiser.coords)
    if trust is not None and trust < reference - WARM_TOLERANCE:
        return None, dict(warm_iterations=iterations, warm_trustworthiness=round(trust, 5))
    if not converged and iterations < params.iterations:
        more, converged = optimiser.run(
            budget, "optimisation from the neighbour", params.iterations - iterations
        )
        iterations += more
        budget.report("quality")
        trust = trustworthiness(x, optimiser.coords)
    y = optimiser.coords
    return y, _info("warm", optimiser, 0, iterations, converged, trust, reference)


def embed(x, params, init=None, reference=None, report=lambda fraction, phase: None):
    """t-SNE of prepared float32 points x [n, D]: (y [n, 2], info dict).

    init: the layout of a neighbouring checkpoint (same points), or None for a cold
    layout. reference: the trustworthiness a faithful layout of the chain reached (the
    neighbour's `reference_trustworthiness`); without it a warm start cannot be judged,
    and the checkpoint is re-laid out. report(fraction, phase) is called
    between chunks of work and may raise to stop it.
    """
    n = x.shape[0]
    cold_cost = EARLY_EXAGGERATION_ITERATIONS * EE_ITERATION_COST + params.iterations
    if init is None:
        cost = affinity_cost(n)
        budget = _Budget(report, cost + cold_cost)
        aff = affinities(x, params.perplexity, params.seed, budget.scope(cost))
        budget.done += cost
        return _full_schedule(x, aff, params, budget)
    cost = affinity_cost(n, ALIGNED_ANNOY_TREES)
    budget = _Budget(report, cost + params.iterations)
    aff = affinities(x, params.perplexity, params.seed, budget.scope(cost), ALIGNED_ANNOY_TREES)
    budget.done += cost
    budget.report("comparing with the neighbour's layout")
    init = init - init.mean(axis=0)
    related = bool(np.ptp(init, axis=0).all()) and (
        neighbour_agreement(aff.P, init) >= ALIGN_MIN_AGREEMENT
    )
    tried = {}
    if related and reference is not None:
        y, found = _warm(x, aff, params, init, reference, budget)
        if y is not None:
            return y, found
        tried = found
    budget.replan(cold_cost)
    y, info = _full_schedule(x, aff, params, budget, rotate_onto=init)
    info.update(tried)
    return y, info


def check_perplexity(params, n):
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


def project_tsne(x, params, init, reference, report):
    """The t-SNE layout of points x (checked, then prepared), cold or aligned to init."""
    check_perplexity(params, x.shape[0])
    report(0.0, "affinities")
    x = points.prepare(x, params)
    if isinstance(reference, dict):
        reference = reference.get("reference_trustworthiness")
    return embed(x, params, init=init, reference=reference, report=report)
