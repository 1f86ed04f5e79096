"""One row per point of a checkpoint's layout: what `GET /export` answers.

Rows are the points in the order of every array route (every valid step,
sequence after sequence), so row `p` is point `p` of `/states` and of the
layout. A `PointTable` builds its columns for any range of rows: numbers as
numpy arrays of one dtype each, text as lists of `str`. The CSV is written a
range at a time (its memory bounded whatever the checkpoint's size), the NPZ
from the whole range, both from this one definition (server/export.py
encodes them).
"""

import dataclasses
from typing import Optional, Sequence

import numpy as np

from tb_rnn_hidden.analysis import derived

# Every column, in the order answered; those of data a checkpoint was logged without are left out.
COLUMNS = (
    "sequence", "step", "x", "y", "token", "label", "label_name", "prediction",
    "prediction_name", "confidence",
)


@dataclasses.dataclass(frozen=True)
class PointTable:
    """A checkpoint's points with their layout and what was logged there.

    `coords` is the [P, 2] layout; `token_ids` ([P]) index `vocabulary`;
    `labels` are per sequence ([N], repeated over the sequence's points);
    `probabilities` are per point ([P, C]): `prediction` is their argmax at the
    point (the class the model predicts after reading up to that step, as the
    tab colours points) and `confidence` its probability. The `*_name` columns
    hold `class_names` as text where they were logged.
    """

    lengths: np.ndarray
    coords: np.ndarray
    token_ids: Optional[np.ndarray] = None
    vocabulary: Optional[Sequence[str]] = None
    labels: Optional[np.ndarray] = None
    probabilities: Optional[np.ndarray] = None
    class_names: Optional[Sequence[str]] = None

    def __post_init__(self):
        points = self.num_points
        if np.shape(self.coords) != (points, 2):
            raise ValueError("coords has shape %s; expected (%d, 2) for these lengths"
                             % (np.shape(self.coords), points))

    @property
    def offsets(self):
        return derived.offsets(self.lengths)

    @property
    def num_points(self):
        return int(np.sum(self.lengths))

    @property
    def names(self):
        """The columns this checkpoint has, in `COLUMNS` order."""
        present = {"token": self.token_ids is not None, "label": self.labels is not None,
                   "prediction": self.probabilities is not None,
                   "confidence": self.probabilities is not None}
        present["label_name"] = present["label"] and self.class_names is not None
        present["prediction_name"] = present["prediction"] and self.class_names is not None
        return tuple(name for name in COLUMNS if present.get(name, True))

    def text_width(self, name):
        """The characters of the longest value text column `name` can hold."""
        values = self.vocabulary if name == "token" else self.class_names
        return max((len(value) for value in values or ()), default=0)

    def columns(self, start=0, end=None):
        """{name: column} of rows [start, end) (default: all)."""
        end = self.num_points if end is None else end
        points = np.arange(start, end)
        sequences, steps = derived.sequence_steps(self.offsets, points)
        out = dict(sequence=sequences.astype(np.int32), step=steps.astype(np.int32),
                   x=np.asarray(self.coords[start:end, 0], dtype=np.float32),
                   y=np.asarray(self.coords[start:end, 1], dtype=np.float32))
        if self.token_ids is not None:
            out["token"] = _texts(self.vocabulary, self.token_ids[start:end])
        if self.labels is not None:
            out["label"] = np.asarray(self.labels, dtype=np.int32)[sequences]
            if self.class_names is not None:
                out["label_name"] = _texts(self.class_names, out["label"])
        if self.probabilities is not None:
            rows = self.probabilities[start:end]
            out["prediction"] = rows.argmax(axis=1).astype(np.int32)
            if self.class_names is not None:
                out["prediction_name"] = _texts(self.class_names, out["prediction"])
            out["confidence"] = rows.max(axis=1).astype(np.float32)
        return {name: out[name] for name in self.names}


def _texts(values, indices):
    """[values[i] for i in indices] as a list of `str`: text exactly as logged (a numpy
    unicode array would drop a trailing NUL character)."""
    return [values[i] for i in indices.tolist()]

