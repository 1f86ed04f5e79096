"""tb_rnn_hidden.torch against PyTorch's own nn.LSTM / nn.GRU / nn.RNN, and served back by the plugin."""

import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the optional [torch] extra")
from torch import nn  # noqa: E402
from torch.nn.utils import rnn as rnn_utils  # noqa: E402

from tb_rnn_hidden import writer as writer_lib  # noqa: E402
from tb_rnn_hidden.torch import log_hidden_states, per_step_states  # noqa: E402
from tests.support.checkpoints import valid_steps  # noqa: E402
from tests.support.paths import ROOT  # noqa: E402
from tests.support.plugin_client import PREFIX, get_json, make_client  # noqa: E402
N, T, F, H = 6, 7, 4, 5
LENGTHS = torch.tensor([7, 3, 5, 1, 7, 2])  # unsorted, with a length-1 sequence
ATOL = 1e-5

# (class, extra constructor arguments): every kind of recurrent module.
KINDS = {
    "lstm": (nn.LSTM, {}),
    "lstm_proj": (nn.LSTM, {"proj_size": 3}),
    "gru": (nn.GRU, {}),
    "rnn_tanh": (nn.RNN, {}),
    "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
}


def make_rnn(kind, num_layers=3, bidirectional=True, batch_first=True, seed=0, **extra):
    cls, kwargs = KINDS[kind]
    torch.manual_seed(seed)
    return cls(
        F, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
        **kwargs, **extra,
    ).eval()


def copy_rnn(rnn, num_layers=None, batch_first=None):
    """A module of rnn's kind holding its first `num_layers` layers' weights."""
    if rnn.mode == "LSTM":
        kwargs = {"proj_size": rnn.proj_size}
    else:
        kwargs = {"nonlinearity": "relu"} if rnn.mode == "RNN_RELU" else {}
    other = type(rnn)(
        F, H, num_layers=num_layers or rnn.num_layers, bidirectional=rnn.bidirectional,
        batch_first=rnn.batch_first if batch_first is None else batch_first, **kwargs,
    ).eval()
    with torch.no_grad():
        for name, parameter in other.named_parameters():
            parameter.copy_(getattr(rnn, name))
    return other


def make_inputs(seed=1, n=N, t=T):
    return torch.randn(n, t, F, generator=torch.Generator().manual_seed(seed))


def valid_mask(lengths, t=T):
    return torch.arange(t)[None, :] < lengths[:, None]


def module_output(rnn, x, lengths, hx=None):
    """rnn's own output [N, T, D*H_out] batch-first (zero padded) and final state, on packed x."""
    xi = x if rnn.batch_first else x.transpose(0, 1)
    packed = rnn_utils.pack_padded_sequence(
        xi, lengths, batch_first=rnn.batch_first, enforce_sorted=False
    )
    with torch.no_grad():
        output, final = rnn(packed, hx)
    output, _ = rnn_utils.pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
    return output, final


def make_hx(rnn, n=N, seed=2):
    g = torch.Generator().manual_seed(seed)
    d = 2 if rnn.bidirectional else 1
    h0 = torch.randn(rnn.num_layers * d, n, rnn.proj_size or H, generator=g)
    if rnn.mode == "LSTM":
        return h0, torch.randn(rnn.num_layers * d, n, H, generator=g)
    return h0


# ----------------------------------------------------------------------------
# per_step_states against the modules' own outputs


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("with_hx", [False, True])
def test_every_layer_matches_pytorch(kind, bidirectional, with_hx):
    rnn = make_rnn(kind, bidirectional=bidirectional)
    x = make_inputs()
    hx = make_hx(rnn) if with_hx else None
    states = per_step_states(rnn, x, LENGTHS, hx)
    d, h_out = (2 if bidirectional else 1), rnn.proj_size or H
    mask = valid_mask(LENGTHS)
    assert len(states.hidden) == 3 and states.cell is None
    assert torch.equal(states.lengths, LENGTHS)

    output, final = module_output(rnn, x, LENGTHS, hx)
    h_n = final[0] if rnn.mode == "LSTM" else final
    torch.testing.assert_close(states.top[mask], output[mask], atol=ATOL, rtol=0)
    for layer, hidden in enumerate(states.hidden):
        assert hidden.shape == (N, T, d * h_out)
        # Layer l is the top layer of the same module cut to l + 1 layers.
        if layer < 2:
            cut = copy_rnn(rnn, num_layers=layer + 1)
            cut_hx = None
            if hx is not None:
                rows = slice(0, (layer + 1) * d)
                cut_hx = (hx[0][rows], hx[1][rows]) if rnn.mode == "LSTM" else hx[rows]
            expected, _ = module_output(cut, x, LENGTHS, cut_hx)
            torch.testing.assert_close(hidden[mask], expected[mask], atol=ATOL, rtol=0)
        # Forward direction: last valid step is h_n; backward: step 0 is h_n.
        last = hidden[torch.arange(N), LENGTHS - 1]
        torch.testing.assert_close(last[:, :h_out], h_n[layer * d], atol=ATOL, rtol=0)
        if bidirectional:
            torch.testing.assert_close(hidden[:, 0, h_out:], h_n[layer * d + 1], atol=ATOL, rtol=0)


