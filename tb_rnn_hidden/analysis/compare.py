"""Two checkpoints of the same probe set side by side (GET /compare): per sequence what
the model predicted in A and in B, whether it became correct or wrong, where it last
flipped, and how far its final hidden state moved.

A comparison only means something over the same sequences, so `check_same_probe_set`
runs first and names the first thing that differs. Every figure is vectorised over
sequences; the per-checkpoint inputs (predictions, flips, unit means) are the cached
ones of `analysis/derived.py`.
"""

import dataclasses
from typing import Optional

import numpy as np
import threadpoolctl  # scikit-learn's dependency

from tb_rnn_hidden.analysis import derived

_NEEDS = "compare needs the same sequences (lengths, tokens, labels)"
# change[i] by 2 * correct in A + correct in B.
_KINDS_WITH_LABELS = np.array(["still_wrong", "became_correct", "became_wrong", "still_correct"])
_KINDS_WITHOUT_LABELS = np.array(["prediction_kept", "prediction_changed"])


class ProbeSetMismatch(ValueError):
    """A and B were not logged on the same sequences (or classes): nothing to compare."""


@dataclasses.dataclass(frozen=True)
class ProbeSet:
    """What identifies one checkpoint's probe set."""

    description: str  # e.g. "A (run 'x', tag 'lstm', step 3)", for messages
    lengths: np.ndarray  # [N]
    labels: Optional[np.ndarray]  # [N], or None when logged without
    token_ids: Optional[np.ndarray]  # [P] indices into `vocabulary`, or None
    vocabulary: Optional[list]
    num_classes: int  # C of the probabilities, 0 without them
    class_names: Optional[list]


def describe(side, run, tag, step):
    """How a message names one side: "A (run 'x', tag 'lstm', step 3)"."""
    return "%s (run %r, tag %r, step %d)" % (side, run, tag, step)


def check_same_probe_set(a, b):
    """ProbeSetMismatch naming the first difference between the `ProbeSet`s a and b:
    the number of sequences, a sequence's length, its tokens (when both logged tokens),
    its label (when both logged labels), or the classes of the probabilities."""
    if len(a.lengths) != len(b.lengths):
        _differ("%s has %d sequences, %s has %d" % (
            a.description, len(a.lengths), b.description, len(b.lengths)))
    first = _first(a.lengths != b.lengths)
    if first is not None:
        _differ("sequence %d has %d steps in %s, %d in %s" % (
            first, a.lengths[first], a.description, b.lengths[first], b.description))
    if a.token_ids is not None and b.token_ids is not None:
        _check_tokens(a, b)
    if a.labels is not None and b.labels is not None:
        first = _first(a.labels != b.labels)
        if first is not None:
            _differ("sequence %d's label is %d in %s, %d in %s" % (
                first, a.labels[first], a.description, b.labels[first], b.description))
    _check_classes(a, b)


def _check_tokens(a, b):
    """The same token strings at every step (the vocabularies' orders may differ)."""
    index_in_a = {token: i for i, token in enumerate(a.vocabulary)}
    b_in_a = np.array([index_in_a.get(token, -1) for token in b.vocabulary] or [-1],
                      dtype=np.int64)
    point = _first(a.token_ids != b_in_a[b.token_ids])
    if point is not None:
        offsets = derived.offsets(a.lengths)
        sequence, step = (int(v[0]) for v in derived.sequence_steps(offsets, np.array([point])))
        _differ("sequence %d's tokens differ at step %d: %r in %s, %r in %s" % (
            sequence, step, a.vocabulary[a.token_ids[point]], a.description,
            b.vocabulary[b.token_ids[point]], b.description))


def _check_classes(a, b):
    """Predictions are compared class for class: the same classes where both have them."""
    if not (a.num_classes and b.num_classes):
        return
    if a.num_classes != b.num_classes:
        raise ProbeSetMismatch(
            "the classes differ: %s predicts %d classes, %s %d; compare needs the same "
            "classes" % (a.description, a.num_classes, b.description, b.num_classes))
    if a.class_names is not None and b.class_names is not None:
        for k, (name_a, name_b) in enumerate(zip(a.class_names, b.class_names)):
            if name_a != name_b:
                raise ProbeSetMismatch(
                    "the classes differ: class %d is %r in %s, %r in %s; compare needs the "
                    "same classes" % (k, name_a, a.description, name_b, b.description))


def _first(mismatch):
    """The first index where `mismatch` is true, or None."""
    where = np.flatnonzero(mismatch)
    return int(where[0]) if where.size else None


def _differ(what):
    raise ProbeSetMismatch("the probe sets differ: %s; %s" % (what, _NEEDS))


@dataclasses.dataclass(frozen=True)
class Side:
    """One checkpoint's figures a comparison reads (all per sequence but `unit_means`)."""

    address: dict  # {"run", "tag", "step"}
    probe: ProbeSet
    predictions: derived.Predictions
    last_flips: Optional[np.ndarray]  # [N] at the threshold; None without probabilities
    final_states: np.ndarray  # [N, H]
    unit_means: Optional[np.ndarray]  # [H], needed only when the units correspond


