"""Every bad logging call of issue 12 (F7, F8) is a ValueError naming the argument, everywhere.

One table of cases, run through the TensorFlow-free protobuf, the writer, the
TF op (eager) and the TF op inside `tf.function`; then the arguments the
Keras callback and the PyTorch helper take, and the conversions that must
work (torch bfloat16, float16, float64, integer labels, requires_grad).
"""

import re

import numpy as np
import pytest
import tensorflow as tf
import torch

from tb_rnn_hidden import summary
from tb_rnn_hidden import writer
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import fields
from tb_rnn_hidden.records import metadata
from tests.support.checkpoints import make_checkpoint, valid_steps

_GOOD = make_checkpoint()
_N, _T, _H = _GOOD["states"].shape


def _set(array, index, value, dtype=None):
    array = np.array(array, dtype=dtype if dtype is not None else np.asarray(array).dtype)
    array[index] = value
    return array


def _tokens_with(value):
    tokens = _GOOD["tokens"].copy()
    tokens[1, 0] = value
    return tokens


# A broadcast view: a record of 2 GiB of float16 states without allocating them.
_TOO_LARGE = np.broadcast_to(np.float32(0.5), (1024, 1024, 1025))
_UNLABELLED = dict(probabilities=None, class_names=None)

# (id, changes to the call, the message expected, where tf.function reports it:
#  "trace" = a ValueError when the function is traced, "run" = TensorFlow's
#  InvalidArgumentError holding our message when the graph runs).
CASES = [
    # F7: accepted silently before
    ("labels_2**32+1_wrapped_to_1", dict(labels=[2**32 + 1, 0, 0, 0, 0, 0], **_UNLABELLED),
     r"`labels\[0\]` is 4294967297; expected a class index in \[0, 2\*\*31\)", "run"),
    ("labels_2**31", dict(labels=[0, 2**31, 0, 0, 0, 0], **_UNLABELLED),
     r"`labels\[1\]` is 2147483648; expected a class index in \[0, 2\*\*31\)", "run"),
    ("states_beyond_float32", dict(states=_set(_GOOD["states"], (2, 0, 1), 1e39, np.float64),
                                   precision="float32"),
     r"`states\[2\]\[0\]\[1\]` is 1e\+39, beyond float32's range", "run"),
    ("probabilities_beyond_float32",
     dict(probabilities=_set(_GOOD["probabilities"], (0, 3, 0), -1e39, np.float64)),
     r"`probabilities` has values in \[-1e\+39", "run"),
    ("states_beyond_float16_names_the_first",
     dict(states=_set(_GOOD["states"], (3, 1, 4), 7e4)),
     r"`states\[3\]\[1\]\[4\]` is 70000\.0, beyond float16's range; pass precision='float32'",
     "run"),
    ("states_nan_names_the_first", dict(states=_set(_GOOD["states"], (2, 0, 1), np.nan)),
     r"`states` has 1 NaN or Inf values .* the first `states\[2\]\[0\]\[1\]` = nan", "run"),
    ("class_names_dict", dict(class_names={"a": 0, "b": 1, "c": 2}),
     r"`class_names` is a dict .*expected a list of strings", "trace"),
    ("class_names_set", dict(class_names={"a", "b", "c"}),
     r"`class_names` is a set .*expected a list of strings", "trace"),
    ("class_names_duplicates", dict(class_names=["a", "b", "a"]),
     r"`class_names\[2\]` is 'a', the same as `class_names\[0\]`; expected distinct", "trace"),
    ("class_names_empty_name", dict(class_names=["a", "", "c"]),
     r"`class_names\[1\]` is empty; expected a non-empty name", "trace"),
    ("class_names_invalid_utf8", dict(class_names=[b"a", b"\xff\xfe", b"c"]),
     r"`class_names\[1\]` is b'\\xff\\xfe', which is not valid UTF-8", "trace"),
    ("class_names_lone_surrogate", dict(class_names=["a", "b\udc80", "c"]),
     r"`class_names\[1\]` has the lone surrogate '\\udc80' at character 1", "trace"),
    ("tokens_invalid_utf8", dict(tokens=_tokens_with(b"caf\xc3")),
     r"`tokens\[1\]\[0\]` is b'caf\\xc3', which is not valid UTF-8", "run"),
    ("tokens_lone_surrogate", dict(tokens=_tokens_with("\ud83d")),
     r"`tokens\[1\]\[0\]` has the lone surrogate '\\ud83d'", "trace"),
    ("tag_None", dict(tag=None), r"`(tag|name)` is None; expected a non-empty string", "trace"),
    ("tag_empty", dict(tag=""), r"`(tag|name)` is empty; expected a non-empty string", "trace"),
    ("tag_100000_characters", dict(tag="x" * 100000),
     r"`(tag|name)` has 100000 characters; expected at most 1024", "trace"),
    ("tag_invalid_utf8", dict(tag=b"\xfflayer"),
     r"`(tag|name)` is b'\\xfflayer', which is not valid UTF-8", "trace"),
    ("tag_lone_surrogate", dict(tag="layer\udfff"),
     r"`(tag|name)` has the lone surrogate '\\udfff' at character 5", "trace"),
    ("description_lone_surrogate", dict(description="about \ud800"),
     r"`description` has the lone surrogate", "trace"),
    ("step_1.7", dict(step=1.7), r"`step` is 1\.7 of type float; expected an integer", "trace"),
    ("step_-1", dict(step=-1), r"`step` is -1; expected an integer 0 <= step < 2\*\*63", "trace"),
    # F8: not a ValueError before
    ("step_abc", dict(step="abc"), r"`step` is 'abc' of type str; expected an integer", "trace"),
    ("step_2**63", dict(step=2**63), r"`step` is 9223372036854775808; expected an integer", "trace"),
    ("tag_123", dict(tag=123), r"`(tag|name)` is 123 of type int; expected a string", "trace"),
    ("torch_meta_states", dict(states=torch.empty(_N, _T, _H, device="meta")),
     r"`states` is a tensor on the meta device, which has no data", None),
    ("record_over_2_GiB",
     dict(states=_TOO_LARGE, **_UNLABELLED, tokens=None, labels=None, lengths=None),
     r"`states` of shape \(N=1024, T=1024, H=1025\) .* over the 2146435071 bytes that fit in "
     r"one event \(protobuf's 2 GiB limit\); log fewer probe sequences", "trace"),
    # inside tf.function: what the trace knows was an InvalidArgumentError at run time
    ("tf_function_states_rank_2", dict(states=_GOOD["states"][0]),
     r"`states` has shape \(9, 5\); expected \(\?, \?, \?\)", "trace"),
    ("tf_function_lengths_float", dict(lengths=_GOOD["lengths"].astype(np.float32)),
     r"`lengths` has dtype float32; expected integer numbers", "trace"),
]


