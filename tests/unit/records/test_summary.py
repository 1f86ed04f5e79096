"""The logging API: both write paths give the same record, and every bad input is named."""

import glob

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_file_loader

from tb_rnn_hidden.records import codec as checkpoint_codec
from tb_rnn_hidden.records import metadata
from tb_rnn_hidden import summary
from tb_rnn_hidden import writer
from tests.support.checkpoints import make_checkpoint


def read_records(logdir):
    """(tag, step, summary value) of every hidden-state value in the event files under logdir."""
    records = []
    for path in sorted(glob.glob(logdir + "/**/events.out.tfevents.*", recursive=True)):
        for event in event_file_loader.EventFileLoader(path).Load():
            for value in event.summary.value:
                records.append((value.tag, event.step, value))
    return records


def test_tf_op_and_protobuf_path_write_the_same_record(tmp_path):
    data = make_checkpoint()
    file_writer = tf.summary.create_file_writer(str(tmp_path / "tf"))
    with file_writer.as_default():
        assert summary.hidden_states("layer", step=4, description="d", **data)
    file_writer.close()
    with writer.HiddenStateWriter(str(tmp_path / "pb")) as w:
        w.add("layer", step=4, description="d", **data)
    (tf_tag, tf_step, tf_value), = read_records(str(tmp_path / "tf"))
    (pb_tag, pb_step, pb_value), = read_records(str(tmp_path / "pb"))
    assert (tf_tag, tf_step) == (pb_tag, pb_step) == ("layer", 4)
    assert tf_value.tensor.string_val == pb_value.tensor.string_val
    assert tf_value.metadata.plugin_data.plugin_name == metadata.PLUGIN_NAME
    assert tf_value.metadata.data_class == pb_value.metadata.data_class == 3  # BLOB_SEQUENCE
    assert tf_value.metadata.summary_description == "d"


def test_tf_op_inside_tf_function_and_name_scopes(tmp_path):
    data = make_checkpoint(tokens=False)
    file_writer = tf.summary.create_file_writer(str(tmp_path))

    @tf.function
    def log(states, probabilities, lengths, step):
        with tf.name_scope("encoder"):
            return summary.hidden_states(
                "lstm", states, probabilities, lengths=lengths, step=step
            )

    with file_writer.as_default():
        assert bool(log(data["states"], data["probabilities"], data["lengths"], tf.constant(2, tf.int64)))
    file_writer.close()
    (tag, step, value), = read_records(str(tmp_path))
    assert (tag, step) == ("encoder/lstm", 2)
    blobs = list(value.tensor.string_val)
    header = checkpoint_codec.decode_header(blobs[metadata.BLOB_HEADER])
    states = checkpoint_codec.decode_states(blobs[metadata.BLOB_STATES], header)
    expected = np.concatenate([s[:k] for s, k in zip(data["states"], data["lengths"])])
    np.testing.assert_array_equal(states, expected.astype(np.float16))


def test_tf_op_without_writer_returns_false_and_without_step_raises(tmp_path):
    assert not bool(summary.hidden_states("x", make_checkpoint()["states"], step=0))
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        with pytest.raises(ValueError, match="step"):
            summary.hidden_states("x", make_checkpoint()["states"])


