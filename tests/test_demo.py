"""The quick-start demo trains a real Keras LSTM and its logs are served by the plugin."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import make_client

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo", "quickstart.py")


def test_quickstart_logs_every_epoch_and_learns(tmp_path):
    logdir = str(tmp_path / "logs")
    result = subprocess.run(
        [sys.executable, DEMO, "--logdir", logdir, "--epochs", "5", "--no-serve"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "logged 6 checkpoints" in result.stdout

    client = make_client(logdir)
    tags = json.loads(client.get("/data/plugin/rnn_hidden/tags").get_data())
    assert tags["quickstart"]["lstm"]["steps"] == [0, 1, 2, 3, 4, 5]

    def sequences(step):
        url = "/data/plugin/rnn_hidden/sequences?run=quickstart&tag=lstm&step=%d" % step
        return json.loads(client.get(url).get_data())

    untrained, trained = sequences(0), sequences(5)
    assert trained["num_sequences"] == 200 and trained["state_size"] == 16
    assert trained["class_names"] == ["negative", "positive"]
    assert {"not", "good", "bad", "but"} <= set(trained["vocabulary"])
    # Training worked: the probe accuracy rose well above the untrained model's.
    assert trained["accuracy"] >= 0.9 > untrained["accuracy"]
    # The logged probability at the last valid step is the prediction served.
    response = client.get("/data/plugin/rnn_hidden/probabilities?run=quickstart&tag=lstm&step=5")
    probabilities = np.frombuffer(response.get_data(), dtype="<f4").reshape(-1, 2)
    last = np.cumsum(trained["lengths"]) - 1
    assert probabilities[last].argmax(axis=1).tolist() == trained["predictions"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