def _depth(dtype=np.int64):
    """A numeric track: [N, T] nesting depths."""
    return (np.arange(_N * _T).reshape(_N, _T) % 4).astype(dtype)


def _depth_with(index, value, dtype=np.float64):
    return _set(_depth(dtype), index, value)


def _pos_with(index, value):
    pos = np.array([["NN", "VB", "DT"][(i + j) % 3] for i in range(_N) for j in range(_T)],
                   dtype=object).reshape(_N, _T)
    pos[index] = value
    return pos


def _as_list_with(index, value):
    rows = _depth().tolist()
    rows[index[0]][index[1]] = value
    return rows


_LAST_VALID = (1, int(_GOOD["lengths"][1]) - 1)
# 2**24 steps of 1 unit, 32 float32 tracks: 2 GiB of annotations (broadcast views).
_HUGE_STEPS = np.broadcast_to(np.float32(0.5), (4096, 4096, 1))
_HUGE_TRACKS = {"t%d" % k: np.broadcast_to(np.float32(k), (4096, 4096)) for k in range(32)}

# Annotations (issue 13): every bad track names `annotations[<name>]`.
ANNOTATION_CASES = [
    ("annotations_list", dict(annotations=[_depth()]),
     r"`annotations` is a list of 1 items; expected a mapping \{name: \[N, T\] array\}",
     "trace"),
    ("annotations_name_int", dict(annotations={3: _depth()}),
     r"`annotations` has the name 3 of type int; expected track names", "trace"),
    ("annotations_name_empty", dict(annotations={"": _depth()}),
     r"`annotations` has the name ''; expected a non-empty name", "trace"),
    ("annotations_name_300_characters", dict(annotations={"x" * 300: _depth()}),
     r"`annotations\['xxx.*` has a name of 300 characters; expected at most 256", "trace"),
    ("annotations_name_invalid_utf8", dict(annotations={b"d\xffepth": _depth()}),
     r"`annotations\[b'd\\xffepth'\]` is b'd\\xffepth', which is not valid UTF-8", "trace"),
    ("annotations_name_twice", dict(annotations={"depth": _depth(), b"depth": _depth()}),
     r"`annotations` names the track 'depth' twice \(once as b'depth'\); expected distinct",
     "trace"),
    ("annotations_65_tracks", dict(annotations={str(k): _depth() for k in range(65)}),
     r"`annotations` has 65 tracks; expected at most 64", "trace"),
    ("annotations_None_track", dict(annotations={"depth": None}),
     r"`annotations\['depth'\]` is None; expected an \[N, T\] array", "trace"),
    ("annotations_shape", dict(annotations={"depth": _depth()[:, :5]}),
     r"`annotations\['depth'\]` has shape \(6, 5\); expected \(6, 9\) = \[N, T\] like "
     r"`states`", "trace"),
    ("annotations_rank_3", dict(annotations={"depth": _depth()[..., None]}),
     r"`annotations\['depth'\]` has shape \(6, 9, 1\); expected \(6, 9\)", "trace"),
    ("annotations_complex", dict(annotations={"z": _depth(np.complex64)}),
     r"`annotations\['z'\]` has dtype complex64; expected strings \(a categorical track\) or "
     r"real numbers or booleans", "trace"),
    ("annotations_ragged", dict(annotations={"depth": [[1, 2], [3]]}),
     r"`annotations\['depth'\]` is ragged .*expected a rectangular \[N, T\] array", "trace"),
    ("annotations_nan", dict(annotations={"depth": _depth_with(_LAST_VALID, np.nan)}),
     r"`annotations\['depth'\]` has 1 NaN or Inf values in valid \(non-padding\) steps, the "
     r"first `annotations\['depth'\]\[1\]\[%d\]` = nan; expected finite" % _LAST_VALID[1],
     "run"),
    ("annotations_inf", dict(annotations={"depth": _depth_with((0, 0), -np.inf, np.float16)}),
     r"`annotations\['depth'\]` has 1 NaN or Inf .* = -inf", "run"),
    ("annotations_beyond_float32", dict(annotations={"depth": _depth_with((2, 0), 1e39)}),
     r"`annotations\['depth'\]\[2\]\[0\]` is 1e\+39, beyond float32's range", "run"),
    ("annotations_invalid_utf8", dict(annotations={"pos": _pos_with((1, 0), b"caf\xc3")}),
     r"`annotations\['pos'\]\[1\]\[0\]` is b'caf\\xc3', which is not valid UTF-8", "run"),
    ("annotations_lone_surrogate", dict(annotations={"pos": _pos_with((0, 1), "x\udc80")}),
     r"`annotations\['pos'\]\[0\]\[1\]` has the lone surrogate '\\udc80'", "run"),
    ("annotations_strings_and_numbers", dict(annotations={"pos": _pos_with((0, 3), 7)}),
     r"`annotations\['pos'\]\[0\]\[3\]` is 7 of type int, but `annotations\['pos'\]\[0\]"
     r"\[0\]` is 'NN'; expected strings .*one kind per track", "run"),
    ("annotations_None_value", dict(annotations={"depth": _as_list_with((3, 0), None)}),
     r"`annotations\['depth'\]\[3\]\[0\]` is None of type NoneType, but `annotations"
     r"\['depth'\]\[0\]\[0\]` is 0", "run"),
    ("annotations_torch_meta",
     dict(annotations={"depth": torch.empty(_N, _T, device="meta")}),
     r"`annotations\['depth'\]` is a tensor on the meta device", None),
    ("record_over_2_GiB_with_annotations",
     dict(states=_HUGE_STEPS, **_UNLABELLED, tokens=None, labels=None, lengths=None,
          annotations=_HUGE_TRACKS),
     r"`states` of shape \(N=4096, T=4096, H=1\) .*annotations 2147483744, .*over the "
     r"2146435071 bytes that fit in one event", "trace"),
]
CASES += ANNOTATION_CASES
# Cases an entry point cannot take.
_SKIP = {
    ("protobuf", "step"): "hidden_states_pb takes no step",
    ("tf_function", None): "torch tensors do not go into tf.function",
}


