"""Keras callback: log a model's recurrent hidden states at checkpoints during `fit`.

`HiddenStateCallback` replaces hand-rolled per-step extraction (a twin model
with `return_sequences=True`, a predict and a summary call per epoch): given
a Sequential or functional Keras 3 model (TF backend) and a probe set, it
writes, at every checkpoint and for every chosen recurrent layer, the hidden
state at every step, the model's per-step class probabilities, tokens,
lengths and labels with `summary.hidden_states`.

How the per-step data is obtained, once per model (then cached):

- For every recurrent layer, a `keras.layers.RNN` with `return_sequences=True`
  is run over the layer's own, already built cell(s) on the layer's own input
  tensor (its mask and initial state included). It therefore reads the model's
  variables themselves: there are no weight copies to refresh as training
  updates them, and the states are those of the layer even when it returns
  only its last step.
- The per-step probabilities apply the layers after the top recurrent layer
  (a chain of per-step layers ending in softmax or sigmoid) to every step.
- Everything, states, cell states, probabilities, masks and token ids, comes
  out of one multi-output Keras model, run as one `tf.function` call per
  batch of the probe set: one pass per checkpoint.
"""

import numpy as np
import keras
import tensorflow as tf

from tb_rnn_hidden.records import summary as summary_lib
from tb_rnn_hidden.records.fields import RecordFields

__all__ = ["HiddenStateCallback"]

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
_CONV_RNN = (keras.layers.ConvLSTM1D, keras.layers.ConvLSTM2D, keras.layers.ConvLSTM3D)
_PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")


