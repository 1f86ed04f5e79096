"""Logging API: the hidden states of one checkpoint as a TensorBoard summary.

`hidden_states` is a TF2 summary op used like `tf.summary.histogram`;
`hidden_states_pb` builds the same record as a `Summary` protobuf without
TensorFlow (for PyTorch, JAX or plain numpy scripts). TensorFlow is imported
only by `hidden_states`, so the protobuf path works where it is not installed.
"""

import dataclasses

from tensorboard.compat.proto import summary_pb2
from tensorboard.compat.proto import types_pb2

from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import fields as fields_lib
from tb_rnn_hidden.records import metadata
from tb_rnn_hidden.records.fields import RecordFields


def hidden_states(
    name,
    states,
    probabilities=None,
    *,
    tokens=None,
    lengths=None,
    labels=None,
    class_names=None,
    step=None,
    description=None,
    precision="float16",
    annotations=None,
):
    """Writes the hidden states of a probe set at one checkpoint.

    Args:
      name: Name of the summary; the tag is this name under the active name scopes,
        at most 1,024 characters (`fields.MAX_TAG_LENGTH`: TensorBoard sends the
        tag in the URL of every request). Use one tag per recurrent layer.
      states: [N, T, H] hidden states of N probe sequences over T steps, H units.
      probabilities: Optional [N, T, C] per-step class probabilities: the model's
        output head applied to the state at every step ("what it would predict if
        the sequence ended here"). C=1 is read as a sigmoid output, p(class 1).
      tokens: Optional [N, T] strings, the input token at every step. Numeric
        (non-text) sequences have none.
      lengths: Optional [N] number of valid steps per sequence; steps at and after
        `lengths[i]` are padding and are not stored. Defaults to T for all.
        Valid steps come first (post-padding).
      labels: Optional [N] true class index per sequence, in [0, C).
      class_names: Optional C class names.
      step: The checkpoint, an integer 0 <= step < 2**63 (int, numpy integer,
        integer scalar tensor); defaults to `tf.summary.experimental.get_step()`.
        Steps must increase within a tag.
      description: Optional long-form description (Markdown).
      precision: "float16" (default; half the size, relative error < 0.05%) or
        "float32" for the stored hidden states.
      annotations: Optional per-step annotation tracks (LSTMVis' meta tracks),
        a mapping {name: [N, T] array}, e.g. {"pos": tags, "depth": depth}. A
        track of strings is categorical (at most 65,536 distinct values); one
        of numbers is numeric, stored as float32 (finite, within float32's
        range; booleans as 0 and 1). Values at padding steps are ignored. At
        most 64 tracks, names of at most 256 characters.

    Returns:
      True on success, False if no default summary writer was available.

    Raises:
      ValueError: on invalid input (naming the argument, what was received and
        what was expected), or if no step was given and none is set. Inside
        `tf.function`, checks that need values run when the graph runs, and
        TensorFlow raises their ValueError as `tf.errors.InvalidArgumentError`
        with our message in its own (see `write_fields`).
    """
    fields = RecordFields(
        states, probabilities, tokens=tokens, lengths=lengths, labels=labels,
        class_names=class_names, precision=precision, annotations=annotations,
    )
    return write_fields(name, fields, step=step, description=description)


def write_fields(name, fields, *, step=None, description=None):
    """`hidden_states` of one `RecordFields`: what the Keras callback logs with.

    Eagerly, every check runs before anything is written. Inside
    `tf.function`, what the trace knows is checked when the function is
    traced (the name, tag, description, class names, precision, a Python
    step, and the static shapes and dtypes of the tensors); the checks that
    need values run when the graph runs, in the `tf.py_function` that
    encodes the record, and TensorFlow raises their ValueError as a
    `tf.errors.InvalidArgumentError` whose message holds ours
    ("ValueError: `lengths[1]` is 0; ..."), as for a negative step tensor.
    """
    import tensorflow as tf

    name = fields_lib.check_tag(name, "name")
    description = fields_lib.check_description(description)
    summary_metadata = metadata.create_summary_metadata(description=description)
    arrays = fields.array_fields()
    tracks = fields_lib.check_annotations(fields.annotations)
    if not tf.executing_eagerly():  # tracing a tf.function
        fields_lib.check_static(
            {k: _tensor_spec(k, v) for k, v in arrays.items()},
            class_names=fields.class_names,
            precision=fields.precision,
            annotations={k: _annotation_spec(k, v) for k, v in tracks.items()},
        )
    step = _checked_step(tf, step)

    def encode(annotations=None, **values):
        if annotations is not None:
            values["annotations"] = annotations
        return codec.encode(dataclasses.replace(fields, **values))

    def record():
        if tf.executing_eagerly():
            return tf.constant(encode(), dtype=tf.string)
        # Inside tf.function: encode on the host when the graph runs. Annotation
        # tensors go in as inputs; annotations given as values are used as they are.
        keys = list(arrays)
        track_keys = [k for k, v in tracks.items() if tf.is_tensor(v)]

        def encode_eager(*tensors):
            values = dict(zip(keys, tensors))
            given = dict(tracks, **dict(zip(track_keys, tensors[len(keys):])))
            return tf.constant(encode(given or None, **values), dtype=tf.string)

        inputs = [arrays[k] for k in keys] + [tracks[k] for k in track_keys]
        blobs = tf.py_function(encode_eager, inputs, Tout=tf.string)
        blobs.set_shape([metadata.NUM_BLOBS])
        return blobs

    with tf.summary.experimental.summary_scope(
        name, "hidden_states_summary", values=list(arrays.values()) + [step]
        + [v for v in tracks.values() if tf.is_tensor(v)]
    ) as (tag, _):
        fields_lib.check_tag(tag, "name")  # with the name scopes
        return tf.summary.write(tag=tag, tensor=record, step=step, metadata=summary_metadata)


