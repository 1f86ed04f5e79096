"""Fixtures shared by every test; the helpers the tests import are in tests/support/."""

import os
import subprocess
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "logs")


@pytest.fixture(scope="session")
def nesting_logdir(tmp_path_factory):
    """A log dir with the nesting demo's quick run (tests.support.nesting), trained once per session.

    Run "nesting", tag "lstm", steps 0 (untrained) to 6, a `depth` annotation
    track; ~20 s of training on 2 cores. Tests must not write into it.
    """
    from tests.support.nesting import train_nesting

    logdir = tmp_path_factory.mktemp("nesting_logs")
    train_nesting(logdir)
    return str(logdir)


@pytest.fixture(scope="session")
def demo_logdir(tmp_path_factory):
    """A log dir with the README's demo (`demo/train.py --quick`), trained once per session.

    Run "generated", tag "lstm" and run "generated-gru", tag "gru" (a GRU of
    the same size on the same probe sequences), steps 0 (untrained) to 4 each;
    ~30 s on an idle 2-core machine (~18 s for the LSTM alone, `--cells lstm`).
    Tests must not write into it.
    """
    from tests.support.paths import DEMO

    logdir = str(tmp_path_factory.mktemp("demo") / "logs")
    result = subprocess.run([sys.executable, DEMO, "--quick", "--no-serve", "--logdir", logdir],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return logdir
