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
    """GET /training: the figures of every checkpoint of (run, tag) listed now, ascending."""
    series = reader.series(ctx, experiment, run, tag)
    if series is None:
        raise errors.NotFoundError("no hidden states for run %r, tag %r" % (run, tag))
    steps = sorted({datum.step for datum in series})
    checkpoints = [reader.checkpoint(ctx, experiment, run, tag, step) for step in steps]
    changes = [
        reader.pair_part(previous, current, "training_change",
                         lambda p=previous, c=current: checkpoint_change(p, c))
        for previous, current in zip(checkpoints, checkpoints[1:])
    ]
    return training_curve.training_json(
        run, tag, steps,
        accuracies=[c.predictions.accuracy for c in checkpoints],
        flips=[training_curve.flip_count(c.last_flips(flip_threshold)) for c in checkpoints],
        changes=changes, flip_threshold=flip_threshold,
        separations=[c.class_separation for c in checkpoints],
    )


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
