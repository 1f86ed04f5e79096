"""The projection tests' fixture: plugins served by `served_factory`, closed at the end."""

import pytest

from tests.support.projection_service import Served


@pytest.fixture
def served_factory(tmp_path):
    made = []

    def make(logdir, cache_dir=None, **flags):
        served = Served(logdir, cache_dir or tmp_path / "cache", **flags)
        made.append(served)
        return served

    yield make
    for served in made:
        served.close()
