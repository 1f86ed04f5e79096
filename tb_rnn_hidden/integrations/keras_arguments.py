"""The Keras callback's arguments, checked and normalized when it is constructed.

Every check raises a ValueError naming the argument, what was received and
what was expected, so that a mistake surfaces before training, not in it.
"""

import numpy as np
import keras
import tensorflow as tf

__all__ = [
    "check_probe_shapes",
    "class_indices",
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
    if vocabulary is None or isinstance(vocabulary, dict):
        return vocabulary
    if hasattr(vocabulary, "get_vocabulary"):
        return list(vocabulary.get_vocabulary())
    if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__len__"):
        raise ValueError(
            "`vocabulary` is %r; expected a list of tokens (index = id), a dict {id: token} "
            "or a TextVectorization layer" % (vocabulary,))
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in vocabulary]
