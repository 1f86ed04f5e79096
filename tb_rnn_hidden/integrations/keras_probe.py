"""The probe pass: one multi-output Keras model giving every array a checkpoint logs.

Built once per model over `model.inputs`: per-step states, cell states,
probabilities, masks and token ids come out of one model, run as one
`tf.function` call per batch of the probe set, so that a checkpoint costs one
pass over the probe set.
"""

import numpy as np
import keras
import tensorflow as tf

from tb_rnn_hidden.integrations import keras_internals
from tb_rnn_hidden.integrations.keras_arguments import check_probe_shapes, describe_inputs
from tb_rnn_hidden.integrations.keras_graph import (
    choose_layers,
    functional_graph,
    has_lstm_cell,
    node_in,
    recurrent_layers,
    units,
)
from tb_rnn_hidden.integrations.keras_head import PerStepHead, find_head
from tb_rnn_hidden.integrations.keras_steps import per_step_tensors

__all__ = ["ProbePass", "Tag"]


class Tag:
    """One logged tag: which probe-pass outputs hold its states and its mask."""

    def __init__(self, name, layer, kind, states, mask):
        self.name = name
        self.layer_name = layer.name
        self.kind = kind  # "hidden" or "cell"
        self.states = states  # output index
        self.mask = mask  # output index or None
        self._layer = layer

    def description(self, num_probes, has_probabilities, from_fn):
        layer = self._layer
        inner = layer.forward_layer if isinstance(layer, keras.layers.Bidirectional) else layer
        what = "Cell state" if self.kind == "cell" else "Hidden state"
        text = "%s of %s %r (%s units) at every step of %d probe sequences." % (
            what, type(layer).__name__, layer.name, units(inner), num_probes)
        if isinstance(layer, keras.layers.Bidirectional):
            text += " Forward and backward states are concatenated"
            if layer.merge_mode != "concat":
                text += " (the layer's merge_mode is %r)" % (layer.merge_mode,)
            text += "."
        if has_probabilities:
            text += (" Probabilities: probability_fn applied to the top recurrent layer's "
                     "states." if from_fn else
                     " Probabilities: the model's layers after the top recurrent layer, "
                     "applied to every step.")
        return text


