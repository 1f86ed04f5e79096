"""Cost of the PyTorch logging helper, against training and against a plain forward pass.

    python bench/torch_bench.py

Prints markdown tables (medians of repeated runs):

1. One `log_hidden_states` checkpoint of the demo (demo/pytorch_example.py:
   2-layer LSTM(32), 200 probe series of up to 40 steps, head, labels) against
   one training epoch of that demo (3000 series, batch 64), as a ratio.
2. `per_step_states` alone against the baseline, a plain forward pass of the
   module on the same probe set (packed, under no_grad): on the demo's model,
   and on a larger bidirectional one (2-layer LSTM(256), 512 x <=200 steps).

Subject and baseline run in turn, round after round, and ratios are medians
of per-round ratios, so that load from other processes hits both alike.

Not a test: numbers depend on the machine; record them in bench/RESULTS.md.
"""

import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils import rnn as rnn_utils  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

from tb_rnn_hidden.torch import log_hidden_states, per_step_states  # noqa: E402
from tb_rnn_hidden.writer import HiddenStateWriter  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_demo():
    path = os.path.join(ROOT, "demo", "pytorch_example.py")
    spec = importlib.util.spec_from_file_location("pytorch_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns, rounds, warmup=True):
    """Seconds of each fn per round, the fns run in turn each round, so that
    load from other processes on a shared machine hits baseline and subject alike."""
    if warmup:
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            times[i].append(timed(fn))
    return times


def median(values):
    return statistics.median(values)


def forward_baseline(rnn, x, lengths):
    def run():
        with torch.no_grad():
            packed = rnn_utils.pack_padded_sequence(
                x, lengths, batch_first=True, enforce_sorted=False
            )
            output, _ = rnn(packed)
            rnn_utils.pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])

    return run


def main():
    load_before = os.getloadavg()[0]
    demo = load_demo()
    model, optimizer, train, probe, rng = demo.make_experiment()
    x, lengths, labels = probe
    xt, lt = torch.from_numpy(x), torch.from_numpy(lengths)

    # 1. A training epoch, then one checkpoint logged each way, round after round.
    tmp = tempfile.mkdtemp(prefix="torch_bench_")
    steps = iter(range(10**6))
    summary_writer = SummaryWriter(os.path.join(tmp, "summary_writer"))
    hidden_writer = HiddenStateWriter(os.path.join(tmp, "hidden_state_writer"))

    def log_with(writer, cells):
        return lambda: log_hidden_states(
            writer, model.lstm, x, next(steps), lengths=lengths, head=model.head,
            labels=labels, class_names=demo.CLASS_NAMES, tag="cells" if cells else "lstm",
            cell_states=cells,
        )

    logs = [
        ("hidden states, SummaryWriter", summary_writer, False),
        ("hidden + cell states, SummaryWriter", summary_writer, True),
        ("hidden states, HiddenStateWriter", hidden_writer, False),
        ("hidden + cell states, HiddenStateWriter (the demo's call)", hidden_writer, True),
    ]
    rounds = 5
    epoch, *log_times = interleaved(
        [lambda: demo.train_epoch(model, optimizer, train, 64, rng)]
        + [log_with(writer, cells) for _, writer, cells in logs],
        rounds,
    )
    summary_writer.close()
    hidden_writer.close()

    # 2. per_step_states vs a plain forward pass, interleaved.
    torch.manual_seed(0)
    big = nn.LSTM(32, 256, num_layers=2, bidirectional=True, batch_first=True).eval()
    big_x = torch.randn(512, 200, 32)
    big_lengths = torch.randint(100, 201, (512,))
    big_lengths[0] = 200
    configs = [
        ("demo: LSTM(1→32, 2 layers), 200 × ≤40 steps", model.lstm, xt, lt, 9, True),
        ("LSTM(32→256, 2 layers, bidirectional), 512 × ≤200 steps (%d valid)"
         % int(big_lengths.sum()), big, big_x, big_lengths, 5, False),
    ]
    rows = []
    for name, rnn, inputs, lens, repeats, warmup in configs:
        base, hidden, cells = interleaved(
            [
                forward_baseline(rnn, inputs, lens),
                lambda: per_step_states(rnn, inputs, lens),
                lambda: per_step_states(rnn, inputs, lens, cell_states=True),
            ],
            repeats,
            warmup,
        )
        rows.append((name, repeats, base, hidden, cells))

    print("Machine: %s, %d cores (torch threads %d), Python %s, torch %s; "
          "1-min load average %.2f before, %.2f after" % (
              platform.processor() or platform.machine(), os.cpu_count(),
              torch.get_num_threads(), platform.python_version(), torch.__version__,
              load_before, os.getloadavg()[0]))
    print()
    print("| demo, per checkpoint (200 probe series), median of %d interleaved rounds "
          "| seconds | × one training epoch |" % rounds)
    print("|---|---|---|")
    print("| one training epoch (3000 series, batch 64): the baseline | %.3f | 1× |"
          % median(epoch))
    for (name, _, _), times in zip(logs, log_times):
        per_round = median([t / e for t, e in zip(times, epoch)])
        print("| log_hidden_states: %s | %.4f | %.3f× |" % (name, median(times), per_round))
    print()
    print("Each cell: median / minimum over the rounds; ratios: median of the per-round "
          "ratios / ratio of the minima.")
    print()
    print("| per_step_states vs a plain forward pass (the baseline; packed, no_grad) | rounds "
          "| forward s | per_step_states s | ratio | with cell states s | ratio |")
    print("|---|---|---|---|---|---|---|")

    def cell(times):
        return "%.4f / %.4f" % (median(times), min(times))

    def ratio(times, base):
        per_round = median([t / b for t, b in zip(times, base)])
        return "%.2f× / %.2f×" % (per_round, min(times) / min(base))

    for name, repeats, base, hidden, cells in rows:
        print("| %s | %d | %s | %s | %s | %s | %s |" % (
            name, repeats, cell(base), cell(hidden), ratio(hidden, base), cell(cells),
            ratio(cells, base)))

if __name__ == "__main__":
    sys.exit(main())
