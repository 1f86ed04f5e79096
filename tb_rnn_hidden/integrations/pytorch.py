"""PyTorch helpers: the hidden state of every layer of an nn.LSTM / nn.GRU / nn.RNN at every step.

PyTorch's recurrent modules return the per-step outputs of the top layer
only, and the final state (`h_n`, `c_n`) of the others. `per_step_states`
recovers every layer's state at every step by running each layer on its own:
a one-layer module of the same type holding the l-th layer's parameters,
applied to the previous layer's per-step outputs, packed by `lengths` so that
the backward direction starts at each sequence's last valid step. LSTM cell
states come from the same weights: the gates of every step, batched, from each
layer's input and outputs, then the cell recurrence step by step.
`log_hidden_states` logs them, one tag per layer, to PyTorch's
`SummaryWriter` or to `tb_rnn_hidden.writer.HiddenStateWriter`:

    from torch.utils.tensorboard import SummaryWriter
    from tb_rnn_hidden.torch import log_hidden_states

    writer = SummaryWriter("runs/exp1")
    for epoch in range(epochs + 1):
        if epoch:  # epoch 0 logs the untrained model
            train_one_epoch(model)
        log_hidden_states(writer, model.lstm, probe_x, epoch,
                          lengths=probe_lengths, head=model.head, labels=probe_y)

The states are those of the module in evaluation mode: dropout between
layers (`nn.LSTM(dropout=...)`) is a training-time perturbation and is not
applied. Everything runs under `torch.no_grad()`.

This module needs PyTorch, the optional extra: `pip install tb-rnn-hidden[torch]`.
"""

import dataclasses
import re
import warnings
from typing import List, Optional

import numpy as np

try:
    import torch  # absolute import: PyTorch, not this module
    from torch import nn
    from torch.nn.utils import rnn as rnn_utils
except ImportError as e:
    raise ImportError(
        "tb_rnn_hidden.torch needs PyTorch, which could not be imported (%s). Install "
        "the optional extra: pip install tb-rnn-hidden[torch]" % e
    ) from e

from tb_rnn_hidden.records import fields
from tb_rnn_hidden.records import summary as summary_lib
from tb_rnn_hidden.records.fields import RecordFields

__all__ = ["LayerStates", "per_step_states", "log_hidden_states"]

_MODES = {
    "LSTM": (nn.LSTM, {}),
    "GRU": (nn.GRU, {}),
    "RNN_TANH": (nn.RNN, {"nonlinearity": "tanh"}),
    "RNN_RELU": (nn.RNN, {"nonlinearity": "relu"}),
}
_HEAD_OUTPUTS = ("logits", "probabilities")
# Steps whose LSTM gates are computed at once for the cell states (bounds memory).
_CELL_CHUNK = 32


@dataclasses.dataclass(frozen=True)
class LayerStates:
    """Per-step states of every layer of a recurrent module, batch-first.

    Attributes:
      hidden: one tensor per layer (bottom first), [N, T, D * H_out]: the hidden
        state (the layer's output) at every step. D = 2 for a bidirectional
        module, [forward, backward] concatenated on the last axis as in
        PyTorch's `output`; H_out is `proj_size` for an LSTM with projections,
        else `hidden_size`. `hidden[-1]` is the module's `output`.
      cell: for an LSTM asked for cell states, one tensor per layer,
        [N, T, D * hidden_size]; else None.
      lengths: int64 [N] on the CPU, valid steps per sequence. Steps at and
        after `lengths[i]` are padding and hold unspecified values.
    """

    hidden: List["torch.Tensor"]
    cell: Optional[List["torch.Tensor"]]
    lengths: "torch.Tensor"

    @property
    def top(self):
        """The top layer's per-step outputs, [N, T, D * H_out]."""
        return self.hidden[-1]


