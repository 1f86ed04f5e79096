"""A run's layer over training (GET /training): per checkpoint how well it predicts the
probe set and how many sequences flip, and from one checkpoint to the next how far the
hidden states moved and which units' mean activations moved most.

The per-checkpoint figures come from the checkpoint's cached derived data; the change
between consecutive checkpoints reads both checkpoints' states, once per pair (cached
by the server).
"""

import dataclasses
from typing import Optional

import numpy as np

TOP_UNITS = 5
_CHUNK_VALUES = 1 << 22  # states rows differenced at once: ~16 MiB of float32


@dataclasses.dataclass(frozen=True)
class Change:
    """From one checkpoint to the next: None / [] where their probe sets differ."""

    change: Optional[float]  # mean ||h_c - h_prev|| over points / RMS norm of h_prev
    top_units: list  # the TOP_UNITS units whose mean moved most, most first
    top_unit_moves: list  # |mean_c - mean_prev| of each


NO_CHANGE = Change(None, [], [])


def flip_count(last_flips):
    """Sequences with a flip (a last flip step > 0), or None without probabilities."""
    return None if last_flips is None else int(np.count_nonzero(last_flips))


def state_change(previous, current):
    """Mean over points of ||h_c - h_prev||, divided by the RMS norm of h_prev's points
    (the raw mean where that is 0: all-zero states). Both are [P, H] of one probe set."""
    rows = max(1, _CHUNK_VALUES // max(1, previous.shape[1]))
    distance = 0.0
    square = 0.0
    for start in range(0, len(previous), rows):
        before = previous[start : start + rows].astype(np.float32)
        after = current[start : start + rows].astype(np.float32)
        distance += float(np.linalg.norm(after - before, axis=1).sum(dtype=np.float64))
        square += float(np.einsum("ij,ij->", before, before, dtype=np.float64))
    points = max(1, len(previous))
    rms = np.sqrt(square / points)
    return distance / points / (rms if rms > 0 else 1.0)


def top_unit_moves(previous_means, means, count=TOP_UNITS):
    """([units], [moves]): the `count` units with the largest |mean - previous mean|,
    largest first (ties by unit index)."""
    moves = np.abs(means - previous_means)
    order = np.argsort(-moves, kind="stable")[:count]
    return order.tolist(), moves[order].tolist()


def training_json(run, tag, steps, accuracies, flips, changes, flip_threshold, separations=None,
                  unreadable=None):
    """The answer of GET /training: per checkpoint (ascending `steps`) its accuracy,
    flips and class separation, and the `Change` from the one before (`changes[i]` for
    steps[i + 1])."""
    changes = [NO_CHANGE] + list(changes) if steps else []
    return dict(
        run=run, tag=tag, steps=list(steps),
        accuracy=list(accuracies), flips=list(flips),
        separation=list(separations) if separations is not None else [None] * len(steps),
        change=[c.change for c in changes],
        top_units=[c.top_units for c in changes],
        top_unit_moves=[c.top_unit_moves for c in changes],
        flip_threshold=flip_threshold,
        unreadable={str(step): reason for step, reason in sorted((unreadable or {}).items())},
    )