def compare_json(a, b, same_units, flip_threshold):
    """The answer of GET /compare for the `Side`s a and b (of one probe set: checked)."""
    labels = a.probe.labels if a.probe.labels is not None and b.probe.labels is not None else None
    classes_a, classes_b = a.predictions.classes, b.predictions.classes
    moved = final_state_moves(a.final_states, b.final_states, same_units)
    largest = float(moved.max()) if moved.size else 0.0
    source = a.probe if a.probe.num_classes else b.probe
    return dict(
        a=a.address, b=b.address,
        num_sequences=len(a.probe.lengths),
        num_classes=source.num_classes,
        class_names=class_names(source.num_classes, source.class_names),
        labels=_list(labels),
        prediction_a=_list(classes_a), prediction_b=_list(classes_b),
        confidence_a=_list(a.predictions.confidences),
        confidence_b=_list(b.predictions.confidences),
        change=_list(change_kinds(classes_a, classes_b, labels)),
        last_flip_a=_list(a.last_flips), last_flip_b=_list(b.last_flips),
        moved=(moved / largest if largest > 0 else np.zeros_like(moved)).tolist(),
        moved_max=largest,
        units="same" if same_units else "procrustes",
        transitions=transition_matrix(classes_a, classes_b, labels),
        unit_drift=unit_drift(a.unit_means, b.unit_means) if same_units else None,
        flip_threshold=flip_threshold,
    )


def class_names(num_classes, names):
    """The logged class names, or "class k" as the tab names classes logged without."""
    return [names[k] if names and k < len(names) else "class %d" % k for k in range(num_classes)]


def change_kinds(classes_a, classes_b, labels):
    """[N] `ChangeKind` strings; None when either side has no predictions."""
    if classes_a is None or classes_b is None:
        return None
    if labels is None:
        return _KINDS_WITHOUT_LABELS[(classes_a != classes_b).astype(np.int64)]
    return _KINDS_WITH_LABELS[_transition_index(classes_a, classes_b, labels)]


def transition_matrix(classes_a, classes_b, labels):
    """[[wrong->wrong, wrong->correct], [correct->wrong, correct->correct]] sequence counts
    (`transitions[a][b]`, 0 wrong, 1 correct); None without labels or predictions."""
    if classes_a is None or classes_b is None or labels is None:
        return None
    counts = np.bincount(_transition_index(classes_a, classes_b, labels), minlength=4)
    return counts.reshape(2, 2).tolist()


def _transition_index(classes_a, classes_b, labels):
    return 2 * (classes_a == labels).astype(np.int64) + (classes_b == labels)


def final_state_moves(final_a, final_b, same_units):
    """[N] float64 distance each sequence's final hidden state moved from A to B.

    Same units: the raw states. Otherwise each side is centred and scaled to unit RMS
    norm, the narrower zero-padded, and B rotated onto A (orthogonal Procrustes): the
    distance left is how differently the two spaces place that sequence.
    """
    if same_units:
        return np.linalg.norm(
            final_a.astype(np.float64) - final_b.astype(np.float64), axis=1)
    width = max(final_a.shape[1], final_b.shape[1])
    a, b = _standardised(final_a, width), _standardised(final_b, width)
    return np.linalg.norm(a - b @ procrustes_rotation(b, a), axis=1)


def procrustes_rotation(b, a):
    """The orthogonal R minimising ||b R - a|| (Frobenius): U V^T of the SVD of b^T a, as
    `scipy.linalg.orthogonal_procrustes` (numpy's SVD: faster here than scipy's gesdd).

    On one BLAS thread: an H x H SVD (256 units) takes ~30 ms so, while OpenBLAS' thread
    pool on a busy 2-core server took 0.1-1.3 s (bench/RESULTS.md, "Compare mode"). The
    limit is the process's for those milliseconds; layouts run in child processes.
    """
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        u, _, vt = np.linalg.svd(b.T @ a)
        return u @ vt


def _standardised(states, width):
    """Centred, unit RMS norm (unless all equal), zero-padded to `width` columns."""
    centred = states.astype(np.float64) - states.mean(axis=0, dtype=np.float64)
    rms = np.sqrt(np.mean(np.sum(centred**2, axis=1))) if len(centred) else 0.0
    if rms > 0:
        centred /= rms
    return np.pad(centred, [(0, 0), (0, width - states.shape[1])])


def unit_drift(means_a, means_b):
    """Every unit, by |mean_B - mean_A| descending (ties by unit index): `UnitDrift`."""
    drift = np.abs(means_b - means_a)
    order = np.argsort(-drift, kind="stable")
    return dict(units=order.tolist(), drift=drift[order].tolist(),
                mean_a=means_a[order].tolist(), mean_b=means_b[order].tolist())


def _list(array):
    return None if array is None else array.tolist()