def _check_module(rnn):
    if not isinstance(rnn, nn.RNNBase) or getattr(rnn, "mode", None) not in _MODES:
        raise TypeError(
            "`rnn` is %s; expected an nn.LSTM, nn.GRU or nn.RNN module" % type(rnn).__name__
        )
    _check_has_data("rnn", rnn.weight_ih_l0)


def _layer_module(rnn, layer):
    """A one-layer batch-first module of rnn's type, with a copy of layer `layer`'s parameters."""
    cls, extra = _MODES[rnn.mode]
    reference = rnn.weight_ih_l0
    h_out = rnn.proj_size or rnn.hidden_size
    kwargs = dict(
        input_size=rnn.input_size if layer == 0 else h_out * (2 if rnn.bidirectional else 1),
        hidden_size=rnn.hidden_size,
        num_layers=1,
        bias=rnn.bias,
        batch_first=True,
        bidirectional=rnn.bidirectional,
        **extra,
    )
    if rnn.mode == "LSTM":
        kwargs["proj_size"] = rnn.proj_size
    # Built on the meta device, so no time goes into a random initialisation
    # that the copy overwrites (nn.utils.skip_init refuses RNN modules).
    module = cls(device="meta", dtype=reference.dtype, **kwargs).to_empty(device=reference.device)
    for name, parameter in module.named_parameters():
        source = re.sub(r"_l0(?=_reverse$|$)", "_l%d" % layer, name)
        parameter.copy_(getattr(rnn, source))
    return module.eval()


def _as_lengths(lengths, n, t):
    """[N] lengths as CPU int64, by the record's rule (`fields.check_lengths`)."""
    try:
        shape = tuple(lengths.shape) if isinstance(lengths, torch.Tensor) else np.shape(lengths)
    except ValueError:  # ragged: fields.check_lengths says so
        shape = (n,)
    if len(shape) == 1 and shape != (n,):
        raise ValueError("`lengths` has shape %s; expected (%d,), one per sequence" % (shape, n))
    checked = fields.check_lengths(lengths, n, t, steps_of="`inputs`")
    return torch.from_numpy(checked).to(torch.int64)


def _check_has_data(name, tensor):
    """ValueError for a tensor on the meta device (shapes, no values)."""
    if isinstance(tensor, torch.Tensor) and tensor.is_meta:
        raise ValueError(
            "`%s` is on the meta device, which has no data; expected %s holding values (on "
            "the CPU or a GPU)" % (name, "parameters" if name == "rnn" else "a tensor")
        )


def _prepare_inputs(rnn, inputs, lengths, hx):
    """Batch-first padded inputs [N, T, F], lengths (CPU int64 or None), the
    first layer's input (a PackedSequence when there are lengths), hx."""
    reference = rnn.weight_ih_l0
    _check_has_data("inputs", getattr(inputs, "data", inputs))
    if isinstance(inputs, rnn_utils.PackedSequence):
        inputs = inputs.to(device=reference.device, dtype=reference.dtype)
        padded, packed_lengths = rnn_utils.pad_packed_sequence(inputs, batch_first=True)
        if lengths is not None:
            given = _as_lengths(lengths, padded.shape[0], padded.shape[1])
            if not torch.equal(given, packed_lengths):
                raise ValueError(
                    "`lengths` is %s but the PackedSequence `inputs` holds sequences of "
                    "lengths %s; pass one or the other"
                    % (given.tolist(), packed_lengths.tolist())
                )
        return padded, packed_lengths.to(torch.int64), inputs, hx
    if not isinstance(inputs, torch.Tensor):
        inputs = torch.as_tensor(inputs)
    inputs = inputs.detach().to(device=reference.device, dtype=reference.dtype)
    if inputs.dim() == 2:  # unbatched [T, F], as PyTorch accepts
        inputs = inputs.unsqueeze(0)
        if hx is not None:
            hx = tuple(h.unsqueeze(1) for h in hx) if isinstance(hx, tuple) else hx.unsqueeze(1)
    elif inputs.dim() != 3:
        raise ValueError(
            "`inputs` has shape %s; expected [N, T, F] (batch_first=True), [T, N, F] "
            "(batch_first=False), [T, F] (one sequence) or a PackedSequence"
            % (tuple(inputs.shape),)
        )
    elif not rnn.batch_first:
        inputs = inputs.transpose(0, 1)
    n, t, features = inputs.shape
    if features != rnn.input_size:
        raise ValueError(
            "`inputs` has %d features on its last axis; expected input_size=%d of %r"
            % (features, rnn.input_size, rnn)
        )
    if lengths is None:
        return inputs, None, inputs, hx
    lengths = _as_lengths(lengths, n, t)
    packed = rnn_utils.pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    return inputs, lengths, packed, hx


