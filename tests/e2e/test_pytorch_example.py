"""The PyTorch demo, run as a user runs it: it trains, logs every epoch, and the plugin serves what it learnt."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="PyTorch is the optional [torch] extra")

from tests.support.paths import ROOT  # noqa: E402
from tests.support.plugin_client import PREFIX, get_json, make_client  # noqa: E402


def test_pytorch_example_logs_every_epoch_and_learns(tmp_path):
    logdir = str(tmp_path / "logs")
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "demo", "pytorch_example.py"),
         "--logdir", logdir, "--no-serve"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "logged 9 checkpoints" in result.stdout
    client = make_client(logdir)
    tags = get_json(client, PREFIX + "/tags")["pytorch"]
    assert sorted(tags) == ["lstm/layer0", "lstm/layer0/cell", "lstm/layer1", "lstm/layer1/cell"]
    assert all(info["steps"] == list(range(9)) for info in tags.values())

    def sequences(tag, step):
        return get_json(client, PREFIX + "/sequences?run=pytorch&tag=%s&step=%d" % (tag, step))

    untrained, trained = sequences("lstm/layer1", 0), sequences("lstm/layer1", 8)
    assert trained["num_sequences"] == 200 and trained["state_size"] == 32
    assert trained["class_names"] == ["sine", "square", "sawtooth"]
    assert not trained["has_tokens"] and trained["has_probabilities"]
    # The served accuracy is the head's at each last valid step: the classifier's.
    assert trained["accuracy"] >= 0.9 > 0.5 > untrained["accuracy"]
    assert sequences("lstm/layer0/cell", 8)["accuracy"] == trained["accuracy"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
