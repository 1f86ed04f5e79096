"""Per-step states: replaying a recurrent layer so that it returns every step.

A `keras.layers.RNN` with `return_sequences=True` is run over the layer's
own, already built cell(s), on the layer's own inputs (its mask and initial
state included). It reads the model's variables themselves: there are no
weight copies to refresh as training updates them, and the states are those
of the layer even when it returns only its last step.
"""

import keras

from tb_rnn_hidden.integrations import keras_internals

__all__ = ["per_step_tensors"]


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


class PerStepStates(keras.layers.Layer):
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


def per_step_tensors(layer, node, want_cell):
    """KerasTensors (states, cells or None, merged, mask or None) of one recurrent layer's node."""
    args = keras_internals.call_args(node)
    kwargs = {k: v for k, v in keras_internals.call_kwargs(node).items() if k != "training"}
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
        output = keras_internals.first_output(node)
        return output, None, output, mask
    results = PerStepStates(layer, want_cell)(*args, **kwargs)
    if want_cell:
        states, cells, merged = results
    else:
        (states, merged), cells = results, None
    return states, cells, merged, mask
