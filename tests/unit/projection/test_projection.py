"""tb_rnn_hidden.projection on hidden-state-like data: tanh RNN trajectories, 128 dims."""

import time

import numpy as np
import pytest
from scipy.spatial import procrustes
from sklearn.manifold import TSNE, trustworthiness

from tb_rnn_hidden import projection
from tb_rnn_hidden.projection import Cancelled, ProjectionParams, project


def make_rnn(dim=128, inputs=8, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return 0.95 * q, 0.5 * rng.standard_normal((dim, inputs)), 0.1 * rng.standard_normal(dim)


def perturb(rnn, delta, seed=1):
    """The next checkpoint: recurrent weights changed by about delta (relative)."""
    w, u, b = rnn
    rng = np.random.default_rng(seed)
    return w + delta * np.abs(w).mean() * rng.standard_normal(w.shape), u, b


def hidden_states(rnn, sequences=20, steps=75, seed=0):
    """[sequences * steps, dim] states h_t = tanh(W h_{t-1} + U x_t + b), AR(1) inputs."""
    w, u, b = rnn
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(sequences):
        h = np.zeros(w.shape[0])
        x = np.zeros(u.shape[1])
        for _ in range(steps):
            x = 0.8 * x + 0.6 * rng.standard_normal(x.shape)
            h = np.tanh(w @ h + u @ x + b)
            out.append(h)
    return np.asarray(out, dtype=np.float32)


@pytest.fixture(scope="module")
def rnn():
    return make_rnn()


@pytest.fixture(scope="module")
def states(rnn):
    return hidden_states(rnn)  # 1500 x 128


@pytest.fixture(scope="module")
def small(rnn):
    return hidden_states(rnn, sequences=8, steps=60, seed=3)  # 480 x 128


@pytest.fixture(scope="module")
def cold(states):
    return project(states, ProjectionParams())


# ---------------------------------------------------------------- parameters


def test_defaults_and_as_dict():
    params = ProjectionParams()
    assert params.as_dict() == dict(
        method="tsne", perplexity=30.0, seed=0, iterations=750, metric="euclidean", align="neighbor",
        n_neighbors=15, min_dist=0.1,
    )
    assert projection.METHODS == ("tsne", "pca", "umap")


def test_from_query_accepts_valid_values_and_ignores_routing_keys():
    params = ProjectionParams.from_query(
        {
            "run": "r1",
            "tag": "lstm",
            "step": "3",
            "experiment": "e",
            "method": "tsne",
            "perplexity": "12.5",
            "seed": "2147483647",
            "iterations": "5000",
            "metric": "cosine",
            "align": "neighbor",
        }
    )
    assert params == ProjectionParams(
        method="tsne", perplexity=12.5, seed=2**31 - 1, iterations=5000, metric="cosine",
        align="neighbor")
    assert ProjectionParams.from_query({}) == ProjectionParams()
    assert ProjectionParams.from_query({"perplexity": "2", "iterations": "50"}).perplexity == 2.0
    assert ProjectionParams.from_query({"perplexity": "200"}).perplexity == 200.0
    # A JSON round trip gives the same parameters (cache keys).
    as_strings = {k: str(v) for k, v in params.as_dict().items()}
    assert ProjectionParams.from_query(as_strings) == params


@pytest.mark.parametrize(
    "key, value",
    [
        ("perplexity", "0"),
        ("perplexity", "1000"),
        ("perplexity", "abc"),
        ("perplexity", "nan"),
        ("perplexity", "inf"),
        ("iterations", "10"),
        ("iterations", "5001"),
        ("iterations", "500.5"),
        ("metric", "manhattan"),
        ("method", "lle"),
        ("align", "maybe"),
        ("seed", "-1"),
        ("seed", str(2**31)),
        ("seed", "x"),
        ("n_neighbors", "1"),
        ("n_neighbors", "2.5"),
        ("min_dist", "-0.1"),
        ("min_dist", "1.5"),
    ],
)
def test_from_query_rejects_bad_values_naming_the_parameter(key, value):
    with pytest.raises(ValueError) as error:
        ProjectionParams.from_query({key: value, "run": "r"})
    message = str(error.value)
    assert message.startswith("%s is " % key), message
    assert value in message and "expected" in message


@pytest.mark.parametrize("key", ["iterations", "seed", "n_neighbors"])
def test_a_huge_integer_is_refused_and_not_repeated_whole(key):
    """Found by the HTTP fuzz: 309 nines overflowed math.isfinite into a 500."""
    with pytest.raises(ValueError) as error:
        ProjectionParams.from_query({key: "9" * 309})
    message = str(error.value)
    assert message.startswith("%s is 999" % key) and "(309 characters)" in message
    assert len(message) < 200, message


def test_parameters_that_do_not_apply_to_the_method_are_reset():
    # PCA has no perplexity, seed or iterations: requests differing only there are one.
    pca = ProjectionParams.from_query({"method": "pca", "perplexity": "12.5", "seed": "4",
                                       "iterations": "100", "n_neighbors": "40"})
    assert pca == ProjectionParams(method="pca")
    umap = ProjectionParams.from_query({"method": "umap", "perplexity": "12.5",
                                        "n_neighbors": "40", "min_dist": "0.5"})
    assert (umap.perplexity, umap.n_neighbors, umap.min_dist) == (30.0, 40, 0.5)
    tsne = ProjectionParams(n_neighbors=40, min_dist=0.5, perplexity=12.5)
    assert (tsne.perplexity, tsne.n_neighbors, tsne.min_dist) == (12.5, 15, 0.1)
    # Out-of-range values are rejected even where they would be reset.
    with pytest.raises(ValueError, match="^min_dist is 2"):
        ProjectionParams(method="tsne", min_dist=2.0)


def test_param_specs_describe_every_field():
    import dataclasses

    assert [spec.name for spec in projection.PARAM_SPECS] == [
        "method", "perplexity", "iterations", "n_neighbors", "min_dist", "seed", "metric", "align"]
    assert {f.name for f in dataclasses.fields(ProjectionParams)} == set(projection.SPECS)
    for spec in projection.PARAM_SPECS:
        assert getattr(ProjectionParams(), spec.name) == spec.default
        described = spec.as_dict()
        assert described["methods"] and set(described["methods"]) <= set(projection.METHODS)
        assert ("choices" in described) == (spec.kind == "choice")


def test_from_query_rejects_unknown_keys():
    with pytest.raises(ValueError, match="foo.*expected"):
        ProjectionParams.from_query({"foo": "1"})


def test_constructor_never_clamps():
    with pytest.raises(ValueError, match="^perplexity is 1000"):
        ProjectionParams(perplexity=1000)
    with pytest.raises(ValueError, match="^iterations is 10;"):
        ProjectionParams(iterations=10)


def test_library_versions():
    versions = projection.library_versions()
    assert set(versions) == {"engine", "openTSNE", "sklearn", "numpy", "umap"}
    assert versions["engine"] == projection.ENGINE_VERSION
    assert versions["numpy"] == np.__version__
    assert (versions["umap"] is not None) == projection.umap_available()


# ---------------------------------------------------------------- t-SNE


def test_tsne_is_deterministic_for_a_seed(small):
    a = project(small, ProjectionParams(seed=7))
    b = project(small, ProjectionParams(seed=7))
    assert a.shape == (len(small), 2) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-6)
    c = project(small, ProjectionParams(seed=8))
    assert np.abs(a - c).max() > 1e-3


