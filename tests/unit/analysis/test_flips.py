"""Per-step confidence changes and each sequence's last flip (analysis/derived.py) against
the tab's definition (domain/confidence.ts, domain/flips.ts) written as a plain loop."""

import math

import numpy as np
import pytest

from tb_rnn_hidden.analysis import derived


def tab_last_flips(probabilities, lengths, threshold):
    """flips.ts over confidence.ts: changes stored as float32, compared as JS doubles."""
    flips, start = [], 0
    for length in lengths:
        found = 0
        for p in range(start + length - 1, start, -1):
            change = max(float(np.float32(abs(float(x) - float(y))))
                         for x, y in zip(probabilities[p], probabilities[p - 1]))
            if _argmax(probabilities[p]) != _argmax(probabilities[p - 1]) and change >= threshold:
                found = p - start
                break
        flips.append(found)
        start += length
    return flips


def _argmax(row):
    best, value = 0, -math.inf
    for k, v in enumerate(row):
        if v > value:
            best, value = k, float(v)
    return best


def last_flips(probabilities, lengths, threshold):
    offsets = derived.offsets(lengths)
    changes = derived.confidence_changes(probabilities, offsets)
    return derived.last_flip_steps(
        offsets, derived.point_predictions(probabilities), changes, threshold).tolist()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("threshold", [0.0, 0.05, 0.2, 0.7, 1.0])
def test_last_flips_are_the_tabs(seed, threshold):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 15, size=40)
    logits = rng.standard_normal((int(lengths.sum()), 4)) * rng.uniform(0.2, 4)
    probabilities = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    assert last_flips(probabilities, lengths, threshold) == tab_last_flips(
        probabilities, lengths, threshold)


def test_a_change_equal_to_the_float32_threshold_is_compared_as_the_tab_does():
    """float32(0.7) < 0.7: a change of exactly float32(0.7) is no flip at threshold 0.7 (the
    tab compares in double); a float32 comparison would count it."""
    probabilities = np.array([[1.0, 0.0], [0.3, 0.7]], dtype=np.float32)
    assert derived.confidence_changes(probabilities, derived.offsets([2]))[1] == np.float32(0.7)
    assert last_flips(probabilities, [2], 0.7) == tab_last_flips(probabilities, [2], 0.7) == [0]
    assert last_flips(probabilities, [2], 0.69999998) == [1]


def test_no_flip_across_a_sequence_boundary():
    probabilities = np.array([[0.9, 0.1], [0.1, 0.9], [0.8, 0.2]], dtype=np.float32)
    assert last_flips(probabilities, [2, 1], 0.0) == [1, 0]
    assert last_flips(probabilities, [1, 2], 0.0) == [0, 1]
    assert derived.confidence_changes(probabilities, derived.offsets([1, 2]))[1] == 0.0