def _tensor_spec(name, value):
    """The `fields.ArraySpec` of a (symbolic) tensor, or of an array given as values."""
    import tensorflow as tf

    if not tf.is_tensor(value):
        return fields_lib.array_spec(name, value)
    dtype = tf.as_dtype(value.dtype)
    kinds = [
        (dtype == tf.string, "O"),
        (dtype.is_floating, "f"),
        (dtype.is_integer and dtype.is_unsigned, "u"),
        (dtype.is_integer, "i"),
        (dtype.is_bool, "b"),
        (dtype.is_complex, "c"),
    ]
    kind = next((k for matches, k in kinds if matches), "V")
    shape = None if value.shape.rank is None else tuple(value.shape.as_list())
    return fields_lib.ArraySpec(shape, kind, dtype.name)


def _annotation_spec(name, value):
    """The `fields.ArraySpec` of an annotation track: a (symbolic) tensor's, or the values'."""
    import tensorflow as tf

    if tf.is_tensor(value):
        return _tensor_spec(fields_lib.annotation_label(name), value)
    return fields_lib.ArraySpec.of(fields_lib.annotation_array(name, value))


def _checked_step(tf, step):
    """The step, checked now if it has a value; else a tensor's dtype and shape now, its
    value when the graph runs."""
    if step is None:
        step = tf.summary.experimental.get_step()
        if step is None:
            return None  # tf.summary.write raises its own ValueError naming `step`
    if not tf.is_tensor(step) or tf.executing_eagerly():
        return fields_lib.check_step(step)
    fields_lib.check_step_spec(_tensor_spec("step", step))
    check = tf.debugging.assert_non_negative(
        step, message="`step` is negative; " + fields_lib.STEP_EXPECTED
    )
    with tf.control_dependencies([check] if check is not None else []):
        return tf.identity(step)


def hidden_states_pb(
    tag,
    states,
    probabilities=None,
    *,
    tokens=None,
    lengths=None,
    labels=None,
    class_names=None,
    description=None,
    precision="float16",
    annotations=None,
):
    """The same record as `hidden_states`, as a `Summary` protobuf, without TensorFlow.

    Write it with `tb_rnn_hidden.writer.HiddenStateWriter` (TensorBoard's own
    event-file writer), or with PyTorch's `SummaryWriter`:
    `writer._get_file_writer().add_summary(summary, global_step=step)`.
    Arguments are those of `hidden_states` and are checked by the same rules;
    `tag` is used as is (no name scopes).
    """
    fields = RecordFields(
        states, probabilities, tokens=tokens, lengths=lengths, labels=labels,
        class_names=class_names, precision=precision, annotations=annotations,
    )
    return fields_pb(tag, fields, description=description)


def fields_pb(tag, fields, *, description=None):
    """`hidden_states_pb` of one `RecordFields`: what the writer and PyTorch helper log with."""
    tag = fields_lib.check_tag(tag)
    description = fields_lib.check_description(description)
    return blobs_pb(tag, codec.encode(fields), metadata.create_summary_metadata(description=description))


def blobs_pb(tag, blobs, summary_metadata):
    """A `Summary` of one record's `blobs` as they are, under `tag`, with `summary_metadata`.

    Filled in place: every protobuf copy of a 50 MiB record costs ~80 ms, and
    make_tensor_proto would pad every blob to the longest one.
    """
    summary = summary_pb2.Summary()
    value = summary.value.add(tag=tag)
    value.metadata.CopyFrom(summary_metadata)
    value.tensor.dtype = types_pb2.DT_STRING
    value.tensor.tensor_shape.dim.add(size=len(blobs))
    value.tensor.string_val.extend(blobs)
    return summary