def _lstm_cells(rnn, layer, direction, x, hidden, lengths, h0, c0):
    """Cell states [N, T, H] of one direction of one LSTM layer.

    `x` [N, T, F] is the layer's input and `hidden` [N, T, H_out] that
    direction's per-step output, already computed by the layer itself, so the
    gates of all steps are batched matrix products (by chunks of steps, to
    bound memory); only the cell recurrence c_t = f_t * c_prev + i_t * g_t is
    a loop over steps (elementwise). The backward direction starts from `c0`
    at each sequence's last valid step. The products run in the parameters'
    dtype: on a GPU where cuDNN computes the LSTM in TF32 (PyTorch's default,
    torch.backends.cudnn.allow_tf32), cell states differ from cuDNN's own by
    TF32 rounding (~3e-4 measured on an H100; ~1e-7 with TF32 off).
    """
    suffix = "_l%d%s" % (layer, "_reverse" if direction else "")
    size = rnn.hidden_size
    n, t, _ = hidden.shape
    # PyTorch's gate order is input, forget, cell, output; c needs the first three.
    w_ih = getattr(rnn, "weight_ih" + suffix)[: 3 * size].T
    w_hh = getattr(rnn, "weight_hh" + suffix)[: 3 * size].T
    bias = None
    if rnn.bias:
        bias = (getattr(rnn, "bias_ih" + suffix) + getattr(rnn, "bias_hh" + suffix))[: 3 * size]
    lengths = lengths.to(hidden.device)
    cells = hidden.new_empty(n, t, size)
    c = c0
    starts = list(range(0, t, _CELL_CHUNK))
    for start in reversed(starts) if direction else starts:
        stop = min(start + _CELL_CHUNK, t)
        if direction == 0:  # the state before step s is the output at s - 1, or h0
            if start == 0:
                previous = torch.cat([h0.unsqueeze(1), hidden[:, : stop - 1]], dim=1)
            else:
                previous = hidden[:, start - 1 : stop - 1]
        else:  # the output at s + 1, or h0 at each sequence's last valid step
            following = hidden[:, start + 1 : stop + 1]
            if stop == t:
                following = torch.cat([following, h0.unsqueeze(1)], dim=1)
            steps = torch.arange(start, stop, device=hidden.device)
            next_valid = (steps[None, :] + 1) < lengths[:, None]  # [N, chunk]
            previous = torch.where(next_valid[..., None], following, h0.unsqueeze(1))
        gates = x[:, start:stop] @ w_ih
        gates += previous @ w_hh
        if bias is not None:
            gates += bias
        i, f, g = gates.split(size, dim=-1)
        f = torch.sigmoid(f)
        update = torch.sigmoid(i).mul_(torch.tanh(g))
        if direction == 0:
            for s in range(stop - start):
                c = torch.addcmul(update[:, s], f[:, s], c)
                cells[:, start + s] = c
        else:
            for s in range(stop - start - 1, -1, -1):
                c = torch.where(next_valid[:, s, None], c, c0)
                c = torch.addcmul(update[:, s], f[:, s], c)
                cells[:, start + s] = c
    return cells