def _call_arguments(changes):
    record = dict(_GOOD)
    record.update(changes)
    tag = record.pop("tag", "layer")
    step = record.pop("step", 3)
    description = record.pop("description", None)
    return tag, step, description, record


def _protobuf(tmp_path, tag, step, description, record):
    summary.hidden_states_pb(tag, description=description, **record)


def _writer(tmp_path, tag, step, description, record):
    with writer.HiddenStateWriter(str(tmp_path)) as w:
        w.add(tag, step=step, description=description, **record)


def _tf_op(tmp_path, tag, step, description, record):
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        summary.hidden_states(tag, step=step, description=description, **record)


def _as_tensor(value):
    """A tensor argument of the tf.function where TensorFlow can hold the value; else as is."""
    if value is None or isinstance(value, np.ndarray) and not value.flags.owndata:
        return None
    try:
        return tf.constant(value)
    except (TypeError, ValueError):
        return None


def _tf_function(tmp_path, tag, step, description, record):
    names = [k for k in ("states", "probabilities", "tokens", "lengths", "labels")
             if _as_tensor(record[k]) is not None]
    constants = {k: v for k, v in record.items() if k not in names}
    annotations = constants.pop("annotations", None)
    # Tracks TensorFlow can hold go in as tensors; the others (and a non-mapping) as given.
    tracks = list(annotations.items()) if isinstance(annotations, dict) else []
    tensor_tracks = [k for k, v in tracks if _as_tensor(v) is not None]
    given = {k: v for k, v in tracks if k not in tensor_tracks}

    @tf.function
    def log(*tensors):
        in_tracks = dict(given)
        in_tracks.update(zip(tensor_tracks, tensors[len(names):]))
        return summary.hidden_states(
            tag, step=step, description=description, **dict(zip(names, tensors)), **constants,
            annotations=in_tracks if isinstance(annotations, dict) else annotations,
        )

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        log(*[_as_tensor(record[k]) for k in names],
            *[_as_tensor(annotations[k]) for k in tensor_tracks])


