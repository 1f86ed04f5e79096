"""PyTorch example: a stacked LSTM classifies waveforms; every layer's hidden states logged every epoch.

    python demo/pytorch_example.py --logdir demo_logs            # train, log, serve
    python demo/pytorch_example.py --logdir demo_logs --no-serve

The data are generated numeric time series, offline, one value per step: a
noisy sine, square or sawtooth wave of random period, phase and amplitude,
cut to a random length (variable-length sequences, post-padded). A 2-layer
LSTM reads a sequence and classifies its waveform from the top layer's state
at the last valid step. The hidden and cell states of both layers on a probe
set are logged with `tb_rnn_hidden.torch.log_hidden_states` before training
(epoch 0) and after every epoch, with the per-step predictions of the output
head ("what the model would say if the sequence ended here").
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np

# torch.utils.tensorboard imports TensorFlow where it is installed: keep its logs quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CLASS_NAMES = ["sine", "square", "sawtooth"]


def make_waves(count, rng, min_length=12, max_length=40):
    """Values [count, max_length, 1] (post-padded with 0), lengths [count] and labels [count]."""
    values = np.zeros((count, max_length, 1), dtype=np.float32)
    lengths = rng.integers(min_length, max_length + 1, size=count)
    labels = rng.integers(len(CLASS_NAMES), size=count)
    for n in range(count):
        steps = np.arange(lengths[n])
        period = rng.uniform(5.0, 12.0)
        phase = (steps / period + rng.uniform()) % 1.0  # in [0, 1)
        if labels[n] == 0:
            wave = np.sin(2 * np.pi * phase)
        elif labels[n] == 1:
            wave = np.where(phase < 0.5, 1.0, -1.0)
        else:
            wave = 2.0 * phase - 1.0
        amplitude = rng.uniform(0.5, 1.5)
        values[n, : lengths[n], 0] = amplitude * wave + 0.15 * rng.standard_normal(lengths[n])
    return values, lengths.astype(np.int64), labels.astype(np.int64)


def build_model(units=32, layers=2):
    import torch
    from torch import nn

    class WaveClassifier(nn.Module):
        """LSTM stack + linear head on the top layer's state at the last valid step."""

        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, units, num_layers=layers, batch_first=True)
            self.head = nn.Linear(units, len(CLASS_NAMES))

        def forward(self, x, lengths):
            packed = nn.utils.rnn.pack_padded_sequence(
                x, lengths, batch_first=True, enforce_sorted=False
            )
            _, (h_n, _) = self.lstm(packed)
            return self.head(h_n[-1])  # logits

    return WaveClassifier()


def train_epoch(model, optimizer, data, batch_size, rng):
    import torch

    x, lengths, labels = data
    order = rng.permutation(len(x))
    model.train()
    for start in range(0, len(x), batch_size):
        batch = order[start : start + batch_size]
        loss = torch.nn.functional.cross_entropy(
            model(torch.from_numpy(x[batch]), torch.from_numpy(lengths[batch])),
            torch.from_numpy(labels[batch]),
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def accuracy(model, data):
    import torch

    x, lengths, labels = data
    model.eval()
    with torch.no_grad():
        predictions = model(torch.from_numpy(x), torch.from_numpy(lengths)).argmax(-1)
    return float((predictions.numpy() == labels).mean())


def make_experiment(seed=0, train_size=3000, probe_size=200):
    """Model, optimizer, training set and probe set, seeded (shared with bench/torch_bench.py)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = make_waves(train_size, rng)
    probe = make_waves(probe_size, rng)
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    return model, optimizer, train, probe, rng


def log_checkpoint(writer, model, probe, epoch):
    from tb_rnn_hidden.torch import log_hidden_states

    x, lengths, labels = probe
    log_hidden_states(
        writer,
        model.lstm,
        x,
        epoch,
        lengths=lengths,
        head=model.head,  # emits logits: softmax is applied (head_outputs="logits")
        labels=labels,
        class_names=CLASS_NAMES,
        tag="lstm",
        cell_states=True,
        description="2-layer LSTM(32) of the PyTorch waveform example, on %d probe series."
        % len(x),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="demo_logs")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-serve", action="store_true", help="log only, do not start TensorBoard")
    parser.add_argument("--port", default="6006")
    args = parser.parse_args()

    from tb_rnn_hidden.writer import HiddenStateWriter

    start = time.time()
    model, optimizer, train, probe, rng = make_experiment()
    # A torch.utils.tensorboard.SummaryWriter works too; this writer is ~9x faster
    # per checkpoint (bench/RESULTS.md).
    writer = HiddenStateWriter(os.path.join(args.logdir, "pytorch"))
    log_checkpoint(writer, model, probe, 0)  # untrained
    for epoch in range(1, args.epochs + 1):
        loss = train_epoch(model, optimizer, train, args.batch_size, rng)
        log_checkpoint(writer, model, probe, epoch)
        print(
            "epoch %d/%d: loss %.3f, probe accuracy %.3f"
            % (epoch, args.epochs, loss, accuracy(model, probe)),
            flush=True,
        )
    writer.close()
    print("probe accuracy after %d epochs: %.3f" % (args.epochs, accuracy(model, probe)))
    print(
        "logged %d checkpoints to %s in %.1f s"
        % (args.epochs + 1, args.logdir, time.time() - start)
    )
    if not args.no_serve:
        print("starting TensorBoard; open the 'RNN Hidden States' tab (Ctrl+C to stop)")
        subprocess.call(
            [sys.executable, "-m", "tensorboard.main", "--logdir", args.logdir, "--port", args.port]
        )


if __name__ == "__main__":
    main()
