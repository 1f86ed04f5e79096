"""The nesting demo's model for tests: train it into a log dir, read it back, find its depth units.

`train_nesting(logdir)` (or the session fixture `nesting_logdir` of
tests/conftest.py) runs `demo/nesting.py --quick --no-serve` (a real
Keras LSTM language model on LSTMVis' bracket language, logged every epoch
with a `depth` annotation track; about 15 s on 2 cores). `nesting_data()` is
the same generated data, so tests know the probe strings and their depths.
`checkpoint_arrays` reads a checkpoint back through TensorBoard's real data
provider and the plugin's routes; `depth_units` says which hidden units are
on (value >= threshold) exactly while the depth is at least d, and
`bracketed_ranges` where the depth is at least d: the ranges to brush, and
what a match should find.
"""

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np

from tests.support.paths import ROOT
from tests.support.plugin_client import PREFIX, make_client

NESTING_DEMO = os.path.join(ROOT, "demo", "nesting.py")
RUN, TAG = "nesting", "lstm"
QUICK_EPOCHS = 6  # demo/nesting.py QUICK_EPOCHS: steps 0 (untrained) to 6
PROBE = 200  # demo/nesting.py --probe default


def demo_module(name):
    """A module of demo/ (not a package), imported by path under a name of its own."""
    spec = importlib.util.spec_from_file_location(
        "tb_rnn_hidden_demo_" + name, os.path.join(ROOT, "demo", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nesting_data():
    """The probe strings the demo logs, and their depths (`test_annotations["depth"]`).

    The demo's test strings are seeded and do not depend on how many training
    or test strings there are, so the first PROBE generated here are its probe set.
    """
    return demo_module("datasets").nesting(num_train=0, num_test=PROBE)


def train_nesting(logdir, *extra_args):
    """Runs the nesting demo into `logdir` (quick, no TensorBoard); returns the run directory."""
    result = subprocess.run(
        [sys.executable, NESTING_DEMO, "--quick", "--no-serve", "--logdir", str(logdir),
         *extra_args],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return os.path.join(str(logdir), RUN)


@dataclass
class CheckpointArrays:
    """One logged checkpoint as the plugin serves it, points in `/states` order."""

    info: dict  # the /sequences JSON
    states: np.ndarray  # float32 [P, H]
    tokens: list  # [P] token strings
    sequence: np.ndarray  # int [P]: the sequence of each point
    step: np.ndarray  # int [P]: the step within its sequence


def _get(client, route, step, query=""):
    response = client.get("%s/%s?run=%s&tag=%s&step=%d%s" % (PREFIX, route, RUN, TAG, step, query))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def checkpoint_arrays(client, step):
    """Reads checkpoint `step` through `client` (tests.support.plugin_client.make_client)."""
    info = json.loads(_get(client, "sequences", step).get_data())
    states = np.frombuffer(_get(client, "states", step, "&dtype=float32").get_data(), dtype="<f4")
    states = states.reshape(info["num_steps"], info["state_size"])
    ids = np.frombuffer(_get(client, "tokens", step).get_data(), dtype="<i4")
    lengths = np.asarray(info["lengths"])
    sequence = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return CheckpointArrays(info, states, [info["vocabulary"][i] for i in ids], sequence,
                            np.arange(len(sequence)) - starts[sequence])


def valid_steps(padded, lengths):
    """[N, T] values of the valid steps, flattened in point order."""
    return np.concatenate([row[:n] for row, n in zip(np.asarray(padded), lengths)])


@dataclass
class DepthUnit:
    """The unit whose on/off pattern best follows `depth >= level`, and how well."""

    level: int
    unit: int
    balanced_accuracy: float  # mean of the on-rate where depth >= level and the off-rate elsewhere
    agreement: float  # fraction of steps where on == (depth >= level)


def depth_units(states, depth, threshold=0.3, levels=(1, 2, 3, 4)):
    """For each depth level, the unit that is on (>= threshold) most nearly iff depth >= level.

    Balanced accuracy, not plain agreement, decides: a unit that is always on
    agrees with "depth >= 1" at most steps (most steps are inside brackets)
    but scores 0.5, as does any unit blind to depth.
    """
    on = np.asarray(states) >= threshold  # [P, H]
    best = []
    for level in levels:
        inside = np.asarray(depth) >= level  # [P]
        on_rate = on[inside].mean(axis=0)
        off_rate = (~on[~inside]).mean(axis=0)
        balanced = (on_rate + off_rate) / 2
        unit = int(np.argmax(balanced))
        agreement = float((on[:, unit] == inside).mean())
        best.append(DepthUnit(level, unit, float(balanced[unit]), agreement))
    return best


def logged_depth_units(logdir, step, threshold=0.3):
    """`depth_units` of a checkpoint of the nesting run in `logdir`, depth from the generator."""
    arrays = checkpoint_arrays(make_client(str(logdir)), step)
    depth = valid_steps(nesting_data().test_annotations["depth"], arrays.info["lengths"])
    return depth_units(arrays.states, depth, threshold)


def bracketed_ranges(depth, lengths, level):
    """Every maximal range of steps at depth >= level, as (sequence, start, end), end exclusive.

    With the depth after each character, such a range starts at the "(" that
    opens level `level` and ends before the ")" that closes it: the range to
    brush in the units view, and what a match of the units tracking
    `depth >= level` should find elsewhere. `depth` is in point order.
    """
    ranges, offset = [], 0
    for sequence, length in enumerate(lengths):
        inside = np.concatenate([[False], np.asarray(depth[offset:offset + length]) >= level, [False]])
        edges = np.flatnonzero(inside[1:] != inside[:-1])
        ranges += [(sequence, int(s), int(e)) for s, e in zip(edges[::2], edges[1::2])]
        offset += length
    return ranges