@torch.no_grad()
def per_step_states(rnn, inputs, lengths=None, hx=None, *, cell_states=False):
    """The hidden state of every layer of `rnn` at every step of `inputs`.

    Args:
      rnn: an nn.LSTM, nn.GRU or nn.RNN: any num_layers, bidirectional or not,
        batch_first or not, LSTM proj_size. Its parameters are read, never changed;
        the module itself is not called, so its training mode does not matter.
      inputs: what `rnn` takes: [N, T, F] if rnn.batch_first else [T, N, F], an
        unbatched [T, F], or a PackedSequence (sorted or not). Moved to the
        parameters' device and dtype.
      lengths: optional [N] valid steps per sequence (valid steps first in each
        row); default T for all, or the PackedSequence's lengths.
      hx: optional initial state as `rnn` takes it: h0 [num_layers * D, N, H_out]
        ((h0, c0) for an LSTM), sequences in the order of `inputs`.
      cell_states: also return an LSTM's cell state at every step.

    Returns:
      LayerStates(hidden=[N, T, D * H_out] per layer, cell=[N, T, D * hidden_size]
      per layer or None, lengths=int64 [N]), batch-first whatever `rnn.batch_first`
      is, sequences in the order of `inputs`. The states are those of `rnn` in
      evaluation mode: dropout between layers is not applied.

    Raises:
      TypeError: `rnn` is not an nn.LSTM, nn.GRU or nn.RNN.
      ValueError: `inputs` or `lengths` do not fit, or cell states of a GRU/RNN.
    """
    _check_module(rnn)
    if cell_states and rnn.mode != "LSTM":
        raise ValueError(
            "`cell_states=True` but `rnn` is %s; only an LSTM has cell states"
            % type(rnn).__name__
        )
    if rnn.mode == "LSTM" and hx is not None and not (
        isinstance(hx, (tuple, list)) and len(hx) == 2
    ):
        raise ValueError("`hx` is %s; expected (h0, c0) for an LSTM" % type(hx).__name__)
    if rnn.mode != "LSTM" and hx is not None and not isinstance(hx, torch.Tensor):
        raise ValueError("`hx` is %s; expected a tensor h0" % type(hx).__name__)
    padded, lengths, layer_input, hx = _prepare_inputs(rnn, inputs, lengths, hx)
    n, t, _ = padded.shape
    directions = 2 if rnn.bidirectional else 1
    h_out = rnn.proj_size or rnn.hidden_size
    if rnn.mode == "LSTM":
        h0, c0 = hx if hx is not None else (None, None)
    else:
        h0, c0 = hx, None
    if h0 is None:
        h0 = padded.new_zeros(rnn.num_layers * directions, n, h_out)
    if c0 is None and rnn.mode == "LSTM":
        c0 = padded.new_zeros(rnn.num_layers * directions, n, rnn.hidden_size)
    for name, state, size in (("hidden", h0, h_out), ("cell", c0, rnn.hidden_size)):
        expected = (rnn.num_layers * directions, n, size)
        if state is not None and tuple(state.shape) != expected:
            raise ValueError(
                "`hx`'s %s state has shape %s; expected %s = [num_layers * D, N, %s]"
                % (name, tuple(state.shape), expected, "H_out" if name == "hidden" else "H")
            )
    h0 = h0.to(padded)
    c0 = c0.to(padded) if c0 is not None else None
    if lengths is None:
        lengths = torch.full([n], t, dtype=torch.int64)

    hidden, cells = [], [] if cell_states else None
    layer_x = padded  # the padded input of the current layer
    for layer in range(rnn.num_layers):
        rows = slice(layer * directions, (layer + 1) * directions)
        layer_hx = (h0[rows], c0[rows]) if rnn.mode == "LSTM" else h0[rows]
        output, _ = _layer_module(rnn, layer)(layer_input, layer_hx)
        if isinstance(output, rnn_utils.PackedSequence):
            layer_output, _ = rnn_utils.pad_packed_sequence(
                output, batch_first=True, total_length=t
            )
        else:
            layer_output = output
        hidden.append(layer_output)
        if cell_states:
            cells.append(
                torch.cat(
                    [
                        _lstm_cells(
                            rnn,
                            layer,
                            d,
                            layer_x,
                            layer_output[..., d * h_out : (d + 1) * h_out],
                            lengths,
                            h0[layer * directions + d],
                            c0[layer * directions + d],
                        )
                        for d in range(directions)
                    ],
                    dim=-1,
                )
            )
        layer_input = output
        layer_x = layer_output
    return LayerStates(hidden=hidden, cell=cells, lengths=lengths)