class ProbePass:
    """A multi-output model over `model.inputs` giving every logged array; built once per model."""

    def __init__(self, model, *, layers, cell_states, derive_head, probe_inputs, vocabulary):
        graph = functional_graph(model, probe_inputs)
        check_probe_shapes(probe_inputs, graph.inputs)
        recurrent = recurrent_layers(graph)
        chosen = choose_layers(layers, recurrent, model)
        _check_stateless(recurrent)
        top, chain, head_error = find_head(graph, recurrent)
        if derive_head and head_error:
            raise ValueError(
                "HiddenStateCallback cannot derive per-step class probabilities for model "
                "%r: %s. Pass `probability_fn=f`, where f maps the top recurrent layer's "
                "per-step outputs, a float32 array [N, T, H], to probabilities [N, T, C] "
                "(or returns None to log hidden states only)." % (model.name, head_error)
            )
        self._outputs = []
        top_input = self._add_tags(graph, chosen, top, cell_states)
        self.head = self.top_states = None
        if derive_head:
            self.head = self._add(PerStepHead(chain, name="tb_rnn_hidden_head")(top_input))
        else:
            self.top_states = self._add(top_input)
        self._add_token_ids(graph, probe_inputs, vocabulary)

        # The model's own input structure (a single tensor, list or dict), so
        # that the probe inputs are passed exactly as to `model(...)`.
        inputs = keras_internals.inputs_structure(graph)
        self._model = keras.Model(inputs, self._outputs, name="tb_rnn_hidden_probe")
        self._fn = tf.function(self._forward, reduce_retracing=True)

    def _add(self, tensor):
        """Makes `tensor` an output of the probe pass; returns its output index."""
        self._outputs.append(tensor)
        return len(self._outputs) - 1

    def _add_tags(self, graph, chosen, top, cell_states):
        """Adds the per-step tensors of the chosen layers as `self.tags`; returns the top's."""
        self.tags = []
        top_input = None
        for layer in dict.fromkeys(chosen + ([top] if top is not None else [])):
            node = node_in(graph, layer)
            want_cell = cell_states and has_lstm_cell(layer)
            states, cells, merged, mask = per_step_tensors(layer, node, want_cell)
            if layer is top:
                top_input = merged
            if layer not in chosen:
                continue
            mask_index = None if mask is None else self._add(mask)
            self.tags.append(Tag(layer.name, layer, "hidden", self._add(states), mask_index))
            if cells is not None:
                self.tags.append(
                    Tag(layer.name + "/cell", layer, "cell", self._add(cells), mask_index))
        return top_input

    def _add_token_ids(self, graph, probe_inputs, vocabulary):
        """Finds where token ids come from: a TextVectorization layer, the inputs, or nowhere."""
        self.ids = None  # output index of token ids, or "inputs"
        self.vocabulary = None  # from a TextVectorization layer of the model
        self._ids_from_inputs = None
        vectorizer = next(
            (l for l in graph.layers if isinstance(l, keras.layers.TextVectorization)
             and l.get_config().get("output_mode") == "int"),
            None,
        )
        if vectorizer is not None:
            self.ids = self._add(keras_internals.first_output(node_in(graph, vectorizer)))
            self.vocabulary = list(vectorizer.get_vocabulary())
        elif isinstance(probe_inputs, np.ndarray) and probe_inputs.dtype.kind in "iu" \
                and probe_inputs.ndim == 2:
            self.ids = "inputs"
            self._ids_from_inputs = probe_inputs
        elif vocabulary is not None:
            raise ValueError(
                "`vocabulary` was given, but the probe inputs are not token ids: expected an "
                "integer array [N, T] or a model with a TextVectorization layer; got %s"
                % describe_inputs(probe_inputs)
            )

    def _forward(self, inputs):
        """All outputs as a list, floats as float32 (mixed-precision models compute in float16)."""
        outputs = self._model(inputs, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [tf.cast(o, tf.float32) if o.dtype.is_floating else o for o in outputs]

    def run(self, probe_inputs, batch_size):
        """Every output as an ndarray over the whole probe set (one forward pass per batch).

        Batches may differ in steps (e.g. TextVectorization padding to each
        batch's longest text): they are padded to the longest, and each row's
        own step count is kept under the key "row_steps" to mark the rest invalid.
        """
        num = len(tf.nest.flatten(probe_inputs)[0])
        batches = []
        for start in range(0, num, batch_size):
            batch = tf.nest.map_structure(lambda a: a[start:start + batch_size], probe_inputs)
            batches.append([r.numpy() for r in self._fn(batch)])
        columns = [_concat_steps([b[i] for b in batches]) for i in range(len(batches[0]))]
        out = {i: values for i, (values, _) in enumerate(columns)}
        out["row_steps"] = columns[0][1]
        return out

    def valid(self, out, tag):
        """[N, T] bool: which steps of a tag are real tokens (from its mask, else all)."""
        n, t = out[tag.states].shape[:2]
        valid = np.ones((n, t), dtype=bool)
        if tag.mask is not None:
            valid &= out[tag.mask].astype(bool)
        if out["row_steps"] is not None:
            valid &= np.arange(t)[None, :] < out["row_steps"][:, None]
        return valid

    def tokens(self, out, tag, valid, vocabulary):
        """[N, T] token strings of a tag (input order; "" on invalid steps), or None."""
        if self.ids is None:
            return None
        ids = self._ids_from_inputs if self.ids == "inputs" else out[self.ids]
        t = out[tag.states].shape[1]
        if ids.shape[1] != t:
            if vocabulary is not None:
                raise ValueError(
                    "token ids have %d steps but layer %r has %d; expected one token per "
                    "step of the recurrent layer" % (ids.shape[1], tag.layer_name, t)
                )
            return None
        vocabulary = vocabulary if vocabulary is not None else self.vocabulary
        tokens = np.full(ids.shape, "", dtype=object)
        valid_ids = ids[valid].astype(np.int64)
        if vocabulary is None:
            tokens[valid] = valid_ids.astype(str)
        elif isinstance(vocabulary, dict):
            missing = [int(i) for i in valid_ids if int(i) not in vocabulary]
            if missing:
                raise ValueError(
                    "`vocabulary` has no token for id %d (%d valid steps have ids missing "
                    "from it); expected a dict with every id of the probe inputs"
                    % (missing[0], len(missing))
                )
            tokens[valid] = [vocabulary[int(i)] for i in valid_ids]
        else:
            bad = (valid_ids < 0) | (valid_ids >= len(vocabulary))
            if bad.any():
                raise ValueError(
                    "token id %d is outside the vocabulary of %d tokens; expected ids in "
                    "[0, %d)" % (int(valid_ids[bad][0]), len(vocabulary), len(vocabulary))
                )
            tokens[valid] = np.asarray(vocabulary, dtype=object)[valid_ids]
        return tokens


def _check_stateless(recurrent):
    """ValueError if a recurrent layer is stateful: a probe pass would disturb its states."""
    stateful = [l.name for l in recurrent if getattr(l, "stateful", False)
                or getattr(getattr(l, "forward_layer", None), "stateful", False)]
    if stateful:
        raise ValueError(
            "recurrent layers %s are stateful; HiddenStateCallback supports stateless "
            "recurrent layers only (a probe pass would overwrite the states that "
            "training carries from batch to batch)" % stateful)


def _concat_steps(parts):
    """Concatenates batch outputs along N, padding the steps axis; also each row's step count."""
    if parts[0].ndim < 2:
        return np.concatenate(parts), None
    t = max(p.shape[1] for p in parts)
    padded = [
        np.pad(p, [(0, 0), (0, t - p.shape[1])] + [(0, 0)] * (p.ndim - 2)) if p.shape[1] < t
        else p for p in parts
    ]
    row_steps = np.concatenate([np.full(len(p), p.shape[1]) for p in parts])
    return np.concatenate(padded), row_steps
