"""Nearest neighbours in the hidden space (analysis/neighbors.py) against a plain loop."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tb_rnn_hidden.analysis import neighbors


def reference_neighbors(states, point, k):
    """[(squared distance, point)] of the k nearest other points, by looping."""
    query = states[point].astype(np.float64)
    found = []
    for other in range(len(states)):
        if other != point:
            diff = states[other].astype(np.float64) - query
            found.append((float(diff @ diff), other))
    return sorted(found)[:k]


@st.composite
def integer_states(draw):
    """Small-integer states (exact in float16 and float32): many exact ties."""
    points = draw(st.integers(1, 60))
    size = draw(st.integers(1, 6))
    values = draw(st.lists(st.integers(-3, 3), min_size=points * size, max_size=points * size))
    dtype = draw(st.sampled_from([np.float16, np.float32]))
    return np.array(values, dtype=dtype).reshape(points, size)


@settings(max_examples=200, deadline=None)
@given(states=integer_states(), data=st.data())
def test_exact_neighbors_equal_the_reference_ties_by_point(states, data):
    point = data.draw(st.integers(0, len(states) - 1))
    k = data.draw(st.integers(1, 70))
    chunk_bytes = data.draw(st.sampled_from([4, 64, 1 << 20]))  # 1 row, a few rows, all
    found = neighbors.exact_neighbors(states, point, k, chunk_bytes=chunk_bytes)
    expected = reference_neighbors(states, point, k)
    assert found.points.tolist() == [p for _, p in expected]
    np.testing.assert_allclose(found.distances, np.sqrt([d for d, _ in expected]), rtol=1e-6)
    assert point not in found.points
    assert found.method == "exact" and found.exact


@settings(max_examples=100, deadline=None)
@given(states=integer_states(), data=st.data())
def test_approximate_neighbors_are_true_distances_ascending(states, data):
    point = data.draw(st.integers(0, len(states) - 1))
    k = data.draw(st.integers(1, 70))
    index = neighbors.projected_index(states, dims=data.draw(st.integers(1, 4)))
    found = neighbors.approximate_neighbors(states, index, point, k)
    reference = dict((p, d) for d, p in reference_neighbors(states, point, len(states)))
    assert point not in found.points
    assert len(found.points) == min(k, len(states) - 1)
    assert len(set(found.points.tolist())) == len(found.points)
    np.testing.assert_allclose(found.distances ** 2, [reference[p] for p in found.points],
                               rtol=1e-5, atol=1e-6)
    assert np.all(np.diff(found.distances) >= 0)
    if found.exact:  # proven exact: the same as the exact search
        exact = neighbors.exact_neighbors(states, point, k)
        assert found.points.tolist() == exact.points.tolist()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), points=st.integers(502, 1500), size=st.integers(1, 4),
       k=st.integers(1, 30), dims=st.integers(1, 2))
def test_approximate_neighbors_beyond_the_candidates_with_many_ties(seed, points, size, k, dims):
    # More points than the 500 candidates re-ranked; values in -2..2: ties at the bound.
    states = np.random.default_rng(seed).integers(-2, 3, (points, size)).astype(np.float32)
    point = seed % points
    index = neighbors.projected_index(states, dims)
    found = neighbors.approximate_neighbors(states, index, point, k)
    exact = neighbors.exact_neighbors(states, point, k)
    assert len(found.points) == k and point not in found.points
    assert len(set(found.points.tolist())) == k
    np.testing.assert_allclose(
        found.distances, np.linalg.norm(states[found.points] - states[point], axis=1), rtol=1e-6)
    assert np.all(np.diff(found.distances) >= 0)
    if found.exact:
        assert found.points.tolist() == exact.points.tolist()
    if dims >= size:  # the projection loses nothing: always the exact answer
        np.testing.assert_allclose(found.distances, exact.distances, rtol=1e-6)


def test_duplicate_states_still_answer_k_neighbours():
    states = np.zeros((2000, 8), dtype=np.float16)  # an untrained model: every state alike
    states[::7] = 1
    found = neighbors.approximate_neighbors(states, neighbors.projected_index(states), 0, 10)
    assert found.points.tolist() == [7, 14, 21, 28, 35, 42, 49, 56, 63, 70]
    assert found.exact and not found.distances.any()


def clustered_states(points=20_000, size=64, seed=0):
    """Hidden-state-like data: clusters on a low-dimensional manifold, tanh-squashed."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, 8))
    latent = centres[rng.integers(0, 50, points)] + 0.3 * rng.standard_normal((points, 8))
    mixing = rng.standard_normal((8, size))
    noise = 0.05 * rng.standard_normal((points, size))
    return np.tanh(latent @ mixing / 3 + noise).astype(np.float16)


def test_approximate_recall_on_clustered_states():
    states = clustered_states()
    index = neighbors.projected_index(states)
    rng = np.random.default_rng(1)
    recalls, proven = [], 0
    for point in rng.integers(0, len(states), 30):
        exact = neighbors.exact_neighbors(states, int(point), 10)
        found = neighbors.approximate_neighbors(states, index, int(point), 10)
        recalls.append(len(set(exact.points.tolist()) & set(found.points.tolist())) / 10)
        proven += found.exact
        if found.exact:
            assert found.points.tolist() == exact.points.tolist()
    assert np.mean(recalls) >= 0.95, recalls
    assert proven > 0


def test_k_beyond_the_other_points_answers_them_all():
    states = np.arange(12, dtype=np.float32).reshape(4, 3)
    found = neighbors.exact_neighbors(states, 1, 10)
    assert found.points.tolist() == [0, 2, 3]
    index = neighbors.projected_index(states)
    assert neighbors.approximate_neighbors(states, index, 1, 10).points.tolist() == [0, 2, 3]
    assert neighbors.exact_neighbors(states[:1], 0, 5).points.tolist() == []


def test_default_method_is_exact_for_small_checkpoints_only():
    assert neighbors.default_method(1000, 256) == "exact"
    assert neighbors.default_method(1_000_000, 256) == "approximate"


def test_neighbors_json_places_each_neighbor():
    states = np.array([[0.0], [1.0], [3.0], [6.0]], dtype=np.float32)
    offsets = np.array([0, 2, 4])
    found = neighbors.exact_neighbors(states, 2, 2)  # 0 and 3 tie at 3: the lower index wins
    assert neighbors.neighbors_json(found, offsets, 2, 2) == {
        "point": 2, "k": 2, "method": "exact", "exact": True,
        "neighbors": [{"point": 1, "sequence": 0, "step": 1, "distance": 2.0},
                      {"point": 0, "sequence": 0, "step": 0, "distance": 3.0}],
    }


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_exact_neighbors_of_random_states_match_the_reference(dtype):
    states = np.random.default_rng(3).standard_normal((3000, 16)).astype(dtype)
    found = neighbors.exact_neighbors(states, 17, 25, chunk_bytes=4096)
    expected = reference_neighbors(states, 17, 25)
    assert found.points.tolist() == [p for _, p in expected]