def _file_writer_add(writer):
    """A function (summary, step) writing to `writer`, a SummaryWriter or HiddenStateWriter."""
    if hasattr(writer, "_get_file_writer"):  # torch.utils.tensorboard.SummaryWriter
        file_writer = writer._get_file_writer()

        def add(summary, step):
            file_writer.add_summary(summary, global_step=step)

        return add, writer.flush
    if hasattr(writer, "add_summary"):  # HiddenStateWriter, or SummaryWriter's FileWriter
        return writer.add_summary, getattr(writer, "flush", lambda: None)
    raise TypeError(
        "`writer` is %s; expected a torch.utils.tensorboard.SummaryWriter or a "
        "tb_rnn_hidden.writer.HiddenStateWriter" % type(writer).__name__
    )


def _head_probabilities(head, top, lengths, head_outputs):
    n, t, _ = top.shape
    out = head(top)
    if not isinstance(out, torch.Tensor):
        raise ValueError(
            "`head` returned %s; expected a tensor [N, T, C]" % type(out).__name__
        )
    if out.dim() == 2 and tuple(out.shape) == (n, t):
        out = out.unsqueeze(-1)
    if out.dim() != 3 or tuple(out.shape[:2]) != (n, t):
        raise ValueError(
            "`head` maps the top layer's outputs %s to shape %s; expected [N=%d, T=%d, C]"
            % (tuple(top.shape), tuple(out.shape), n, t)
        )
    out = out.float()
    if head_outputs == "probabilities":
        return out
    if out.shape[-1] == 1:
        return torch.sigmoid(out)
    valid = torch.arange(t, device=out.device)[None, :] < lengths.to(out.device)[:, None]
    rows = out[valid]
    if ((rows >= 0) & (rows <= 1)).all() and (rows.sum(-1) - 1).abs().max() < 1e-3:
        warnings.warn(
            "`head` outputs already sum to 1 at every step, but head_outputs='logits' "
            "applies a softmax to them; pass head_outputs='probabilities' if the head "
            "ends with a softmax",
            stacklevel=3,
        )
    return torch.softmax(out, dim=-1)


def _describe(rnn, layer, cell):
    directions = 2 if rnn.bidirectional else 1
    size = rnn.hidden_size if cell else (rnn.proj_size or rnn.hidden_size)
    text = "%s state of layer %d of `%r` (layers 0..%d, 0 reads the input), at every step" % (
        "Cell" if cell else "Hidden", layer, rnn, rnn.num_layers - 1
    )
    if directions == 2:
        text += (
            ": units 0..%d are the forward direction, %d..%d the backward direction "
            "(which has read the sequence from its end)" % (size - 1, size, 2 * size - 1)
        )
    return text + "."