ENTRY_POINTS = {"protobuf": _protobuf, "writer": _writer, "tf_op": _tf_op,
                "tf_function": _tf_function}


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("case, changes, pattern, when", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_value_error_naming_it(tmp_path, entry, case, changes, pattern, when):
    if entry == "protobuf" and "step" in changes:
        pytest.skip(_SKIP[("protobuf", "step")])
    if entry == "tf_function" and when is None:
        pytest.skip(_SKIP[("tf_function", None)])
    if case.startswith("tf_function_") and entry != "tf_function":
        pytest.skip("a ValueError before too: the case is about tf.function")
    tag, step, description, record = _call_arguments(changes)
    if entry == "tf_function" and when == "run":
        with pytest.raises(tf.errors.InvalidArgumentError) as raised:
            ENTRY_POINTS[entry](tmp_path, tag, step, description, record)
        assert re.search("ValueError: " + pattern, str(raised.value)), str(raised.value)[:2000]
    else:
        with pytest.raises(ValueError, match=pattern):
            ENTRY_POINTS[entry](tmp_path, tag, step, description, record)


def test_tf_function_step_tensor(tmp_path):
    """A step tensor's dtype is checked when traced, its value when the graph runs."""
    states = tf.constant(_GOOD["states"])

    @tf.function
    def log(step):
        return summary.hidden_states("layer", states, step=step)

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        with pytest.raises(ValueError, match=r"`step` is a tensor of dtype float32; expected an "):
            log(tf.constant(1.5))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"`step` is negative"):
            log(tf.constant(-1, tf.int64))
        assert bool(log(tf.constant(4, tf.int64)))


