"""States with planted hypotheses: known units on exactly inside bracketed step ranges."""

import numpy as np


def planted_brackets(seed, num_sequences=40, max_length=60, num_units=48, planted=(3, 7, 11)):
    """([N, T, H] float16 states, [N] lengths, [(sequence, start, end)] bracketed ranges).

    The `planted` units are 0.8 inside each bracketed range and -0.6 elsewhere; every
    other unit is noise, 0.7 or -0.7 at random at each step (on about half the time).
    Padding steps are 0.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(12, max_length + 1, size=num_sequences)
    states = np.where(rng.random((num_sequences, max_length, num_units)) < 0.5, 0.7, -0.7)
    states[:, :, list(planted)] = -0.6
    ranges = []
    for i, length in enumerate(lengths):
        t = int(rng.integers(0, 4))
        while t + 2 < length:
            end = min(t + int(rng.integers(2, 9)), int(length))
            states[i, t:end, list(planted)] = 0.8
            ranges.append((i, t, end))
            t = end + int(rng.integers(1, 6))
        states[i, length:] = 0
    return states.astype(np.float16), lengths, ranges