def log_hidden_states(
    writer,
    rnn,
    inputs,
    step,
    *,
    lengths=None,
    hx=None,
    head=None,
    head_outputs="logits",
    probabilities=None,
    tokens=None,
    labels=None,
    class_names=None,
    tag="rnn",
    cell_states=False,
    precision="float16",
    description=None,
    annotations=None,
):
    """Logs the per-step hidden state of every layer of `rnn` on a probe set, at `step`.

    Writes one checkpoint per layer under the tag `{tag}/layer{l}` (l = 0 is the
    bottom layer), and for an LSTM with `cell_states=True` also
    `{tag}/layer{l}/cell`. Call it once per checkpoint (e.g. every epoch, and
    before training for the untrained model).

    Args:
      writer: a `torch.utils.tensorboard.SummaryWriter` (flushed after writing) or
        a `tb_rnn_hidden.writer.HiddenStateWriter` (faster for large probe sets).
      rnn, inputs, lengths, hx: as in `per_step_states`.
      step: the checkpoint (e.g. the epoch); steps must increase within a tag.
      head: optional callable (e.g. the model's output nn.Module) mapping the top
        layer's per-step outputs [N, T, D * H_out] to [N, T, C] (or [N, T] for one
        sigmoid output): the model's prediction "if the sequence ended here".
        For a bidirectional `rnn` the backward half has read the whole sequence.
      head_outputs: "logits" (default: softmax is applied, or a sigmoid when C = 1;
        log-probabilities work too) or "probabilities" (used as they are).
      probabilities: optional [N, T, C] per-step probabilities, instead of `head`.
      tokens, labels, class_names, precision: as in `summary.hidden_states_pb`.
      tag: the prefix of the tags.
      cell_states: also log an LSTM's cell states.
      description: optional Markdown prepended to each layer's description.
      annotations: optional per-step annotation tracks {name: [N, T] array or
        tensor}, batch-first like the states, e.g. {"depth": depth}: strings are
        a categorical track, numbers a numeric one (see `summary.hidden_states`).
        Logged with every layer.

    Runs under `torch.no_grad()`, with `rnn` and `head` in evaluation mode; the
    training mode of every submodule is restored afterwards. Every record is
    encoded (and validated) before the first is written.

    Returns:
      The `LayerStates` that were logged.
    """
    add, flush = _file_writer_add(writer)
    step = fields.check_step(step)
    tag = fields.check_tag(tag)
    _check_module(rnn)
    # The longest tag this call writes, checked before any work.
    fields.check_tag("%s/layer%d%s" % (tag, rnn.num_layers - 1, "/cell" if cell_states else ""))
    if head_outputs not in _HEAD_OUTPUTS:
        raise ValueError(
            "`head_outputs` is %r; expected one of %s" % (head_outputs, list(_HEAD_OUTPUTS))
        )
    if head is not None and probabilities is not None:
        raise ValueError("both `head` and `probabilities` were given; expected at most one")
    _check_module(rnn)
    annotations = {  # converted once, checked with each layer's record
        name: fields.annotation_array(name, value)
        for name, value in fields.check_annotations(annotations).items()
    }
    modules = [rnn] + ([head] if isinstance(head, nn.Module) else [])
    saved = [(m, m.training) for module in modules for m in module.modules()]
    try:
        for module in modules:
            module.eval()
        with torch.no_grad():
            states = per_step_states(rnn, inputs, lengths, hx, cell_states=cell_states)
            if head is not None:
                probabilities = _head_probabilities(head, states.top, states.lengths, head_outputs)
    finally:
        for m, training in saved:
            m.training = training

    records = []
    for layer in range(rnn.num_layers):
        kinds = [("", states.hidden, False)]
        if cell_states:
            kinds.append(("/cell", states.cell, True))
        for suffix, arrays, cell in kinds:
            text = _describe(rnn, layer, cell)
            records.append(
                summary_lib.fields_pb(
                    "%s/layer%d%s" % (tag, layer, suffix),
                    RecordFields(
                        arrays[layer],
                        probabilities,
                        tokens=tokens,
                        lengths=states.lengths,
                        labels=labels,
                        class_names=class_names,
                        precision=precision,
                        annotations=annotations or None,
                    ),
                    description=text if description is None else description + "\n\n" + text,
                )
            )
    for record in records:
        add(record, step)
    flush()
    return states