def test_writer_step_given_positionally_is_named(tmp_path):
    with writer.HiddenStateWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match=r"`step` is missing and `probabilities` is 3"):
            w.add("layer", _GOOD["states"], 3)
        with pytest.raises(ValueError, match=r"`step` is None of type NoneType"):
            w.add("layer", _GOOD["states"])
        with pytest.raises(ValueError, match=r"`step` is 'abc'"):
            w.add_summary(summary.hidden_states_pb("layer", _GOOD["states"]), "abc")


def test_record_size_is_checked_before_any_copy():
    """The size check needs the shapes only: a 4 GiB float32 view fails at once, with a way out."""
    states = np.broadcast_to(np.float32(0.5), (1024, 1024, 1024))
    with pytest.raises(ValueError, match=r"precision='float16'"):
        summary.hidden_states_pb("layer", states, precision="float32")
    # Padding is not stored: the same view with short sequences fits in the limit's terms.
    lengths = np.full(1024, 1)
    lengths[0] = 1024
    record = fields.RecordFields(states[:, :, :8], lengths=lengths).validated()
    assert record.states.shape == (2047, 8)


def _decoded(blobs):
    header = codec.decode_header(blobs[metadata.BLOB_HEADER])
    return header, codec.decode_states(blobs[metadata.BLOB_STATES], header)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float64, torch.float32])
def test_torch_tensors_of_any_float_dtype_are_converted(dtype):
    states = torch.tensor(_GOOD["states"], dtype=dtype, requires_grad=True)
    labels = torch.tensor(_GOOD["labels"], dtype=torch.int16)
    blobs = codec.encode_checkpoint(
        states, torch.tensor(_GOOD["probabilities"], dtype=torch.float64),
        lengths=torch.tensor(_GOOD["lengths"]), labels=labels, precision="float32",
    )
    header, stored = _decoded(blobs)
    expected = states.detach().float().numpy()  # bfloat16 and float16 are exact in float32
    np.testing.assert_array_equal(stored, valid_steps(expected, _GOOD["lengths"]))
    np.testing.assert_array_equal(
        codec.decode_labels(blobs[metadata.BLOB_LABELS], header), _GOOD["labels"]
    )


def test_tensorflow_bfloat16_is_converted():
    states = tf.constant(_GOOD["states"], dtype=tf.bfloat16)
    _, stored = _decoded(codec.encode_checkpoint(states, precision="float32"))
    expected = tf.cast(states, tf.float32).numpy().reshape(-1, _H)
    np.testing.assert_array_equal(stored, expected)


# The Keras callback's and the PyTorch helper's arguments ----------------------


@pytest.mark.parametrize(
    "changes, pattern",
    [
        (dict(class_names={"neg": 0, "pos": 1}), r"`class_names` is a dict"),
        (dict(class_names={"neg", "pos"}), r"`class_names` is a set"),
        (dict(class_names=["pos", "pos"]), r"`class_names\[1\]` is 'pos', the same as"),
        (dict(class_names=["neg", b"\xff"]), r"`class_names\[1\]` is b'\\xff', which is not valid"),
        (dict(probe_labels=np.array([2**32 + 1, 0, 1])),
         r"`probe_labels\[0\]` is 4294967297; expected a class index in \[0, 2\)"),
        (dict(probe_labels=np.array([2**31, 0, 1]), class_names=None),
         r"`probe_labels\[0\]` is 2147483648; expected a class index in \[0, 2\*\*31\)"),
        (dict(vocabulary=["a", b"\xc3"]), r"`vocabulary\[1\]` is b'\\xc3', which is not valid"),
        (dict(description="\udc00"), r"`description` has the lone surrogate"),
        (dict(annotations=np.zeros((3, 4))),
         r"`annotations` is a ndarray of shape \(3, 4\); expected a mapping"),
        (dict(annotations="depth"), r"`annotations` is 'depth' of type str; expected a mapping"),
        (dict(annotations={"depth": np.zeros((2, 4))}),
         r"`annotations\['depth'\]` has shape \(2, 4\); expected \(3, \?\)"),
        (dict(annotations={"": np.zeros((3, 4))}), r"`annotations` has the name ''"),
        (dict(annotations={"z": np.zeros((3, 4), np.complex128)}),
         r"`annotations\['z'\]` has dtype complex128; expected strings"),
        (dict(annotations={"d": [[1, 2, 3, 4], [1, 2], [1, 2, 3, 4]]}),
         r"`annotations\['d'\]` is ragged"),
    ],
)
def test_keras_callback_arguments(tmp_path, changes, pattern):
    from tb_rnn_hidden.keras import HiddenStateCallback

    arguments = dict(probe_labels=np.array([0, 1, 1]), class_names=["neg", "pos"])
    arguments.update(changes)
    with pytest.raises(ValueError, match=pattern):
        HiddenStateCallback(str(tmp_path), np.zeros((3, 4), np.int32), **arguments)