def test_binary_sigmoid_output_becomes_two_classes():
    data = make_checkpoint(c=1)
    p1 = 1 / (1 + np.exp(-data["states"][:, :, :1]))
    blobs = checkpoint_codec.encode_checkpoint(
        data["states"], p1, lengths=data["lengths"], labels=[0, 1, 1, 0, 1, 0]
    )
    header = checkpoint_codec.decode_header(blobs[metadata.BLOB_HEADER])
    assert header["num_classes"] == 2
    probabilities = checkpoint_codec.decode_probabilities(blobs[metadata.BLOB_PROBABILITIES], header)
    expected = np.concatenate([p[:k] for p, k in zip(p1, data["lengths"])])[:, 0]
    np.testing.assert_allclose(probabilities[:, 1], expected, rtol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


def test_torch_and_tf_tensors_are_accepted():
    data = make_checkpoint(tokens=False)
    from_tf = checkpoint_codec.encode_checkpoint(
        tf.constant(data["states"]), tf.constant(data["probabilities"]),
        lengths=tf.constant(data["lengths"]), labels=tf.constant(data["labels"]),
    )
    from_numpy = checkpoint_codec.encode_checkpoint(
        data["states"], data["probabilities"], lengths=data["lengths"], labels=data["labels"]
    )
    assert from_tf == from_numpy


def test_writer_refuses_non_increasing_steps(tmp_path):
    data = make_checkpoint()
    with writer.HiddenStateWriter(str(tmp_path)) as w:
        w.add("a", step=3, **data)
        w.add("b", step=1, **data)  # other tag: its own series
        with pytest.raises(ValueError, match="`step` is 3 for tag 'a'.*increase"):
            w.add("a", step=3, **data)
    assert [(t, s) for t, s, _ in read_records(str(tmp_path))] == [("a", 3), ("b", 1)]


def _with(**changes):
    data = make_checkpoint()
    data.update(changes)
    return data


_GOOD = make_checkpoint()
_NAN_STATES = _GOOD["states"].copy()
_NAN_STATES[2, 0, 1] = np.nan
_INF_PROBABILITIES = _GOOD["probabilities"].copy()
_INF_PROBABILITIES[0, 3, 0] = np.inf
_PADDING_NAN = _GOOD["states"].copy()
_PADDING_NAN[1, _GOOD["lengths"][1]:] = np.nan  # padding is never read, so NaN there is fine


@pytest.mark.parametrize(
    "changes, pattern",
    [
        # shapes and shape mismatches between the arrays
        (dict(states=_GOOD["states"][0]), r"`states` has shape \(9, 5\); expected \(\?, \?, \?\)"),
        (dict(states=np.zeros((0, 9, 5))), r"`states` has shape \(0, 9, 5\).*every dimension > 0"),
        (dict(states=np.zeros((6, 9, 0))), r"`states` has shape \(6, 9, 0\)"),
        (dict(probabilities=_GOOD["probabilities"][:, :8]), r"`probabilities` has shape \(6, 8, 3\); expected \(6, 9, \?\)"),
        (dict(probabilities=_GOOD["probabilities"][:5]), r"`probabilities` has shape \(5, 9, 3\)"),
        (dict(tokens=_GOOD["tokens"][:, :4]), r"`tokens` has shape \(6, 4\); expected \(6, 9\)"),
        (dict(labels=_GOOD["labels"][:4]), r"`labels` has shape \(4,\); expected \(6\)"),
        (dict(class_names=["a", "b"]), r"`class_names` has 2 entries; expected 3"),
        (dict(class_names=[]), r"`class_names` has 0 entries; expected 3"),
        # ragged inputs
        (dict(states=[[[0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]]), r"`states` is ragged"),
        (dict(tokens=[["a"] * 9] * 5 + [["a"] * 3]), r"`tokens` (is ragged|has shape)"),
        (dict(lengths=[[1, 2], [3]]), r"`lengths` is ragged"),
        # lengths out of range
        (dict(lengths=[9, 0, 3, 3, 3, 3]), r"`lengths\[1\]` is 0; expected 1 <= length <= T=9"),
        (dict(lengths=[9, 10, 3, 3, 3, 3]), r"`lengths\[1\]` is 10; expected 1 <= length <= T=9"),
        (dict(lengths=[9, -2, 3, 3, 3, 3]), r"`lengths\[1\]` is -2"),
        (dict(lengths=np.array([9, 3, 3, 3, 3, 3, 3])), r"`lengths` has shape \(7,\); expected \(6\)"),
        # labels outside [0, C)
        (dict(labels=[0, 1, 3, 0, 0, 0]), r"`labels\[2\]` is 3; expected a class index in \[0, 3\)"),
        (dict(labels=[0, -1, 1, 0, 0, 0]), r"`labels\[1\]` is -1"),
        # probabilities that are not distributions
        (dict(probabilities=_GOOD["probabilities"] * 2), r"`probabilities` (has values in|at valid step)"),
        (dict(probabilities=np.full((6, 9, 3), 0.2)), r"`probabilities` at valid step 0 sums to 0.6.*sum to 1"),
        (dict(probabilities=_GOOD["probabilities"] - 0.5), r"`probabilities` has values in \[-0.*expected probabilities in \[0, 1\]"),
        # NaN / Inf
        (dict(states=_NAN_STATES), r"`states` has 1 NaN or Inf"),
        (dict(probabilities=_INF_PROBABILITIES), r"`probabilities` has 1 NaN or Inf"),
        (dict(states=_GOOD["states"] * 1e6), r"beyond float16's range; pass precision='float32'"),
        # wrong dtypes
        (dict(states=_GOOD["states"].astype(str)), r"`states` has dtype <U.*expected real"),
        (dict(states=_GOOD["states"] > 0), r"`states` has dtype bool"),
        (dict(states=_GOOD["states"].astype(complex)), r"`states` has dtype complex128"),
        (dict(lengths=np.array([9.0, 3, 3, 3, 3, 3])), r"`lengths` has dtype float64; expected integer"),
        (dict(labels=["a", "b", "c", "a", "b", "c"]), r"`labels` has dtype <U1; expected integer"),
        (dict(tokens=np.arange(54).reshape(6, 9)), r"`tokens\[0\]\[0\]` is 0 of type int; expected a string"),
        (dict(class_names=["a", 2, "c"]), r"`class_names\[1\]` is 2 of type int; expected a string"),
        (dict(class_names="abc"), r"`class_names` is 'abc'; expected a list of strings"),
        (dict(precision="float64"), r"`precision` is 'float64'; expected one of"),
    ],
)
def test_invalid_input_raises_a_value_error_naming_it(changes, pattern):
    data = _with(**changes)
    precision = data.pop("precision", "float16")
    with pytest.raises(ValueError, match=pattern):
        summary.hidden_states_pb("t", precision=precision, **data)


def test_padding_content_is_ignored():
    """Padding steps may hold anything (Keras repeats the last state, torch zeros, NaN)."""
    data = _with(states=_PADDING_NAN)
    summary.hidden_states_pb("t", **data)


def test_invalid_input_raises_from_the_tf_op_too(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        with pytest.raises(ValueError, match=r"`lengths\[1\]` is 0"):
            summary.hidden_states("t", step=0, **_with(lengths=[9, 0, 3, 3, 3, 3]))


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