def test_tsne_keeps_the_order_of_points(small):
    # Permuted input, un-permuted output: as trustworthy as a layout can be only if
    # row i of the result belongs to row i of the input.
    perm = np.random.default_rng(0).permutation(len(small))
    y = project(small[perm], ProjectionParams(perplexity=20))
    back = np.empty_like(y)
    back[perm] = y
    assert trustworthiness(small, back, n_neighbors=10) > 0.9
    assert trustworthiness(small, y, n_neighbors=10) < 0.7


def test_tsne_quality_matches_sklearn(states, cold):
    y = cold
    ours = trustworthiness(states, y, n_neighbors=10)
    reference = TSNE(perplexity=30, random_state=0).fit_transform(states)
    theirs = trustworthiness(states, reference, n_neighbors=10)
    assert ours >= theirs - 0.01, (ours, theirs)


def test_progress_is_monotone_with_named_phases(small):
    calls = []
    layout = projection.compute(small, ProjectionParams(iterations=100),
                                progress=lambda f, p: calls.append((f, p)))
    fractions = [f for f, _ in calls]
    phases = [p for _, p in calls]
    assert fractions[0] < 0.1
    assert fractions == sorted(fractions) and calls[-1] == (1.0, "done")
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert {"affinities", "early exaggeration", "optimisation", "quality", "done"} <= set(phases)
    # 250 early-exaggeration iterations in 50-iteration chunks, then at most 100.
    assert phases.count("early exaggeration") == 5
    assert phases.count("optimisation") == layout.info["iterations"] // 50 <= 2


