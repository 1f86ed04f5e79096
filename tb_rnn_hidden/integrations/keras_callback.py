"""Keras callback: log a model's recurrent hidden states at checkpoints during `fit`.

`HiddenStateCallback` replaces hand-rolled per-step extraction (a twin model
with `return_sequences=True`, a predict and a summary call per epoch): given
a Sequential or functional Keras 3 model (TF backend) and a probe set, it
writes, at every checkpoint and for every chosen recurrent layer, the hidden
state at every step, the model's per-step class probabilities, tokens,
lengths and labels with `summary.hidden_states`.

This module decides when to log and what each record holds. How the
per-step data is obtained, once per model (then cached), is in its
neighbours:

- `keras_steps`: every recurrent layer replayed over its own, already built
  cell(s) with `return_sequences=True`, on its own inputs: the model's
  variables themselves, every step, even for layers returning only the last.
- `keras_head`: the layers after the top recurrent layer (a chain of
  per-step layers ending in softmax or sigmoid) applied to every step.
- `keras_probe`: everything in one multi-output Keras model, run as one
  `tf.function` call per batch of the probe set: one pass per checkpoint.
- `keras_graph` reads the model's layer graph; `keras_arguments` checks the
  arguments; `keras_internals` holds every private Keras API all of them use.
"""

import numpy as np
import keras
import tensorflow as tf

from tb_rnn_hidden.integrations.keras_arguments import (
    class_names_and_labels,
    layer_refs,
    positive_int,
    probe_annotations,
    probe_arrays,
    token_vocabulary,
)
from tb_rnn_hidden.integrations.keras_graph import model_key
from tb_rnn_hidden.integrations.keras_probe import ProbePass
from tb_rnn_hidden.records import fields
from tb_rnn_hidden.records import summary as summary_lib
from tb_rnn_hidden.records.fields import RecordFields

__all__ = ["HiddenStateCallback"]


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
      - annotation tracks, as given (`annotations`), moved with the valid steps
        like tokens.

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
      annotations: Optional per-step annotation tracks of the probe set,
        {name: [N, T] array} with T the probe inputs' steps (input order, like
        the inputs), e.g. {"depth": depth}: strings are a categorical track,
        numbers a numeric one (see `summary.hidden_states`). Logged with every
        checkpoint and layer.

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
        annotations=None,
    ):
        super().__init__()
        self.log_dir = log_dir
        self.probe_inputs, self._num_probes = probe_arrays(probe_inputs)
        self.class_names, self.probe_labels = class_names_and_labels(
            class_names, probe_labels, self._num_probes
        )
        self.layers = layer_refs(layers)
        self.vocabulary = token_vocabulary(vocabulary)
        self.every_n_epochs = positive_int("every_n_epochs", every_n_epochs)
        self.every_n_batches = (
            None if every_n_batches is None else positive_int("every_n_batches", every_n_batches)
        )
        if probability_fn is not None and not callable(probability_fn):
            raise ValueError(
                "`probability_fn` is %r; expected a callable mapping [N, T, H] "
                "states to [N, T, C] probabilities" % (probability_fn,)
            )
        self.probability_fn = probability_fn
        self.cell_states = bool(cell_states)
        self.precision = fields.check_precision(precision)
        self.description = fields.check_description(description)
        self.batch_size = positive_int("batch_size", batch_size)
        self.annotations = probe_annotations(annotations, self._num_probes)

        self._writer = None
        self._probe = None  # ProbePass, built for one model
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
        if self._probe is None or model_key(model) != self._probe_key:
            self._probe = ProbePass(
                model,
                layers=self.layers,
                cell_states=self.cell_states,
                derive_head=self.probability_fn is None,
                probe_inputs=self.probe_inputs,
                vocabulary=self.vocabulary,
            )
            self._probe_key = model_key(model)  # after any build by ProbePass
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
                tracks = self._tag_annotations(tag, states.shape[1])
                states, probs, tokens, *values = _valid_steps_first(
                    valid, states, probs, tokens, *tracks.values()
                )
                record = RecordFields(
                    states,
                    probs,
                    tokens=tokens,
                    lengths=lengths,
                    labels=self.probe_labels,
                    class_names=self.class_names,
                    precision=self.precision,
                    annotations=dict(zip(tracks, values)) or None,
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

    def _tag_annotations(self, tag, num_steps):
        """The annotation tracks for a layer of `num_steps` steps; ValueError if they have
        another number of steps."""
        for name, track in self.annotations.items():
            if track.shape[1] != num_steps:
                raise ValueError(
                    "`%s` has %d steps but layer %r has %d; expected one value per step of "
                    "the recurrent layer" % (fields.annotation_label(name), track.shape[1],
                                            tag.layer_name, num_steps)
                )
        return self.annotations

    def _tag_tokens(self, probe, out, tag, valid):
        """The [N, T] token strings of a tag, in input order; computed once (inputs are fixed)."""
        if tag.name not in self._tokens:
            self._tokens[tag.name] = probe.tokens(out, tag, valid, self.vocabulary)
        return self._tokens[tag.name]


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