class HiddenStateCallback(keras.callbacks.Callback):
    """Logs the hidden states of a Keras model's recurrent layers during `fit`.

        cb = HiddenStateCallback("logs/run1", probe_ids, probe_labels,
                                 vocabulary=VOCABULARY, class_names=["neg", "pos"])
        model.fit(x, y, epochs=6, callbacks=[cb])

    Writes into the run directory `log_dir` with `tf.summary.create_file_writer`
    and `tb_rnn_hidden.summary.hidden_states`, one tag per recurrent layer,
    named after the layer (LSTM cell states under `<name>/cell`). Works with
    Sequential and functional models on the TensorFlow backend; LSTM, GRU,
    SimpleRNN, any `keras.layers.RNN` over a vector cell, `Bidirectional`
    wrappers of these, stacked, with `return_sequences` True or False.
    Not supported (a ValueError says so): subclassed models, recurrent layers
    inside nested models, layers called more than once, stateful RNNs,
    ConvLSTM. A Sequential model without an `Input` is built by the callback
    when training begins (Keras would build it only in the first training
    step), with the probe inputs' shape and an open steps axis.

    Checkpoints (steps of the logged records):
      - Epoch mode (default): step 0 is the model before training (logged in
        `on_train_begin`), then step k after k epochs, every `every_n_epochs`
        epochs. Several `fit` calls with the same callback continue the count
        (a later call's epochs are numbered after those already seen), so
        steps always increase. With `fit(initial_epoch=e)` the epoch-end
        steps are e+1, e+2, ...; the train-begin record of a new callback is
        still step 0 (Keras does not tell callbacks `initial_epoch` before
        the first epoch begins).
      - Batch mode (`every_n_batches=n`): step 0 before training, then step b
        after every n-th training batch, b counting all batches this callback
        has seen. Epoch-end checkpoints are then not written: a run mixes no
        epoch and batch steps, since TensorBoard needs steps to increase.

    What a checkpoint holds, for each recurrent layer:
      - states: the hidden state at every step [N, T, H], also for layers that
        return only their last step. `Bidirectional`: [forward, backward]
        concatenated per step (what `merge_mode="concat"` outputs; with other
        merge modes the concatenation is logged all the same). Layers with
        `go_backwards=True` are aligned with the input: the state at step t
        has read steps t..T-1.
      - cell states (`cell_states=True`, LSTM only): tag `<name>/cell`.
      - probabilities: the layers after the top recurrent layer (the one
        nearest the output) applied to every step: "the model's prediction had
        the sequence ended here". The same per-step probabilities are logged
        with every layer. They are derived when the layers after the top
        recurrent layer form a chain of per-step layers (Dense, Dropout,
        Activation, normalization, TimeDistributed, a `[:, -1]` slice) ending
        in softmax or sigmoid; otherwise pass `probability_fn`. For a
        Bidirectional top layer, the backward half at step t has read the
        steps after t too, so these are not predictions on prefixes.
      - lengths from the model's mask (`Embedding(mask_zero=True)`,
        `Masking`); without a mask every step is valid. Masked steps need not
        be at the end: each sequence's valid steps are moved to the front
        (states, probabilities, tokens alike), so that with pre-padded inputs
        (`pad_sequences` default) step 0 is the first real token.
      - tokens: for integer token-id inputs [N, T], or string inputs through a
        `TextVectorization` layer of the model (then its vocabulary is used
        unless `vocabulary` is given). Integer ids without a vocabulary are
        logged as their decimal strings; numeric (float) inputs have none.
      - labels and class names, as given.

    Args:
      log_dir: The run directory to write event files into.
      probe_inputs: The probe set, as accepted by `model(...)`: an array
        [N, T] (token ids), [N, T, F] (numeric sequences), [N] strings for a
        model starting with TextVectorization, or a list/dict of arrays for a
        multi-input model. Keep it small: it runs at every checkpoint.
      probe_labels: Optional [N] class indices, or [N, C] one-hot (argmax is
        taken), or [N, 1] binary labels.
      layers: Recurrent layers to log, by name or as layer objects (one or a
        list); default: every recurrent layer of the model (top level).
      vocabulary: Token-id to token: a list (index = id), a dict
        {id: token}, or a `TextVectorization` layer (its `get_vocabulary()`).
      class_names: Optional list of C class names (2 for a sigmoid output).
      every_n_epochs: Log after every n-th epoch (epoch mode).
      every_n_batches: Log after every n-th training batch instead (batch
        mode; see above).
      probability_fn: Optional `f(top_states) -> probabilities`, for heads that
        cannot be derived (pooling or flattening over time, several outputs,
        non-chain graphs, logits). `top_states` is the top recurrent layer's
        per-step output, a float32 ndarray [N, T, H] (steps in input order,
        padding steps included, `Bidirectional` merged as its `merge_mode`);
        it returns [N, T, C] probabilities ([N, T, 1] for a sigmoid), or None
        to log hidden states without probabilities.
      cell_states: Also log LSTM cell states, under `<name>/cell`.
      precision: "float16" (default) or "float32", the stored precision of
        states (see `summary.hidden_states`).
      batch_size: Probe sequences per forward pass.
      description: Markdown description of every tag; default: one generated
        per tag (layer type, units, probe size, how probabilities are made).

    Raises:
      ValueError: at construction for invalid arguments, and when training
        begins for a model or layer it cannot handle (naming what was found
        and what was expected, and what to pass instead), never in the middle
        of training.

    The probe pass is compiled on the first checkpoint and reused; it is
    rebuilt only if the callback is used with another model or the model's
    layers change.
    """

    def __init__(
        self,
        log_dir,
        probe_inputs,
        probe_labels=None,
        *,
        layers=None,
        vocabulary=None,
        class_names=None,
        every_n_epochs=1,
        every_n_batches=None,
        probability_fn=None,
        cell_states=False,
        precision="float16",
        batch_size=256,
        description=None,
    ):
        super().__init__()
        self.log_dir = log_dir
        self.probe_inputs, self._num_probes = _probe_arrays(probe_inputs)
        self.probe_labels = _labels(probe_labels, self._num_probes)
        self.layers = _layer_refs(layers)
        self.vocabulary = _vocabulary(vocabulary)
        self.class_names = None if class_names is None else list(class_names)
        self.every_n_epochs = _positive_int("every_n_epochs", every_n_epochs)
        self.every_n_batches = (
            None if every_n_batches is None else _positive_int("every_n_batches", every_n_batches)
        )
        if probability_fn is not None and not callable(probability_fn):
            raise ValueError(
                "`probability_fn` is %r; expected a callable mapping [N, T, H] "
                "states to [N, T, C] probabilities" % (probability_fn,)
            )
        self.probability_fn = probability_fn
        self.cell_states = bool(cell_states)
        if precision not in ("float16", "float32"):
            raise ValueError("`precision` is %r; expected 'float16' or 'float32'" % (precision,))
        self.precision = precision
        self.batch_size = _positive_int("batch_size", batch_size)
        self.description = description

        self._writer = None
        self._probe = None  # _ProbePass, built for one model
        self._probe_key = None
        self._tokens = {}  # tag -> [N, T] tokens in input order (inputs are fixed)
        self._last_step = None
        self._epochs_done = 0  # epoch position, carried across fit calls
        self._epoch = None
        self._batches_done = 0

    # Keras hooks ---------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._prepare()
        if self._last_step is None:  # later fit calls start where the last one ended
            self._log(self._epochs_done if self.every_n_batches is None else self._batches_done)

    def on_epoch_begin(self, epoch, logs=None):
        # Keras numbers the epochs of every fit call from `initial_epoch`
        # (usually 0): continue from the epochs this callback has seen.
        self._epoch = max(int(epoch), self._epochs_done)

    def on_epoch_end(self, epoch, logs=None):
        position = self._epoch if self._epoch is not None else max(int(epoch), self._epochs_done)
        self._epochs_done, self._epoch = position + 1, None
        if self.every_n_batches is None and self._epochs_done % self.every_n_epochs == 0:
            self._log(self._epochs_done)

    def on_train_batch_end(self, batch, logs=None):
        self._batches_done += 1
        if self.every_n_batches is not None and self._batches_done % self.every_n_batches == 0:
            self._log(self._batches_done)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()

    # Checkpoints ---------------------------------------------------------

    def _prepare(self):
        """Builds (or reuses) the probe pass for the model: every model error surfaces here."""
        model = self.model
        if self._probe is None or _model_key(model) != self._probe_key:
            self._probe = _ProbePass(
                model,
                layers=self.layers,
                cell_states=self.cell_states,
                derive_head=self.probability_fn is None,
                probe_inputs=self.probe_inputs,
                vocabulary=self.vocabulary,
            )
            self._probe_key = _model_key(model)  # after any build by _ProbePass
            self._tokens = {}
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)

    def _log(self, step):
        """Runs the probe set once and writes one record per tag at `step`."""
        if self._last_step is not None and step <= self._last_step:
            return  # already logged (steps must increase within a tag)
        probe = self._probe
        out = probe.run(self.probe_inputs, self.batch_size)
        probabilities = self._probabilities(probe, out)
        with self._writer.as_default():
            for tag in probe.tags:
                states, valid = out[tag.states], probe.valid(out, tag)
                lengths = valid.sum(axis=1)
                if (lengths == 0).any():
                    i = int(np.argmax(lengths == 0))
                    raise ValueError(
                        "probe sequence %d has no valid step for layer %r: its mask is "
                        "all padding; expected at least one real step per probe sequence"
                        % (i, tag.layer_name)
                    )
                probs = probabilities
                if probs is not None and probs.shape[1] != states.shape[1]:
                    probs = None  # the head runs on another time axis (e.g. pooled layers)
                tokens = self._tag_tokens(probe, out, tag, valid)
                states, probs, tokens = _valid_steps_first(valid, states, probs, tokens)
                record = RecordFields(
                    states,
                    probs,
                    tokens=tokens,
                    lengths=lengths,
                    labels=self.probe_labels,
                    class_names=self.class_names,
                    precision=self.precision,
                )
                summary_lib.write_fields(
                    tag.name,
                    record,
                    step=step,
                    description=self.description or tag.description(
                        self._num_probes, probs is not None, self.probability_fn is not None
                    ),
                )
        self._writer.flush()
        self._last_step = step

    def _probabilities(self, probe, out):
        if self.probability_fn is None:
            return None if probe.head is None else out[probe.head]
        top_states = out[probe.top_states]
        result = self.probability_fn(top_states)
        if result is None:
            return None
        result = np.asarray(getattr(result, "numpy", lambda: result)(), dtype=np.float32)
        expected = top_states.shape[:2]
        if result.ndim != 3 or result.shape[:2] != expected:
            raise ValueError(
                "`probability_fn` returned shape %s for top states of shape %s; expected "
                "[N, T, C] = (%d, %d, C) probabilities (C=1 for a sigmoid), or None"
                % (tuple(result.shape), tuple(top_states.shape), expected[0], expected[1])
            )
        return result

    def _tag_tokens(self, probe, out, tag, valid):
        """The [N, T] token strings of a tag, in input order; computed once (inputs are fixed)."""
        if tag.name not in self._tokens:
            self._tokens[tag.name] = probe.tokens(out, tag, valid, self.vocabulary)
        return self._tokens[tag.name]


