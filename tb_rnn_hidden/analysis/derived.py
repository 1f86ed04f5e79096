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


def point_predictions(probabilities):
    """[P] int32 argmax class of every step (the first of equal maxima, as the tab's
    `domain/data.ts`), or None without probabilities."""
    if probabilities is None:
        return None
    return probabilities.argmax(axis=1).astype(np.int32)


def confidence_changes(probabilities, offsets):
    """[P] float32: per step, the largest |p_t,c - p_t-1,c| over classes, 0 at each
    sequence's first step: the tab's `domain/confidence.ts`, value for value (float32)."""
    changes = np.zeros(len(probabilities), dtype=np.float32)
    if len(probabilities) > 1 and probabilities.shape[1]:
        probabilities = probabilities.astype(np.float32, copy=False)
        changes[1:] = np.abs(np.diff(probabilities, axis=0)).max(axis=1)
    changes[offsets[:-1]] = 0.0  # lengths are >= 1: each first step is a point
    return changes


def last_flip_steps(offsets, point_predictions, changes, threshold):
    """[N] int32: the step (within its sequence) of each sequence's last flip, 0 when none.

    A flip is a step t > 0 whose argmax differs from step t - 1's and whose
    confidence change is >= `threshold`: the tab's `domain/flips.ts`. The float32
    changes are compared in float64, as JavaScript compares them.
    """
    num_sequences = len(offsets) - 1
    flips = np.zeros(num_sequences, dtype=np.int32)
    if len(point_predictions) < 2:
        return flips
    is_flip = np.zeros(len(point_predictions), dtype=bool)
    is_flip[1:] = point_predictions[1:] != point_predictions[:-1]
    is_flip &= changes.astype(np.float64) >= threshold
    is_flip[offsets[:-1]] = False  # a first step has no step before it
    points = np.flatnonzero(is_flip)
    if not points.size:
        return flips
    sequences = sequence_of(offsets, points)
    last = np.append(sequences[1:] != sequences[:-1], True)  # points ascend: last of each
    flips[sequences[last]] = points[last] - offsets[sequences[last]]
    return flips


def unit_means(states):
    """[H] float64 mean of each unit over every valid step of every sequence."""
    if not len(states):
        return np.zeros(states.shape[1], dtype=np.float64)
    return states.mean(axis=0, dtype=np.float64)


def final_states(states, offsets):
    """[N, H] each sequence's hidden state at its last valid step."""
    return states[offsets[1:] - 1]


def class_separation(final_states, labels):
    """How well the final hidden states separate the true classes: the share of their
    variance (summed over units) that the class means explain, between-class over total
    sum of squares, in [0, 1]; 1 when every class is one point, ~0 when the classes
    overlap with equal means. It reads the hidden space directly, where accuracy reads
    the output layer, so two runs' chart lines say which separates the classes earlier.
    None without labels, with one class only, or when all final states are equal."""
    if labels is None or len(labels) == 0:
        return None
    labels = np.asarray(labels)
    classes, index = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        return None
    states = np.asarray(final_states, dtype=np.float64)
    centred = states - states.mean(axis=0)
    total = float(np.einsum("ij,ij->", centred, centred))
    if total <= 0:
        return None
    sums = np.zeros((len(classes), states.shape[1]))
    np.add.at(sums, index, centred)
    counts = np.bincount(index, minlength=len(classes)).astype(np.float64)
    between = float(np.sum(sums ** 2 / counts[:, None]))
    return min(1.0, max(0.0, between / total))