def _torch_call(tmp_path, **changes):
    from tb_rnn_hidden.torch import log_hidden_states

    torch.manual_seed(0)
    rnn = changes.pop("rnn", None) or torch.nn.LSTM(3, 4, num_layers=2, batch_first=True)
    arguments = dict(inputs=torch.randn(5, 6, 3), step=0, labels=[0, 1, 1, 0, 1],
                     class_names=["neg", "pos"], probabilities=torch.full((5, 6, 2), 0.5))
    arguments.update(changes)
    with writer.HiddenStateWriter(str(tmp_path)) as w:
        return log_hidden_states(w, rnn, **arguments)


@pytest.mark.parametrize(
    "changes, pattern",
    [
        (dict(step=1.7), r"`step` is 1\.7 of type float"),
        (dict(step=-1), r"`step` is -1; expected an integer 0 <= step < 2\*\*63"),
        (dict(step=None), r"`step` is None"),
        (dict(step="abc"), r"`step` is 'abc'"),
        (dict(tag=None), r"`tag` is None"),
        (dict(tag=123), r"`tag` is 123 of type int"),
        (dict(tag="x" * 1020), r"`tag` has 1027 characters; expected at most 1024"),
        (dict(labels=torch.tensor([2**32 + 1, 0, 0, 0, 0])),
         r"`labels\[0\]` is 4294967297; expected a class index in \[0, 2\)"),
        (dict(class_names=["neg", "neg"]), r"`class_names\[1\]` is 'neg', the same as"),
        (dict(inputs=torch.empty(5, 6, 3, device="meta")), r"`inputs` is on the meta device"),
        (dict(rnn=torch.nn.LSTM(3, 4, batch_first=True, device="meta")),
         r"`rnn` is on the meta device, which has no data; expected parameters"),
        (dict(lengths=torch.empty(5, dtype=torch.int64, device="meta")),
         r"`lengths` is a tensor on the meta device"),
        (dict(probabilities=torch.empty(5, 6, 2, device="meta")),
         r"`probabilities` is a tensor on the meta device"),
        (dict(annotations=[torch.zeros(5, 6)]), r"`annotations` is a list of 1 items; expected a"),
        (dict(annotations={"depth": torch.zeros(5, 4)}),
         r"`annotations\['depth'\]` has shape \(5, 4\); expected \(5, 6\)"),
        (dict(annotations={"depth": torch.tensor([[1.0] * 6] * 4 + [[float("nan")] + [1.0] * 5])}),
         r"`annotations\['depth'\]` has 1 NaN or Inf values .*`annotations\['depth'\]\[4\]\[0\]`"),
        (dict(annotations={"pos": [["a"] * 6] * 4 + [["a", b"\xff"] + ["a"] * 4]}),
         r"`annotations\['pos'\]\[4\]\[1\]` is b'\\xff', which is not valid UTF-8"),
        (dict(annotations={"x" * 257: torch.zeros(5, 6)}),
         r"has a name of 257 characters; expected at most 256"),
        (dict(annotations={"depth": torch.empty(5, 6, device="meta")}),
         r"`annotations\['depth'\]` is a tensor on the meta device"),
    ],
)
def test_pytorch_helper_arguments(tmp_path, changes, pattern):
    with pytest.raises(ValueError, match=pattern):
        _torch_call(tmp_path, **changes)


def test_pytorch_helper_logs_a_bfloat16_module(tmp_path):
    torch.manual_seed(0)
    rnn = torch.nn.GRU(3, 4, batch_first=True).to(torch.bfloat16)
    states = _torch_call(tmp_path, rnn=rnn, inputs=torch.randn(5, 6, 3, requires_grad=True))
    assert states.top.dtype == torch.bfloat16


