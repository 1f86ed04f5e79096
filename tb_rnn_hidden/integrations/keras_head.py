"""The probability head: the layers after the top recurrent layer, applied to every step.

"The model's prediction had the sequence ended here": when the layers after
the top recurrent layer form a chain of per-step layers ending in softmax or
sigmoid, running that chain on the [N, T, H] per-step states gives per-step
class probabilities. `find_head` finds the chain (or says why there is none);
`PerStepHead` runs it.
"""

import keras

from tb_rnn_hidden.integrations import keras_internals
from tb_rnn_hidden.integrations.keras_graph import op_name

__all__ = ["PerStepHead", "find_head"]

# Layers that are the identity at inference (`training=False`).
_INFERENCE_IDENTITY = (
    keras.layers.Dropout,
    keras.layers.AlphaDropout,
    keras.layers.GaussianDropout,
    keras.layers.GaussianNoise,
    keras.layers.SpatialDropout1D,
    keras.layers.Identity,
)
# Layers that transform each step (or each sample) on its own: applied to the
# [N, T, H] per-step states they give the prediction at every step.
_PER_STEP = _INFERENCE_IDENTITY + (
    keras.layers.Dense,
    keras.layers.Activation,
    keras.layers.Softmax,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.UnitNormalization,
    keras.layers.TimeDistributed,
)
_PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")


class PerStepHead(keras.layers.Layer):
    """Applies the model's layers after its top recurrent layer to every step of [N, T, H].

    Each entry is (layer, per_sample): a layer that saw [N, H] in the model
    (after a last-step RNN or a `[:, -1]` slice) runs on the N*T steps as
    rows; one that saw [N, T, H] runs as it did. `None` entries (the slice)
    are skipped: on every step, "the last step" is that step.
    """

    def __init__(self, chain, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._chain_layers = [layer for layer, _ in chain if layer is not None]
        self._per_sample = [per_sample for layer, per_sample in chain if layer is not None]

    def call(self, x):
        for layer, per_sample in zip(self._chain_layers, self._per_sample):
            if per_sample:
                shape = keras.ops.shape(x)
                rows = keras.ops.reshape(x, (-1, x.shape[-1]))
                y = layer(rows)
                x = keras.ops.reshape(y, (shape[0], shape[1]) + tuple(y.shape[1:]))
            else:
                x = layer(x)
        return keras.ops.cast(x, "float32")


def find_head(graph, recurrent):
    """(top recurrent layer, head chain, None) or (top, None, reason it cannot be derived).

    Walks back from the single output through single-input nodes to the first
    recurrent layer. The chain lists (layer or None for a `[:, -1]` slice,
    per_sample) from the recurrent layer up.
    """
    fallback_top = recurrent[-1] if recurrent else None
    if len(graph.outputs) != 1:
        return fallback_top, None, "it has %d outputs (expected 1)" % len(graph.outputs)
    tensor = graph.outputs[0]
    chain = []
    while True:
        op, node_index, tensor_index = keras_internals.keras_history(tensor)
        if op is None or isinstance(op, keras.layers.InputLayer):
            return fallback_top, None, "no recurrent layer leads to its output"
        if op in recurrent:
            break
        node = keras_internals.inbound_node(op, node_index)
        args = keras_internals.call_args(node)
        data = args[0] if args else None
        extra = [t for t in keras_internals.input_tensors(node) if t is not data
                 and t is not keras_internals.call_kwargs(node).get("mask")]
        if not isinstance(data, keras.KerasTensor) or extra:
            return fallback_top, None, (
                "%s has several inputs; the layers after the top recurrent layer must be a "
                "chain of per-step layers" % op_name(op))
        chain.append((op, node, data))
        tensor = data
    top = op
    if tensor_index != 0:
        return top, None, (
            "its head reads state #%d returned by recurrent layer %r, not its output"
            % (tensor_index, top.name))
    chain.reverse()
    steps, error = _per_step_chain(chain, top)
    if error is None:
        error = _check_probability_output([op for op, _ in steps if op is not None], graph, top)
    return top, (None if error else steps), error


def _per_step_chain(chain, top):
    """([(layer or None, per_sample)], None), or (_, why a layer cannot run step by step)."""
    steps = []
    for op, node, data in chain:
        if _is_last_step_slice(op, node, data):
            steps.append((None, False))
            continue
        if not isinstance(op, _PER_STEP):
            how = ("combines all steps into one" if _is_over_time(op) else
                   "is not known to act on each step on its own")
            return steps, ("%s after recurrent layer %r %s, so it cannot be applied step by step"
                           % (op_name(op), top.name, how))
        if len(data.shape) not in (2, 3) or (len(data.shape) == 3 and _mixes_steps(op)):
            return steps, "%s after recurrent layer %r mixes steps" % (op_name(op), top.name)
        steps.append((op, len(data.shape) == 2))
    return steps, None


def _check_probability_output(layers, graph, top):
    """None if the head ends in softmax or sigmoid over classes, else why not."""
    effective = [l for l in layers if not isinstance(l, _INFERENCE_IDENTITY)]
    if not effective:
        return ("no layer after recurrent layer %r turns its states into probabilities "
                "(expected e.g. Dense(C, activation='softmax'))" % top.name)
    last = effective[-1]
    inner = last.layer if isinstance(last, keras.layers.TimeDistributed) else last
    if isinstance(inner, keras.layers.Softmax):
        activation = "softmax"
    else:
        activation = getattr(getattr(inner, "activation", None), "__name__", None)
    if activation not in _PROBABILITY_ACTIVATIONS:
        return ("it outputs logits: its last layer %s has activation %r; expected softmax or "
                "sigmoid (add one, e.g. Dense(C, activation='softmax'))"
                % (op_name(last), activation or type(inner).__name__))
    classes = graph.outputs[0].shape[-1]
    if activation == "sigmoid" and classes != 1:
        return ("its sigmoid output has %s units: independent per-class probabilities "
                "(multi-label) are not one class distribution; expected 1 sigmoid unit "
                "or a softmax" % classes)
    return None


def _is_last_step_slice(op, node, data):
    """`x[:, -1]` on [N, T, H] recurrent outputs: per step, the step itself."""
    args = keras_internals.call_args(node)
    if not keras_internals.is_getitem(op) or len(data.shape) != 3 or len(args) < 2:
        return False
    key = args[1]
    if not isinstance(key, tuple):
        return False
    full = slice(None, None, None)
    return len(key) >= 2 and key[0] == full and key[1] == -1 and all(
        k == full or k is Ellipsis for k in key[2:])


def _is_over_time(op):
    name = type(op).__name__
    return name.startswith(("Global", "Flatten", "Reshape", "Attention", "MultiHeadAttention"))


def _mixes_steps(op):
    """Normalization over more than the feature axis mixes the steps of [N, T, H]."""
    axis = getattr(op, "axis", -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return not all(a in (-1, 2) for a in axes)