def test_a_cold_run_stops_once_converged_and_says_so(states, cold):
    layout = projection.compute(states, ProjectionParams(iterations=5000))
    info = layout.info
    assert info["mode"] == "cold" and info["converged"] is True
    assert info["early_exaggeration_iterations"] == 250
    # opt-SNE's rule stopped it long before the cap, as faithful as scikit-learn's 1,000.
    assert 100 <= info["iterations"] < 5000 and info["iterations"] % 50 == 0
    assert info["trustworthiness"] == pytest.approx(trustworthiness(states, layout.coords, n_neighbors=10), abs=0.005)
    assert info["kl_divergence"] > 0
    capped = projection.compute(states, ProjectionParams(iterations=100)).info
    assert capped["iterations"] == 100 or capped["converged"]


def test_cancellation_is_prompt(small):
    calls = []

    def cancelled():
        return len(calls) >= 1

    start = time.perf_counter()
    with pytest.raises(Cancelled):
        project(small, ProjectionParams(iterations=5000), progress=lambda f, p: calls.append(f),
                cancelled=cancelled)
    assert len(calls) == 1
    assert time.perf_counter() - start < 1.0

    # Cancelled midway: between optimisation chunks.
    calls.clear()
    with pytest.raises(Cancelled):
        project(small, ProjectionParams(iterations=5000), progress=lambda f, p: calls.append(f),
                cancelled=lambda: len(calls) >= 4)
    assert len(calls) == 4 and calls[-1] < 0.5


@pytest.fixture(scope="module")
def medium(rnn):
    """3,000 points: above openTSNE's exact-kNN limit, so the Annoy search runs in several chunks."""
    return hidden_states(rnn, sequences=40, steps=75, seed=5)


def test_affinities_equal_opentsnes_and_report_the_neighbour_search(medium):
    from openTSNE import affinity

    from tb_rnn_hidden.projection import affinities

    calls = []
    ours = affinities.affinities(medium, 30.0, 3, lambda f, p: calls.append((f, p)))
    theirs = affinity.PerplexityBasedNN(
        medium, perplexity=30.0, metric="euclidean", n_jobs=affinities.n_jobs(), random_state=3)
    assert ours.P.shape == theirs.P.shape and ours.P.nnz == theirs.P.nnz
    assert abs(ours.P - theirs.P).max() == 0.0
    phases = [p for _, p in calls]
    assert phases[0] == "nearest neighbours: indexing"
    searched = [p for p in phases if p.startswith("nearest neighbours: ") and " of " in p]
    assert len(searched) >= 2, phases  # one report per chunk of points
    assert phases[-1] == "affinities: calibrating perplexity"
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] < 1


def test_cancellation_during_the_neighbour_search(medium):
    phases = []

    def cancelled():
        return any(p.startswith("nearest neighbours: ") and " of " in p and not p.startswith(
            "nearest neighbours: 0 ") for p in phases)

    with pytest.raises(Cancelled):
        project(medium, ProjectionParams(), progress=lambda f, p: phases.append(p),
                cancelled=cancelled)
    assert "early exaggeration" not in phases and "optimisation" not in phases