@pytest.mark.parametrize("kind", ["lstm", "lstm_proj", "gru"])
def test_batch_first_and_packed_inputs_give_the_same_states(kind):
    rnn = make_rnn(kind, num_layers=2, batch_first=True)
    time_major = copy_rnn(rnn, batch_first=False)
    x = make_inputs()
    cells = rnn.mode == "LSTM"
    reference = per_step_states(rnn, x, LENGTHS, cell_states=cells)
    mask = valid_mask(LENGTHS)

    def assert_same(states):
        assert torch.equal(states.lengths, LENGTHS)
        for got, want in zip(states.hidden + (states.cell or []),
                             reference.hidden + (reference.cell or [])):
            assert got.shape == want.shape
            torch.testing.assert_close(got[mask], want[mask], atol=ATOL, rtol=0)

    assert_same(per_step_states(time_major, x.transpose(0, 1), LENGTHS, cell_states=cells))
    for module, xi in ((rnn, x), (time_major, x.transpose(0, 1))):
        packed = rnn_utils.pack_padded_sequence(
            xi, LENGTHS, batch_first=module.batch_first, enforce_sorted=False
        )
        assert_same(per_step_states(module, packed, cell_states=cells))
        assert_same(per_step_states(module, packed, LENGTHS.tolist(), cell_states=cells))
    # A sorted PackedSequence, sequences in descending length order.
    order = torch.argsort(LENGTHS, descending=True)
    packed = rnn_utils.pack_padded_sequence(x[order], LENGTHS[order], batch_first=True)
    sorted_states = per_step_states(rnn, packed, cell_states=cells)
    torch.testing.assert_close(
        sorted_states.top[mask[order]], reference.top[order][mask[order]], atol=ATOL, rtol=0
    )


def test_without_lengths_every_step_is_valid_and_matches_the_module():
    rnn = make_rnn("lstm_proj", num_layers=2)
    x = make_inputs()
    states = per_step_states(rnn, x, cell_states=True)
    with torch.no_grad():
        output, (h_n, c_n) = rnn(x)
    assert torch.equal(states.lengths, torch.full([N], T))
    torch.testing.assert_close(states.top, output, atol=ATOL, rtol=0)
    torch.testing.assert_close(states.cell[1][:, -1, :H], c_n[2], atol=ATOL, rtol=0)
    torch.testing.assert_close(states.cell[1][:, 0, H:], c_n[3], atol=ATOL, rtol=0)
    # One unbatched sequence [T, F], as PyTorch accepts it.
    single = per_step_states(rnn, x[2])
    assert single.top.shape == (1, T, 6)
    torch.testing.assert_close(single.top[0], output[2], atol=ATOL, rtol=0)


