"""Realistic checkpoints: the arrays a training script logs."""

import numpy as np


def make_checkpoint(seed=0, n=6, t=9, h=5, c=3, tokens=True, annotations=False):
    """Arrays as a training script would log them: tanh states, softmax outputs, padding;
    with `annotations`, three tracks: "depth" (ints), "pos" (strings), "flag" (booleans)."""
    rng = np.random.default_rng(seed)
    states = np.tanh(rng.standard_normal((n, t, h))).astype(np.float32)
    logits = rng.standard_normal((n, t, c)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    lengths = rng.integers(1, t + 1, size=n)
    lengths[0] = t  # at least one full-length sequence
    labels = rng.integers(0, c, size=n)
    words = ["good", "bad", "not", "<img src=x onerror=alert(1)>", "ünïcode", "the", "film"]
    token_array = np.array(
        [[words[(i + j) % len(words)] for j in range(t)] for i in range(n)], dtype=object
    )
    record = dict(
        states=states,
        probabilities=probabilities,
        tokens=token_array if tokens else None,
        lengths=lengths,
        labels=labels,
        class_names=["class %d" % k for k in range(c)],
    )
    if annotations:
        record["annotations"] = make_annotations(rng, n, t)
    return record


def make_annotations(rng, n, t):
    """Per-step tracks of three kinds: nesting depth (ints), part of speech (strings), a flag."""
    depth = np.cumsum(rng.choice([-1, 1], size=(n, t)), axis=1)
    depth -= depth.min(axis=1, keepdims=True)
    tags = np.array(["NN", "VB", "DT", "JJ", "<b>&amp;</b>", "ünï"])
    return {
        "depth": depth,
        "pos": tags[rng.integers(0, len(tags), size=(n, t))],
        "flag": rng.random((n, t)) < 0.3,
    }


def valid_steps(array, lengths):
    """The valid (non-padding) steps of [N, T, ...] array, sequence after sequence."""
    return np.concatenate([array[i, :length] for i, length in enumerate(lengths)])


def planted_bracket_checkpoint(seed=0, n=12, t=24, h=16, planted=(2, 5, 9), trained=True):
    """A bracket-language checkpoint as a training script would log it, with a planted hypothesis.

    Each sequence holds one bracketed range: "(" at step `open`, ")" at `close`,
    letters elsewhere. When `trained`, the `planted` units are 0.8 exactly inside
    (steps open+1 .. close-1) and -0.6 everywhere else; untrained, they are noise
    like every other unit (uniform in [-1, 0.5]: on at θ 0.3 about one step in seven).
    Returns the `HiddenStateWriter.add` arguments and the inside ranges
    [(sequence, start, end)] (end exclusive).
    """
    rng = np.random.default_rng(seed)
    states = rng.uniform(-1.0, 0.5, size=(n, t, h)).astype(np.float32)
    letters = np.array(list("abcd"), dtype=object)
    tokens = letters[rng.integers(0, len(letters), size=(n, t))]
    lengths = rng.integers(t - 6, t + 1, size=n)
    ranges = []
    for i, length in enumerate(lengths):
        open_ = int(rng.integers(1, length - 8))
        close = int(rng.integers(open_ + 3, min(open_ + 9, length - 1)))
        tokens[i, open_], tokens[i, close] = "(", ")"
        ranges.append((i, open_ + 1, close))
        if trained:
            states[i, :, list(planted)] = -0.6
            states[i, open_ + 1:close, list(planted)] = 0.8
    logits = rng.standard_normal((n, t, 2)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    arrays = dict(
        states=states, probabilities=probabilities, tokens=tokens, lengths=lengths,
        labels=rng.integers(0, 2, size=n), class_names=["flat", "nested"],
    )
    return arrays, ranges


def selected_units(states, start, end, threshold=0.3, off_before=1, off_after=0):
    """LSTMVis' selection on one sequence's [T, H] states, as a plain loop: the units on
    (>= threshold) exactly inside [start, end) and off in the clipped extents around it."""
    lo, hi = max(0, start - off_before), min(len(states), end + off_after)
    return [u for u in range(states.shape[1])
            if all((states[t, u] >= threshold) == (start <= t < end) for t in range(lo, hi))]
