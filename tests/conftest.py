"""Fixtures shared by every test; the helpers the tests import are in tests/support/."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "logs")