# The probe pass ----------------------------------------------------------


class _Tag:
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
            what, type(layer).__name__, layer.name, _units(inner), num_probes)
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


class _ProbePass:
    """A multi-output model over `model.inputs` giving every logged array; built once per model."""

    def __init__(self, model, *, layers, cell_states, derive_head, probe_inputs, vocabulary):
        graph = _functional_graph(model, probe_inputs)
        _check_probe_shapes(probe_inputs, graph.inputs)
        recurrent = _recurrent_layers(graph)
        chosen = _choose_layers(layers, recurrent, model)
        stateful = [l.name for l in recurrent if getattr(l, "stateful", False)
                    or getattr(getattr(l, "forward_layer", None), "stateful", False)]
        if stateful:
            raise ValueError(
                "recurrent layers %s are stateful; HiddenStateCallback supports stateless "
                "recurrent layers only (a probe pass would overwrite the states that "
                "training carries from batch to batch)" % stateful)
        top, chain, head_error = _find_head(graph, recurrent)
        if derive_head and head_error:
            raise ValueError(
                "HiddenStateCallback cannot derive per-step class probabilities for model "
                "%r: %s. Pass `probability_fn=f`, where f maps the top recurrent layer's "
                "per-step outputs, a float32 array [N, T, H], to probabilities [N, T, C] "
                "(or returns None to log hidden states only)." % (model.name, head_error)
            )
        outputs = []

        def add(tensor):
            outputs.append(tensor)
            return len(outputs) - 1

        self.tags = []
        top_input = None
        for layer in dict.fromkeys(chosen + ([top] if top is not None else [])):
            node = _node_in(graph, layer)
            want_cell = cell_states and _has_lstm_cell(layer)
            states, cells, merged, mask = _per_step_tensors(layer, node, want_cell)
            if layer is top:
                top_input = merged
            if layer not in chosen:
                continue
            mask_index = None if mask is None else add(mask)
            self.tags.append(_Tag(layer.name, layer, "hidden", add(states), mask_index))
            if cells is not None:
                self.tags.append(_Tag(layer.name + "/cell", layer, "cell", add(cells), mask_index))

        self.head = self.top_states = None
        if derive_head:
            self.head = add(_PerStepHead(chain, name="tb_rnn_hidden_head")(top_input))
        else:
            self.top_states = add(top_input)

        self.ids = None  # output index of token ids, or "inputs"
        self.vocabulary = None  # from a TextVectorization layer of the model
        self._ids_from_inputs = None
        vectorizer = next(
            (l for l in graph.layers if isinstance(l, keras.layers.TextVectorization)
             and l.get_config().get("output_mode") == "int"),
            None,
        )
        if vectorizer is not None:
            self.ids = add(_node_in(graph, vectorizer).output_tensors[0])
            self.vocabulary = list(vectorizer.get_vocabulary())
        elif isinstance(probe_inputs, np.ndarray) and probe_inputs.dtype.kind in "iu" \
                and probe_inputs.ndim == 2:
            self.ids = "inputs"
            self._ids_from_inputs = probe_inputs
        elif vocabulary is not None:
            raise ValueError(
                "`vocabulary` was given, but the probe inputs are not token ids: expected an "
                "integer array [N, T] or a model with a TextVectorization layer; got %s"
                % _describe(probe_inputs)
            )

        # The model's own input structure (a single tensor, list or dict), so
        # that the probe inputs are passed exactly as to `model(...)`.
        inputs = getattr(graph, "_inputs_struct", graph.inputs)
        self._model = keras.Model(inputs, outputs, name="tb_rnn_hidden_probe")
        self._fn = tf.function(self._forward, reduce_retracing=True)

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


