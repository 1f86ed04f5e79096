"""The Keras callback's arguments, checked and normalized when it is constructed.

Every check raises a ValueError naming the argument, what was received and
what was expected, so that a mistake surfaces before training, not in it.
"""

import numpy as np
import keras
import tensorflow as tf

from tb_rnn_hidden.records import fields

__all__ = [
    "check_probe_shapes",
    "probe_annotations",
    "class_indices",
    "class_names_and_labels",
    "describe_inputs",
    "layer_refs",
    "positive_int",
    "probe_arrays",
    "token_vocabulary",
]


def positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError("`%s` is %r; expected a positive integer" % (name, value))
    return int(value)


def describe_inputs(inputs):
    if isinstance(inputs, np.ndarray):
        return "a %s array of shape %s" % (inputs.dtype, inputs.shape)
    return "a %s" % type(inputs).__name__


def probe_arrays(probe_inputs):
    """The probe set as (structure of ndarrays, N); ValueError if empty or inconsistent."""
    if probe_inputs is None or isinstance(probe_inputs, (tf.data.Dataset,)):
        raise ValueError(
            "`probe_inputs` is %r; expected an array (or list/dict of arrays) of N probe "
            "sequences" % (type(probe_inputs).__name__,))
    if isinstance(probe_inputs, (list, tuple)) and probe_inputs and not isinstance(
            probe_inputs[0], (np.ndarray, tf.Tensor)) and not hasattr(probe_inputs[0], "shape"):
        probe_inputs = np.asarray(probe_inputs)  # a nested list is one array, not many inputs

    def to_array(value):
        value = value.numpy() if hasattr(value, "numpy") else value
        array = np.asarray(value)
        if array.dtype == object:  # strings
            array = array.astype(str)
        return array

    arrays = tf.nest.map_structure(to_array, probe_inputs)
    sizes = {len(a) if a.ndim else 0 for a in tf.nest.flatten(arrays)}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(
            "`probe_inputs` has arrays with %s sequences; expected N > 0 sequences in every "
            "input" % sorted(sizes))
    return arrays, sizes.pop()


def check_probe_shapes(probe_inputs, model_inputs):
    """ValueError if a probe array cannot feed the model input it would go to."""
    arrays = tf.nest.flatten(probe_inputs)
    if len(arrays) != len(model_inputs):
        raise ValueError(
            "`probe_inputs` has %d arrays; the model has %d inputs %s"
            % (len(arrays), len(model_inputs), [t.name for t in model_inputs]))
    for array, tensor in zip(arrays, model_inputs):
        expected = tuple(tensor.shape[1:])
        got = array.shape[1:]
        if len(got) == len(expected) and any(
                e is not None and e != g for e, g in zip(expected, got)):
            raise ValueError(
                "`probe_inputs` has shape %s; the model's input %r expects (N,) + %s"
                % (array.shape, tensor.name, expected))


def class_indices(labels, n):
    """[N] int labels from ints, [N, 1] binary or [N, C] one-hot; ValueError otherwise."""
    if labels is None:
        return None
    labels = np.asarray(labels.numpy() if hasattr(labels, "numpy") else labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    elif labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(
            "`probe_labels` has shape %s; expected [N=%d] class indices or [N, C] one-hot"
            % (labels.shape, n))
    if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iu":
        raise ValueError(
            "`probe_labels` has dtype %s; expected integer class indices" % labels.dtype)
    return labels


def class_names_and_labels(class_names, probe_labels, n):
    """Checked class names (or None) and [N] int32 labels (or None), by the record's rules.

    Labels must be below the number of class names when there are names.
    """
    if class_names is not None:
        class_names = fields.check_class_names(class_names)
    labels = class_indices(probe_labels, n)
    if labels is not None:
        labels = fields.check_labels(labels, n, len(class_names or []), name="probe_labels")
    return class_names, labels


def probe_annotations(annotations, n):
    """{name: [N, T] ndarray} of the probe set's annotation tracks, checked by the record's
    rules that need no states (names, kinds, N sequences); their steps are checked
    against each layer's when logged."""
    tracks = {}
    for name, value in fields.check_annotations(annotations).items():
        array = fields.annotation_array(name, value)
        fields.check_annotation_specs({name: fields.ArraySpec.of(array)}, n, None)
        tracks[name] = array
    return tracks


def layer_refs(layers):
    """The `layers` argument as a list of names or layer objects, or None for all."""
    if layers is None:
        return None
    if isinstance(layers, (str, keras.layers.Layer)):
        layers = [layers]
    layers = list(layers)
    for ref in layers:
        if not isinstance(ref, (str, keras.layers.Layer)):
            raise ValueError(
                "`layers` has %r; expected layer names or layer objects" % (ref,))
    if not layers:
        raise ValueError("`layers` is empty; expected layer names, or None for all")
    return layers


def token_vocabulary(vocabulary):
    """A list or dict id -> token; a TextVectorization layer gives its vocabulary."""
    if vocabulary is None:
        return None
    if isinstance(vocabulary, dict):
        return {i: _token("vocabulary[%r]" % (i,), v) for i, v in vocabulary.items()}
    if hasattr(vocabulary, "get_vocabulary"):
        vocabulary = vocabulary.get_vocabulary()
    elif isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__len__"):
        raise ValueError(
            "`vocabulary` is %r; expected a list of tokens (index = id), a dict {id: token} "
            "or a TextVectorization layer" % (vocabulary,))
    return [_token("vocabulary[%d]" % i, v) for i, v in enumerate(vocabulary)]


def _token(name, value):
    """A token as text (the record's rule: UTF-8 bytes or encodable str); other values as str."""
    if isinstance(value, (str, bytes)):
        return fields.check_text(name, value)
    return str(value)