def reference_lstm_cells(rnn, layer, direction, x, length, h, c):
    """Hidden and cell states of one sequence and direction: the LSTM equations, one step at a time."""
    suffix = "_l%d%s" % (layer, "_reverse" if direction else "")
    w = {k: getattr(rnn, k + suffix) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    hs, cs = {}, {}
    for t in (range(length) if direction == 0 else range(length - 1, -1, -1)):
        gates = w["weight_ih"] @ x[t] + w["bias_ih"] + w["weight_hh"] @ h + w["bias_hh"]
        i, f, g, o = gates.chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        if rnn.proj_size:
            h = getattr(rnn, "weight_hr" + suffix) @ h
        hs[t], cs[t] = h, c
    return hs, cs


@pytest.mark.parametrize("kind", ["lstm", "lstm_proj"])
def test_cell_states_at_every_step(kind):
    rnn = make_rnn(kind, num_layers=2, bidirectional=True, dropout=0.3)
    rnn.train()  # dropout applies in training only: the states are those of eval mode
    x = make_inputs()
    hx = make_hx(rnn)
    states = per_step_states(rnn, x, LENGTHS, hx, cell_states=True)
    assert rnn.training
    h_out = rnn.proj_size or H
    assert [c.shape for c in states.cell] == [(N, T, 2 * H)] * 2
    with torch.no_grad():
        for layer in range(2):
            layer_x = x if layer == 0 else states.hidden[layer - 1]
            for direction in range(2):
                row = 2 * layer + direction
                for i, length in enumerate(LENGTHS.tolist()):
                    hs, cs = reference_lstm_cells(
                        rnn, layer, direction, layer_x[i], length, hx[0][row, i], hx[1][row, i]
                    )
                    for t in range(length):
                        got_h = states.hidden[layer][i, t, direction * h_out:(direction + 1) * h_out]
                        got_c = states.cell[layer][i, t, direction * H:(direction + 1) * H]
                        torch.testing.assert_close(got_h, hs[t], atol=ATOL, rtol=0)
                        torch.testing.assert_close(got_c, cs[t], atol=ATOL, rtol=0)
    # And c_n of the module (in eval mode), the state at each direction's last step.
    rnn.eval()
    _, (_, c_n) = module_output(rnn, x, LENGTHS, hx)
    for layer, cell in enumerate(states.cell):
        last = cell[torch.arange(N), LENGTHS - 1]
        torch.testing.assert_close(last[:, :H], c_n[2 * layer], atol=ATOL, rtol=0)
        torch.testing.assert_close(cell[:, 0, H:], c_n[2 * layer + 1], atol=ATOL, rtol=0)


def test_invalid_arguments_raise_clear_errors():
    rnn = make_rnn("gru", num_layers=1)
    x = make_inputs()
    with pytest.raises(TypeError, match="expected an nn.LSTM, nn.GRU or nn.RNN"):
        per_step_states(nn.LSTMCell(F, H), x)
    with pytest.raises(ValueError, match="only an LSTM has cell states"):
        per_step_states(rnn, x, cell_states=True)
    with pytest.raises(ValueError, match=r"`lengths\[1\]` is 8; expected 1 <= length <= T=7"):
        per_step_states(rnn, x, [7, 8, 1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"`lengths\[0\]` is 0"):
        per_step_states(rnn, x, [0, 1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"`lengths` has shape \(2,\); expected \(6,\)"):
        per_step_states(rnn, x, [1, 2])
    with pytest.raises(ValueError, match="expected input_size=4"):
        per_step_states(rnn, torch.zeros(2, 3, 5))
    packed = rnn_utils.pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    with pytest.raises(ValueError, match="pass one or the other"):
        per_step_states(rnn, packed, [7] * N)
    with pytest.raises(ValueError, match=r"`hx`'s hidden state has shape"):
        per_step_states(rnn, x, hx=torch.zeros(1, N, H))
    with pytest.raises(ValueError, match=r"expected \(h0, c0\) for an LSTM"):
        per_step_states(make_rnn("lstm", num_layers=1), x, hx=torch.zeros(2, N, H))
    with pytest.raises(ValueError, match=r"`hx`'s cell state has shape"):
        per_step_states(
            make_rnn("lstm", num_layers=1), x, hx=(torch.zeros(2, N, H), torch.zeros(2, N, 3))
        )


# ----------------------------------------------------------------------------
# log_hidden_states, read back through TensorBoard's data provider and the plugin


def get_array(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    shape = tuple(int(d) for d in response.headers["X-Array-Shape"].split(","))
    dtype = np.dtype(response.headers["X-Array-Dtype"]).newbyteorder("<")
    return np.frombuffer(response.get_data(), dtype=dtype).reshape(shape)


class Head(nn.Module):
    """An output head with dropout, so that eval mode matters."""

    def __init__(self, features, classes):
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.linear = nn.Linear(features, classes)

    def forward(self, x):
        return self.linear(self.dropout(x))


def make_writer(kind, logdir):
    if kind == "SummaryWriter":
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(logdir)
    return writer_lib.HiddenStateWriter(logdir)


@pytest.mark.parametrize(
    "writer_kind,precision",
    [("SummaryWriter", "float16"), ("HiddenStateWriter", "float32")],
)
def test_log_hidden_states_end_to_end(logdir, writer_kind, precision):
    rnn = make_rnn("lstm", num_layers=2, bidirectional=True, dropout=0.5)
    head = Head(2 * H, 3)
    rnn.train()
    head.train()
    head.linear.eval()  # a mixed-mode model: every submodule's mode is restored
    x = make_inputs()
    tokens = np.array([["w%d" % ((i + t) % 4) for t in range(T)] for i in range(N)], dtype=object)
    labels = np.array([0, 1, 2, 0, 1, 2])
    writer = make_writer(writer_kind, os.path.join(logdir, "run"))
    logged = {}
    for step in (0, 3):
        with torch.no_grad():
            for p in rnn.parameters():  # "training" between checkpoints
                p.add_(0.05)
        logged[step] = log_hidden_states(
            writer, rnn, x, step, lengths=LENGTHS, head=head, tokens=tokens, labels=labels,
            class_names=["a", "b", "c"], tag="enc", cell_states=True, precision=precision,
        )
        assert rnn.training and head.training and head.dropout.training
        assert not head.linear.training
    writer.close()

    client = make_client(logdir)
    tags = get_json(client, PREFIX + "/tags")["run"]
    assert sorted(tags) == ["enc/layer0", "enc/layer0/cell", "enc/layer1", "enc/layer1/cell"]
    for info in tags.values():
        assert info["steps"] == [0, 3]
    lengths = LENGTHS.numpy()
    head.eval()
    for step, states in logged.items():
        with torch.no_grad():
            expected_probabilities = torch.softmax(head(states.top), dim=-1).numpy()
        for layer in range(2):
            for suffix, arrays in (("", states.hidden), ("/cell", states.cell)):
                q = "?run=run&tag=enc/layer%d%s&step=%d" % (layer, suffix, step)
                info = get_json(client, PREFIX + "/sequences" + q)
                assert info["state_size"] == 2 * H
                assert info["lengths"] == lengths.tolist()
                assert info["labels"] == labels.tolist()
                assert info["class_names"] == ["a", "b", "c"]
                assert info["states_dtype"] == precision
                served = get_array(client, PREFIX + "/states" + q + "&dtype=float32")
                expected = valid_steps(arrays[layer].numpy(), lengths)
                np.testing.assert_array_equal(
                    served, expected.astype(precision).astype(np.float32)
                )
                probabilities = get_array(client, PREFIX + "/probabilities" + q)
                np.testing.assert_allclose(
                    probabilities, valid_steps(expected_probabilities, lengths), atol=1e-6
                )
                vocabulary = info["vocabulary"]
                ids = get_array(client, PREFIX + "/tokens" + q)
                assert [vocabulary[i] for i in ids] == list(valid_steps(tokens, lengths))
    # The logged states are the module's (in eval mode) at the last parameters.
    rnn.eval()
    output, _ = module_output(rnn, x, LENGTHS)
    mask = valid_mask(LENGTHS)
    torch.testing.assert_close(logged[3].top[mask], output[mask], atol=ATOL, rtol=0)


def test_head_outputs_probabilities_sigmoid_and_explicit_probabilities(logdir):
    rnn = make_rnn("gru", num_layers=1, bidirectional=False)
    x = make_inputs()
    softmax_head = nn.Sequential(nn.Linear(H, 2), nn.Softmax(dim=-1))
    sigmoid_logit_head = nn.Linear(H, 1)
    with writer_lib.HiddenStateWriter(os.path.join(logdir, "run")) as writer:
        states = log_hidden_states(
            writer, rnn, x, 0, lengths=LENGTHS, head=softmax_head,
            head_outputs="probabilities", tag="a", precision="float32",
        )
        with pytest.warns(UserWarning, match="head_outputs='probabilities'"):
            log_hidden_states(writer, rnn, x, 0, lengths=LENGTHS, head=softmax_head, tag="b")
        log_hidden_states(writer, rnn, x, 0, lengths=LENGTHS, head=sigmoid_logit_head, tag="c")
        given = np.full((N, T, 4), 0.25, dtype=np.float32)
        log_hidden_states(writer, rnn, x, 0, lengths=LENGTHS, probabilities=given, tag="d")
        with pytest.raises(ValueError, match="at most one"):
            log_hidden_states(writer, rnn, x, 1, head=softmax_head, probabilities=given)
        with pytest.raises(ValueError, match="head_outputs"):
            log_hidden_states(writer, rnn, x, 1, head=softmax_head, head_outputs="probs")
        with pytest.raises(ValueError, match="expected \\[N=6, T=7, C\\]"):
            log_hidden_states(writer, rnn, x, 1, head=lambda top: top[:, 0])
        with pytest.raises(TypeError, match="SummaryWriter or a tb_rnn_hidden"):
            log_hidden_states(object(), rnn, x, 1)
    client = make_client(logdir)
    lengths = LENGTHS.numpy()
    with torch.no_grad():
        top = states.top
        expected = {
            "a": softmax_head(top).numpy(),
            "b": torch.softmax(softmax_head(top), dim=-1).numpy(),  # what was asked for
            "c": torch.cat([1 - torch.sigmoid(sigmoid_logit_head(top)),
                            torch.sigmoid(sigmoid_logit_head(top))], dim=-1).numpy(),
            "d": given,
        }
    for tag, probabilities in expected.items():
        q = "?run=run&tag=%s/layer0&step=0" % tag
        np.testing.assert_allclose(
            get_array(client, PREFIX + "/probabilities" + q),
            valid_steps(probabilities, lengths), atol=1e-6,
        )
    served = get_array(client, PREFIX + "/states?run=run&tag=a/layer0&step=0")
    np.testing.assert_array_equal(served, valid_steps(states.top.numpy(), lengths))


@pytest.mark.parametrize("writer_kind", ["SummaryWriter", "HiddenStateWriter"])
def test_annotations_are_logged_with_every_layer_and_checkpoint(logdir, writer_kind):
    """A trained sequence model (time-major, as nn.LSTM defaults) with a numeric tensor
    track and a categorical list track, batch-first [N, T] like the states."""
    rnn = make_rnn("lstm", num_layers=2, bidirectional=False, batch_first=False)
    head = nn.Linear(H, 2)
    x = make_inputs()  # [N, T, F]
    depth = torch.cumsum(torch.where(x[..., 0] > 0, 1, -1), dim=1)  # int64 [N, T]
    pos = [["NN" if v > 0 else "VB" for v in row] for row in x[..., 1].tolist()]
    optimizer = torch.optim.SGD(list(rnn.parameters()) + list(head.parameters()), lr=0.5)
    writer = make_writer(writer_kind, os.path.join(logdir, "run"))
    for step in (0, 1):
        if step:  # one training step between the checkpoints
            output, _ = rnn(x.transpose(0, 1))
            loss = nn.functional.cross_entropy(head(output[-1]), torch.tensor([0, 1] * 3))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        log_hidden_states(writer, rnn, x.transpose(0, 1), step, lengths=LENGTHS, head=head,
                          tag="enc", cell_states=True, annotations={"depth": depth, "pos": pos})
    writer.close()

    client = make_client(logdir)
    lengths = LENGTHS.numpy()
    expected_depth = valid_steps(depth.numpy(), lengths).astype(np.float32)
    expected_pos = list(valid_steps(np.array(pos, dtype=object), lengths))
    for tag in ("enc/layer0", "enc/layer1", "enc/layer0/cell", "enc/layer1/cell"):
        for step in (0, 1):
            q = "?run=run&tag=%s&step=%d" % (tag, step)
            info = get_json(client, PREFIX + "/sequences" + q)
            assert info["annotations"] == [
                {"name": "depth", "kind": "numeric", "min": float(expected_depth.min()),
                 "max": float(expected_depth.max())},
                {"name": "pos", "kind": "categorical", "categories": ["NN", "VB"]},
            ]
            np.testing.assert_array_equal(
                get_array(client, PREFIX + "/annotations" + q + "&name=depth"), expected_depth)
            codes = get_array(client, PREFIX + "/annotations" + q + "&name=pos")
            assert [["NN", "VB"][c] for c in codes] == expected_pos


def test_annotations_of_other_steps_than_the_inputs_are_refused_before_writing(logdir):
    rnn = make_rnn("gru", num_layers=2, bidirectional=False)
    with writer_lib.HiddenStateWriter(os.path.join(logdir, "run")) as writer:
        with pytest.raises(ValueError, match=r"`annotations\['depth'\]` has shape \(6, 6\); "
                                             r"expected \(6, 7\)"):
            log_hidden_states(writer, rnn, make_inputs(), 0, lengths=LENGTHS,
                              annotations={"depth": np.zeros((N, T - 1))})
    assert get_json(make_client(logdir), PREFIX + "/tags") == {}


def test_import_without_pytorch_says_how_to_install():
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # as if PyTorch were not installed\n"
        "import tb_rnn_hidden.summary, tb_rnn_hidden.writer  # these need no PyTorch\n"
        "import tb_rnn_hidden.torch\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert "ImportError: tb_rnn_hidden.torch needs PyTorch, which could not be imported" in result.stderr
    assert "pip install tb-rnn-hidden[torch]" in result.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