def test_a_small_change_keeps_the_warm_start(rnn, states, cold):
    first = projection.compute(states, ProjectionParams())
    following = hidden_states(perturb(rnn, 0.05))
    change = np.linalg.norm(following - states) / np.linalg.norm(states)
    assert 0.02 < change < 0.15, change

    params = ProjectionParams(align="neighbor")
    phases = []
    aligned = projection.compute(following, params, init=first.coords, reference=first.info,
                                 progress=lambda f, p: phases.append(p))
    independent = project(following, ProjectionParams(seed=1))
    assert aligned.info["mode"] == "warm" and aligned.info["early_exaggeration_iterations"] == 0
    assert "early exaggeration" not in phases and "optimisation from the neighbour" in phases
    assert aligned.info["reference_trustworthiness"] == first.info["trustworthiness"]

    aligned_disparity = procrustes(first.coords, aligned.coords)[2]
    independent_disparity = procrustes(first.coords, independent)[2]
    assert aligned_disparity < independent_disparity / 5, (aligned_disparity, independent_disparity)
    # A real t-SNE of the new checkpoint, as faithful as a cold one, not a copy of the old.
    assert trustworthiness(following, aligned.coords, n_neighbors=10) >= (
        trustworthiness(following, independent, n_neighbors=10) - 0.01)


def test_without_a_reference_an_aligned_run_relays_out(rnn, states, cold):
    following = hidden_states(perturb(rnn, 0.05))
    phases = []
    aligned = projection.compute(following, ProjectionParams(align="neighbor"), init=cold,
                                 progress=lambda f, p: phases.append(p))
    info = aligned.info
    assert info["mode"] == "relayout" and "warm_iterations" not in info
    assert "optimisation from the neighbour" not in phases
    assert info["early_exaggeration_iterations"] == 250 and phases.count("early exaggeration") == 5


def test_unrelated_init_is_relaid_out_from_pca(small):
    # A layout of other points (rows shuffled) or a degenerate one is not even tried as
    # a warm start: the cold schedule runs, and the result is rotated onto init.
    params = ProjectionParams(align="neighbor", perplexity=20, iterations=500)
    first = projection.compute(small, params)
    cold_trust = trustworthiness(small, first.coords, n_neighbors=10)
    shuffled = first.coords[np.random.default_rng(0).permutation(len(first.coords))]
    for init in (shuffled, np.zeros_like(first.coords)):
        calls = []
        layout = projection.compute(small, params, init=init, reference=first.info,
                                    progress=lambda f, p: calls.append((f, p)))
        phases = [p for _, p in calls]
        assert "optimisation from the neighbour" not in phases
        assert phases.count("early exaggeration") == 5
        assert layout.info["mode"] == "relayout"
        fractions = [f for f, _ in calls]
        assert fractions == sorted(fractions) and calls[-1] == (1.0, "done")
        assert trustworthiness(small, layout.coords, n_neighbors=10) > cold_trust - 0.01


def test_cosine_metric(small):
    y = project(small, ProjectionParams(metric="cosine", perplexity=20))
    assert y.shape == (len(small), 2) and np.isfinite(y).all()
    assert trustworthiness(small, y, n_neighbors=10, metric="cosine") > 0.9


def test_wide_states_are_reduced_with_pca_first(small):
    # D > 200 (e.g. a bidirectional LSTM(128) with cell states): PCA to 50 dimensions.
    wide = np.concatenate([small, np.tanh(small @ np.random.default_rng(4).standard_normal((128, 128)))], axis=1)
    assert wide.shape[1] > projection.PCA_ABOVE
    params = ProjectionParams(perplexity=20, iterations=250)
    a = project(wide, params)
    np.testing.assert_allclose(a, project(wide, params), atol=1e-6)
    assert trustworthiness(wide, a, n_neighbors=10) > 0.9
    c = project(wide, ProjectionParams(perplexity=20, iterations=250, metric="cosine"))
    assert trustworthiness(wide, c, n_neighbors=10, metric="cosine") > 0.9