# Per-step states ---------------------------------------------------------


class _HiddenAndCell(keras.layers.Layer):
    """An LSTM cell whose output is concat(h, c), so that an RNN returns cell states at every step.

    Wraps the model's own, built cell: same variables, same maths."""

    def __init__(self, cell, **kwargs):
        super().__init__(dtype=cell.dtype_policy, **kwargs)
        self.cell = cell
        self.state_size = cell.state_size
        self.output_size = 2 * cell.units

    def build(self, input_shape):
        self.built = True

    def get_initial_state(self, batch_size=None):
        return self.cell.get_initial_state(batch_size=batch_size)

    def call(self, inputs, states, training=False):
        h, new_states = self.cell(inputs, states, training=training)
        return keras.ops.concatenate([h, new_states[1]], axis=-1), new_states


def _sequence_rnn(layer, want_cell):
    """A return_sequences=True RNN over `layer`'s own cell (shared, built: no new variables)."""
    cell = _HiddenAndCell(layer.cell) if want_cell else layer.cell
    return keras.layers.RNN(
        cell,
        return_sequences=True,
        go_backwards=layer.go_backwards,
        unroll=layer.unroll,
        dtype=layer.dtype_policy,
        name="tb_rnn_hidden_%s" % layer.name,
    )


class _PerStepStates(keras.layers.Layer):
    """Replays one recurrent layer (plain or Bidirectional) with every step returned.

    Called with the layer's own recorded inputs (sequences, mask, initial
    state). Returns (states, merged), or (states, cells, merged) with
    `want_cell`: states are aligned with the input steps ([forward, backward]
    for Bidirectional), cells are the LSTM cell states, merged is what the
    layer would output at each step (Bidirectional merge_mode applied), the
    input of the probability head.
    """

    def __init__(self, layer, want_cell, **kwargs):
        super().__init__(dtype=layer.dtype_policy, name="tb_rnn_hidden_steps_" + layer.name,
                         **kwargs)
        self.supports_masking = True  # the mask is an explicit argument
        self._want_cell = want_cell
        if isinstance(layer, keras.layers.Bidirectional):
            self._forward = _sequence_rnn(layer.forward_layer, want_cell)
            self._backward = _sequence_rnn(layer.backward_layer, want_cell)
            self._merge_mode = layer.merge_mode
        else:
            self._forward = _sequence_rnn(layer, want_cell)
            self._backward = None
            self._flip = layer.go_backwards

    def _split(self, y):
        if not self._want_cell:
            return y, None
        units = y.shape[-1] // 2
        return y[..., :units], y[..., units:]

    def call(self, sequences, initial_state=None, mask=None):
        if self._backward is None:
            y = self._forward(sequences, initial_state=initial_state, mask=mask)
            if self._flip:  # outputs come in processing order; align them with the input
                y = keras.ops.flip(y, axis=1)
            h, c = self._split(y)
            return (h, h) if c is None else (h, c, h)
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        # As keras.layers.Bidirectional: the backward outputs are flipped back.
        hf, cf = self._split(self._forward(sequences, initial_state=forward_state, mask=mask))
        y_rev = self._backward(sequences, initial_state=backward_state, mask=mask)
        hb, cb = self._split(keras.ops.flip(y_rev, axis=1))
        states = keras.ops.concatenate([hf, hb], axis=-1)
        merged = {
            "sum": lambda: hf + hb,
            "ave": lambda: (hf + hb) / 2,
            "mul": lambda: hf * hb,
        }.get(self._merge_mode, lambda: states)()
        if cf is None:
            return states, merged
        return states, keras.ops.concatenate([cf, cb], axis=-1), merged


