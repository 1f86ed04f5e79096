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
