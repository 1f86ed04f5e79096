"""Reading a Keras model's layer graph: its recurrent layers and where each is called.

The Keras callback works on the graph of a Sequential or functional model;
this module finds that graph (building an Input-less Sequential model first),
the recurrent layers to log, and the one call of each layer, and says in a
ValueError why a model cannot be handled.
"""

import keras
import tensorflow as tf

from tb_rnn_hidden.integrations import keras_internals

__all__ = [
    "choose_layers",
    "functional_graph",
    "has_lstm_cell",
    "model_key",
    "node_in",
    "op_name",
    "recurrent_layers",
    "units",
]

_CONV_RNN = (keras.layers.ConvLSTM1D, keras.layers.ConvLSTM2D, keras.layers.ConvLSTM3D)


def functional_graph(model, probe_inputs):
    """The Functional graph of a Sequential or functional model; ValueError otherwise."""
    if model is None:
        raise ValueError("HiddenStateCallback has no model: use it in model.fit(callbacks=[...])")
    if isinstance(model, keras.Sequential):
        if keras_internals.sequential_graph(model) is None:
            _build_sequential(model, probe_inputs)
        graph = keras_internals.sequential_graph(model)
    else:
        graph = model
    if not keras_internals.has_layer_graph(graph):
        raise ValueError(
            "model %r is a subclassed %s; HiddenStateCallback supports Sequential and "
            "functional models (it reads the layer graph). Log with "
            "tb_rnn_hidden.summary.hidden_states directly instead." % (
                model.name, type(model).__name__))
    return graph


def _build_sequential(model, probe_inputs):
    """Builds a Sequential model that has no Input yet, from the probe inputs' shape.

    Keras (TF backend) builds such a model only when it traces the first
    training step, after `on_train_begin`: too late for the untrained
    checkpoint. The steps axis is left open (None) so that training batches
    of any length still fit, as they would have.
    """
    arrays = tf.nest.flatten(probe_inputs)
    shape = arrays[0].shape
    candidates = [(None, None) + shape[2:], (None,) + shape[1:]] if len(shape) >= 2 else [
        (None,) + shape[1:]]
    error = None
    for input_shape in candidates:
        try:
            model.build(input_shape)
        except Exception as e:  # noqa: BLE001 - any failure: try the next shape
            error = e
        if keras_internals.sequential_graph(model) is not None:
            return
    raise ValueError(
        "Sequential model %r has no Input and could not be built for probe inputs of shape "
        "%s (%s); expected a model that starts with keras.Input(shape=...)"
        % (model.name, shape, error or "Keras could not infer its shapes"))


def model_key(model):
    """Identifies a model and its layers: the probe pass is rebuilt when this changes."""
    return id(model), tuple(id(layer) for layer in getattr(model, "layers", ()))


def _is_recurrent(layer):
    return isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)) and not isinstance(
        layer, _CONV_RNN) and not (isinstance(layer, keras.layers.Bidirectional)
                                   and isinstance(layer.forward_layer, _CONV_RNN))


def recurrent_layers(graph):
    return [layer for layer in graph.layers if _is_recurrent(layer)]


def choose_layers(layers, recurrent, model):
    """The recurrent layers to log, in model order; ValueError naming unknown ones."""
    names = [layer.name for layer in recurrent]
    if not recurrent:
        nested = [l.name for l in model.layers if isinstance(l, keras.Model)]
        raise ValueError(
            "model %r has no recurrent layer (LSTM, GRU, SimpleRNN, RNN, Bidirectional) at "
            "its top level%s" % (model.name, "; nested models %s are not searched" % nested
                                 if nested else ""))
    if layers is None:
        return list(recurrent)
    chosen = []
    for ref in layers:
        match = [l for l in recurrent if (l.name == ref if isinstance(ref, str) else l is ref)]
        if not match:
            label = ref if isinstance(ref, str) else getattr(ref, "name", ref)
            other = [l for l in model.layers if l.name == label]
            why = ("is a layer of type %s, not a recurrent layer" % type(other[0]).__name__
                   if other else "is not a layer of model %r" % model.name)
            raise ValueError(
                "`layers` entry %r %s; expected one of the model's recurrent layers %s"
                % (label, why, names))
        chosen.append(match[0])
    return [l for l in recurrent if l in chosen]


def node_in(graph, layer):
    """The single node of `layer` that belongs to `graph`."""
    nodes = keras_internals.nodes_in_graph(graph, layer)
    if len(nodes) != 1:
        raise ValueError(
            "layer %r is called %d times in the model; expected a layer called once, "
            "so that its input is one sequence" % (layer.name, len(nodes)))
    return nodes[0]


def has_lstm_cell(layer):
    inner = layer.forward_layer if isinstance(layer, keras.layers.Bidirectional) else layer
    return isinstance(inner.cell, keras.layers.LSTMCell)


def units(layer):
    return getattr(layer, "units", None) or getattr(layer.cell, "units", "?")


def op_name(op):
    return "layer %r (%s)" % (getattr(op, "name", "?"), type(op).__name__)