def _per_step_tensors(layer, node, want_cell):
    """KerasTensors (states, cells or None, merged, mask or None) of one recurrent layer's node."""
    args = node.arguments.args
    kwargs = {k: v for k, v in node.arguments.kwargs.items() if k != "training"}
    mask = kwargs.get("mask")
    if isinstance(mask, (list, tuple)):
        mask = mask[0] if mask else None
    mask = mask if isinstance(mask, keras.KerasTensor) else None
    bidirectional = isinstance(layer, keras.layers.Bidirectional)
    reusable = (
        layer.return_sequences
        and not want_cell
        and not getattr(layer, "go_backwards", False)
        and (not bidirectional or layer.merge_mode == "concat")
    )
    if reusable:  # the layer already outputs every step: reuse it, run nothing twice
        output = node.output_tensors[0]
        return output, None, output, mask
    results = _PerStepStates(layer, want_cell)(*args, **kwargs)
    if want_cell:
        states, cells, merged = results
    else:
        (states, merged), cells = results, None
    return states, cells, merged, mask


# The probability head ----------------------------------------------------


class _PerStepHead(keras.layers.Layer):
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


def _find_head(graph, recurrent):
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
        op, node_index, tensor_index = tensor._keras_history
        if op is None or isinstance(op, keras.layers.InputLayer):
            return fallback_top, None, "no recurrent layer leads to its output"
        if op in recurrent:
            break
        node = op._inbound_nodes[node_index]
        data = node.arguments.args[0] if node.arguments.args else None
        extra = [t for t in node.input_tensors if t is not data
                 and t is not node.arguments.kwargs.get("mask")]
        if not isinstance(data, keras.KerasTensor) or extra:
            return fallback_top, None, (
                "%s has several inputs; the layers after the top recurrent layer must be a "
                "chain of per-step layers" % _op_name(op))
        chain.append((op, node, data))
        tensor = data
    top = op
    if tensor_index != 0:
        return top, None, (
            "its head reads state #%d returned by recurrent layer %r, not its output"
            % (tensor_index, top.name))
    chain.reverse()
    steps = []
    for op, node, data in chain:
        if _is_last_step_slice(op, node, data):
            steps.append((None, False))
            continue
        if not isinstance(op, _PER_STEP):
            how = ("combines all steps into one" if _is_over_time(op) else
                   "is not known to act on each step on its own")
            return top, None, (
                "%s after recurrent layer %r %s, so it cannot be applied step by step"
                % (_op_name(op), top.name, how))
        if len(data.shape) not in (2, 3) or (len(data.shape) == 3 and _mixes_steps(op)):
            return top, None, "%s after recurrent layer %r mixes steps" % (_op_name(op), top.name)
        steps.append((op, len(data.shape) == 2))
    error = _check_probability_output([op for op, _ in steps if op is not None], graph, top)
    return top, (None if error else steps), error


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
                % (_op_name(last), activation or type(inner).__name__))
    classes = graph.outputs[0].shape[-1]
    if activation == "sigmoid" and classes != 1:
        return ("its sigmoid output has %s units: independent per-class probabilities "
                "(multi-label) are not one class distribution; expected 1 sigmoid unit "
                "or a softmax" % classes)
    return None