# Annotations that must be accepted --------------------------------------------


def _decoded_tracks(blobs):
    header = codec.decode_header(blobs[metadata.BLOB_HEADER])
    return {t.name: t for t in codec.decode_annotations(blobs[metadata.BLOB_ANNOTATIONS], header)}


def test_annotation_values_at_padding_steps_are_ignored(tmp_path):
    lengths = _GOOD["lengths"]
    padding = (int(np.argmin(lengths)), int(lengths.min()))  # the first padding step of a row
    assert padding[1] < _T
    depth = _depth_with(padding, np.nan)
    words = _pos_with(padding, b"\xff\xfe")
    mixed = _as_list_with(padding, None)
    annotations = {"depth": depth, "pos": words, "mixed": mixed}
    for entry in ENTRY_POINTS.values():  # none of them raises
        tag, step, description, record = _call_arguments(dict(annotations=annotations))
        entry(tmp_path / entry.__name__, tag, step, description, record)
    tracks = _decoded_tracks(codec.encode_checkpoint(**dict(_GOOD, annotations=annotations)))
    np.testing.assert_array_equal(
        tracks["depth"].values, valid_steps(depth, lengths).astype(np.float32))
    np.testing.assert_array_equal(tracks["mixed"].values, tracks["depth"].values)
    assert tracks["pos"].categories == ["DT", "NN", "VB"]


def test_booleans_are_numeric_and_bytes_and_str_are_one_category():
    flag = _depth() % 2 == 0
    text = _pos_with((0, 0), b"NN")  # bytes, as TensorFlow's strings arrive, beside str
    tracks = _decoded_tracks(codec.encode_checkpoint(
        _GOOD["states"], lengths=_GOOD["lengths"],
        annotations={"flag": flag, "pos": text, "big": _depth(np.int64) * 2**40}))
    assert tracks["flag"].kind == "numeric"
    np.testing.assert_array_equal(tracks["flag"].values,
                                  valid_steps(flag, _GOOD["lengths"]).astype(np.float32))
    assert tracks["pos"].categories == ["DT", "NN", "VB"]
    assert tracks["big"].max == 3.0 * 2**40


def test_categorical_tracks_hold_at_most_65536_categories():
    states = np.zeros((1, 65537, 1), np.float32)
    words = np.array(["w%d" % k for k in range(65537)], dtype=object)[None]
    with pytest.raises(ValueError, match=r"`annotations\['word'\]` has 65537 distinct "
                                         r"strings in valid steps; expected at most 65536"):
        summary.hidden_states_pb("layer", states, annotations={"word": words})
    with pytest.raises(ValueError, match=r"`annotations\['word'\]` has 65537 distinct strings"):
        summary.hidden_states_pb("layer", states, annotations={"word": words.astype(str)})
    fits = codec.encode_checkpoint(states, lengths=[65536], annotations={"word": words})
    track = _decoded_tracks(fits)["word"]
    assert len(track.categories) == 65536 and track.codes.max() == 65535
    assert len(fits[metadata.BLOB_ANNOTATIONS]) == 2 * 65536  # uint16 codes


def test_string_tensors_inside_tf_function_are_categorical(tmp_path):
    pos = _pos_with((0, 0), "NN").astype(str)

    @tf.function
    def log(states, words):
        return summary.hidden_states("layer", states, lengths=_GOOD["lengths"], step=1,
                                     annotations={"pos": words, "depth": _depth()})

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        assert bool(log(tf.constant(_GOOD["states"]), tf.constant(pos)))
    from tests.support.plugin_client import PREFIX, make_client

    client = make_client(str(tmp_path))
    info = client.get(PREFIX + "/sequences?run=.&tag=layer&step=1").get_json()
    assert info["annotations"][0] == {"name": "pos", "kind": "categorical",
                                      "categories": ["DT", "NN", "VB"]}
    codes = np.frombuffer(
        client.get(PREFIX + "/annotations?run=.&tag=layer&step=1&name=pos").get_data(), "<i4")
    assert [info["annotations"][0]["categories"][c] for c in codes] == list(
        valid_steps(pos, _GOOD["lengths"]))


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
