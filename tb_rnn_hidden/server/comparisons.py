"""The answers of GET /compare and GET /training from the reader's checkpoints.

Each reads the checkpoints' cached derived data (`reader.Checkpoint`), hands it to
`analysis/compare.py` or `analysis/training_curve.py`, and caches what it derives
from two checkpoints together once per pair (`CheckpointReader.pair_part`), so a
comparison asked again, or a chart over training asked again after one more
checkpoint, reads only what is new.
"""

from tensorboard import errors

from tb_rnn_hidden.analysis import compare
from tb_rnn_hidden.analysis import training_curve
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.server import requests


def compare_impl(reader, address_a, address_b, flip_threshold):
    """GET /compare: `compare.compare_json` of the checkpoints at the two addresses
    (ctx, experiment, run, tag, step); Conflict (409) when their probe sets differ."""
    a, b = reader.checkpoint(*address_a), reader.checkpoint(*address_b)

    def compute():
        try:
            compare.check_same_probe_set(probe_set(a, "A", address_a),
                                         probe_set(b, "B", address_b))
        except compare.ProbeSetMismatch as e:
            raise requests.Conflict(str(e))
        same_units = (address_a[2:4] == address_b[2:4]
                      and a.header["state_size"] == b.header["state_size"])
        return compare.compare_json(_side(a, address_a, flip_threshold, same_units),
                                    _side(b, address_b, flip_threshold, same_units),
                                    same_units, flip_threshold)

    return reader.pair_part(a, b, ("compare", float(flip_threshold)), compute)


def probe_set(checkpoint, side, address):
    """The `compare.ProbeSet` of a checkpoint, named `side` ("A") in messages."""
    header = checkpoint.header
    return compare.ProbeSet(
        description=compare.describe(side, *address[2:5]),
        lengths=checkpoint.lengths, labels=checkpoint.labels,
        token_ids=checkpoint.token_ids, vocabulary=checkpoint.vocabulary,
        num_classes=header["num_classes"] if header["has_probabilities"] else 0,
        class_names=header["class_names"],
    )


def _side(checkpoint, address, flip_threshold, with_unit_means):
    run, tag, step = address[2:5]
    return compare.Side(
        address=dict(run=run, tag=tag, step=step),
        probe=probe_set(checkpoint, "", address),
        predictions=checkpoint.predictions,
        last_flips=checkpoint.last_flips(flip_threshold),
        final_states=checkpoint.final_states,
        unit_means=checkpoint.unit_means if with_unit_means else None,
    )


def training_impl(reader, ctx, experiment, run, tag, flip_threshold):
    """GET /training: the figures of every checkpoint of (run, tag) listed now, ascending.
    A checkpoint that cannot be read (a corrupt or newer record) gets no figures and is
    listed in `unreadable` with the reason; the others are charted as usual."""
    series = reader.series(ctx, experiment, run, tag)
    if series is None:
        raise errors.NotFoundError("no hidden states for run %r, tag %r" % (run, tag))
    steps = sorted({datum.step for datum in series})
    figures, unreadable = [], {}
    for step in steps:
        try:
            checkpoint = reader.checkpoint(ctx, experiment, run, tag, step)
            figures.append(_figures(checkpoint, flip_threshold))
        except codec.RecordError as e:  # NewerRecordError too
            figures.append(None)
            unreadable[step] = str(e)
    changes = [_change(reader, previous, current) for previous, current in zip(figures, figures[1:])]
    empty = (None, None, None, None)
    return training_curve.training_json(
        run, tag, steps,
        accuracies=[(f or empty)[1] for f in figures],
        flips=[(f or empty)[2] for f in figures],
        changes=changes, flip_threshold=flip_threshold,
        separations=[(f or empty)[3] for f in figures],
        unreadable=unreadable,
    )


def _change(reader, previous, current):
    """The change between two consecutive checkpoints' figures, once per pair; none where
    either cannot be read (its states too may be corrupt)."""
    if previous is None or current is None:
        return training_curve.NO_CHANGE
    try:
        return reader.pair_part(previous[0], current[0], "training_change",
                                lambda: checkpoint_change(previous[0], current[0]))
    except codec.RecordError:
        return training_curve.NO_CHANGE


def _figures(checkpoint, flip_threshold):
    """(checkpoint, accuracy, flips, separation): what the chart shows of one checkpoint,
    read here so that a corrupt record fails here, not in the answer."""
    return (checkpoint, checkpoint.predictions.accuracy,
            training_curve.flip_count(checkpoint.last_flips(flip_threshold)),
            checkpoint.class_separation)


def checkpoint_change(previous, current):
    """`training_curve.Change` from `previous` to `current`: NO_CHANGE where their probe
    sets or their numbers of units differ."""
    address = (None, None, "", "", 0)
    try:
        compare.check_same_probe_set(probe_set(previous, "previous", address),
                                     probe_set(current, "current", address))
    except compare.ProbeSetMismatch:
        return training_curve.NO_CHANGE
    if previous.header["state_size"] != current.header["state_size"]:
        return training_curve.NO_CHANGE
    units, moves = training_curve.top_unit_moves(previous.unit_means, current.unit_means)
    return training_curve.Change(
        training_curve.state_change(previous.states, current.states), units, moves)