def _is_last_step_slice(op, node, data):
    """`x[:, -1]` on [N, T, H] recurrent outputs: per step, the step itself."""
    if type(op).__name__ != "GetItem" or len(data.shape) != 3 or len(node.arguments.args) < 2:
        return False
    key = node.arguments.args[1]
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


# Model inspection --------------------------------------------------------


def _functional_graph(model, probe_inputs):
    """The Functional graph of a Sequential or functional model; ValueError otherwise."""
    if model is None:
        raise ValueError("HiddenStateCallback has no model: use it in model.fit(callbacks=[...])")
    if isinstance(model, keras.Sequential):
        if model._functional is None:
            _build_sequential(model, probe_inputs)
        graph = model._functional
    else:
        graph = model
    if graph is None or not hasattr(graph, "_nodes") or not getattr(graph, "inputs", None):
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
        if model._functional is not None:
            return
    raise ValueError(
        "Sequential model %r has no Input and could not be built for probe inputs of shape "
        "%s (%s); expected a model that starts with keras.Input(shape=...)"
        % (model.name, shape, error or "Keras could not infer its shapes"))


def _model_key(model):
    """Identifies a model and its layers: the probe pass is rebuilt when this changes."""
    return id(model), tuple(id(layer) for layer in getattr(model, "layers", ()))


