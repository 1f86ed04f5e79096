"""Figures derived from one checkpoint's decoded arrays, computed once (the reader caches
them) and served by every route that needs them.

Arrays are step-major, as stored: the valid steps of sequence 0, then of sequence 1, ...
"""

import dataclasses
from typing import Optional

import numpy as np


def offsets(lengths):
    """[N + 1] index of each sequence's first step in the step-major arrays."""
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])


def sequence_of(offsets, points):
    """The sequence of each point index."""
    return np.searchsorted(offsets, points, side="right") - 1


def sequence_steps(offsets, points):
    """(sequence, step within it) of each point index: the inverse of `offsets`."""
    sequences = sequence_of(offsets, points)
    return sequences, points - offsets[sequences]


def final_probabilities(probabilities, offsets):
    """[N, C] the prediction at each sequence's last valid step, or None without probabilities."""
    if probabilities is None:
        return None
    return probabilities[offsets[1:] - 1]


@dataclasses.dataclass(frozen=True)
class Predictions:
    """What the model predicts for each sequence at its last step, and how well."""

    classes: Optional[np.ndarray]  # [N] argmax class, or None without probabilities
    confidences: Optional[np.ndarray]  # [N] its probability
    accuracy: Optional[float]  # share of classes equal to the labels, or None


def predictions(final, labels):
    """`Predictions` from `final_probabilities` and the labels (either may be None)."""
    if final is None:
        return Predictions(None, None, None)
    classes = final.argmax(axis=1)
    accuracy = None if labels is None else float((classes == labels).mean())
    return Predictions(classes, final.max(axis=1), accuracy)


def step_distances(states, offsets):
    """Euclidean distance between consecutive hidden states within each sequence.

    [P - N] float32, sequence after sequence: transition t -> t+1 of sequence i is at
    `offsets[i] - i + t`.
    """
    steps = np.linalg.norm(
        np.diff(states.astype(np.float32, copy=False), axis=0), axis=1
    ).astype(np.float32)
    within = np.ones(len(steps), dtype=bool)
    within[offsets[1:-1] - 1] = False  # last step of i -> first of i+1
    return steps[within]