def test_float16_and_perplexity_checked_against_point_count(small):
    y = project(small[:200].astype(np.float16), ProjectionParams(perplexity=10, iterations=50))
    assert y.shape == (200, 2) and y.dtype == np.float32 and np.isfinite(y).all()
    with pytest.raises(ValueError, match="perplexity is 30.*P/3.*lower the perplexity"):
        project(small[:60], ProjectionParams())
    with pytest.raises(ValueError, match="t-SNE needs more than 6 points.*has 6: choose PCA"):
        project(small[:6], ProjectionParams(perplexity=2))


# ---------------------------------------------------------------- PCA


def test_pca_order_duplicates_and_permutation(states):
    x = np.concatenate([states[:300], states[10:11]])  # row 300 duplicates row 10
    params = ProjectionParams(method="pca")
    y = project(x, params)
    assert y.shape == (301, 2) and y.dtype == np.float32
    np.testing.assert_allclose(y[300], y[10], atol=1e-5)
    perm = np.random.default_rng(1).permutation(len(x))
    yp = project(x[perm], params, init=y[perm])
    np.testing.assert_allclose(yp, y[perm], atol=1e-3 * np.abs(y).max())


def test_pca_aligned_to_init_is_sign_consistent(rnn, states):
    params = ProjectionParams(method="pca", align="neighbor")
    first = project(states, params)
    # The same layout mirrored and rotated comes back aligned.
    rotation = np.array([[0.0, -1.0], [-1.0, 0.0]])
    aligned = project(states, params, init=first @ rotation)
    np.testing.assert_allclose(aligned, first @ rotation, atol=1e-3 * np.abs(first).max())
    # A perturbed checkpoint keeps the orientation of its neighbour.
    following = project(hidden_states(perturb(rnn, 0.05)), params, init=first)
    for axis in range(2):
        assert np.corrcoef(first[:, axis], following[:, axis])[0, 1] > 0.9


def test_pca_cosine_ignores_row_scale(small):
    scales = np.random.default_rng(2).uniform(0.5, 3.0, size=(len(small), 1)).astype(np.float32)
    params = ProjectionParams(method="pca", metric="cosine")
    np.testing.assert_allclose(project(small * scales, params), project(small, params), atol=1e-4)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("method", ["tsne", "pca"])
def test_nan_rows_are_named(small, method):
    x = small.copy()
    x[7, 3] = np.nan
    x[42, 0] = np.inf
    with pytest.raises(ValueError, match=r"^2 of 480 points have NaN or Inf values; the first is row 7$"):
        project(x, ProjectionParams(method=method))


def test_bad_init_shape(small):
    with pytest.raises(ValueError, match="init has shape"):
        project(small, ProjectionParams(), init=np.zeros((3, 2)))


def test_umap_without_the_extra_says_how_to_install_it(small, monkeypatch):
    monkeypatch.setattr(projection, "umap_available", lambda: False)  # as without umap-learn
    with pytest.raises(ValueError, match=r"pip install tb-rnn-hidden\[umap\]"):
        project(small, ProjectionParams(method="umap"))


umap_installed = pytest.mark.skipif(
    not projection.umap_available(),
    reason="umap-learn is not installed (pip install tb-rnn-hidden[umap]; CI installs it)")


@umap_installed
def test_umap_is_deterministic_faithful_and_aligns_to_init(rnn, states):
    params = ProjectionParams(method="umap", n_neighbors=15, seed=1)
    first = project(states, params)
    assert first.shape == (len(states), 2) and np.isfinite(first).all()
    np.testing.assert_array_equal(project(states, params), first)
    assert trustworthiness(states, first, n_neighbors=10) > 0.9

    following = hidden_states(perturb(rnn, 0.05))
    aligned = project(following, ProjectionParams(method="umap", n_neighbors=15, seed=1,
                                                  align="neighbor"), init=first)
    assert trustworthiness(following, aligned, n_neighbors=10) > 0.9

    def unit(y):
        y = y - y.mean(axis=0)
        return y / np.linalg.norm(y)

    # What the user sees: the next layout without a rotation or flip against this one.
    moved = np.linalg.norm(unit(aligned) - unit(first)) ** 2
    assert moved < 0.2, moved
    assert moved == pytest.approx(procrustes(first, aligned)[2], abs=0.05)