def _is_recurrent(layer):
    return isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)) and not isinstance(
        layer, _CONV_RNN) and not (isinstance(layer, keras.layers.Bidirectional)
                                   and isinstance(layer.forward_layer, _CONV_RNN))


def _recurrent_layers(graph):
    return [layer for layer in graph.layers if _is_recurrent(layer)]


def _choose_layers(layers, recurrent, model):
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


def _node_in(graph, layer):
    """The single node of `layer` that belongs to `graph`."""
    nodes = [
        node for i, node in enumerate(layer._inbound_nodes)
        if "%d_ib-%d" % (id(layer), i) in graph._nodes
    ]
    if len(nodes) != 1:
        raise ValueError(
            "layer %r is called %d times in the model; expected a layer called once, "
            "so that its input is one sequence" % (layer.name, len(nodes)))
    return nodes[0]


def _has_lstm_cell(layer):
    inner = layer.forward_layer if isinstance(layer, keras.layers.Bidirectional) else layer
    return isinstance(inner.cell, keras.layers.LSTMCell)


def _units(layer):
    return getattr(layer, "units", None) or getattr(layer.cell, "units", "?")


def _op_name(op):
    return "layer %r (%s)" % (getattr(op, "name", "?"), type(op).__name__)


# Argument validation -----------------------------------------------------


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError("`%s` is %r; expected a positive integer" % (name, value))
    return int(value)


def _describe(inputs):
    if isinstance(inputs, np.ndarray):
        return "a %s array of shape %s" % (inputs.dtype, inputs.shape)
    return "a %s" % type(inputs).__name__


def _probe_arrays(probe_inputs):
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


def _check_probe_shapes(probe_inputs, model_inputs):
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


def _labels(labels, n):
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


def _layer_refs(layers):
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


def _vocabulary(vocabulary):
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


# Arrays --------------------------------------------------------------------


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


def _valid_steps_first(valid, *arrays):
    """Moves each row's valid steps to its front, in order (pre-padding becomes post-padding)."""
    n, t = valid.shape
    lengths = valid.sum(axis=1)
    if np.array_equal(valid, np.arange(t)[None, :] < lengths[:, None]):
        return arrays
    order = np.argsort(~valid, axis=1, kind="stable")
    moved = []
    for array in arrays:
        if array is None:
            moved.append(None)
            continue
        index = order.reshape(order.shape + (1,) * (array.ndim - 2))
        moved.append(np.take_along_axis(array, index, axis=1))
    return moved
