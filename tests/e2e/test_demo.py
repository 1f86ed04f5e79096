"""The demo trains real Keras models and its logs are served by the plugin.

The paper's IMDB and Reuters cases run on files generated here in Keras'
own format (the real files cannot be downloaded in tests).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.support.paths import DEMO
from tests.support.plugin_client import make_client


def run_demo(*args):
    result = subprocess.run(
        [sys.executable, DEMO, "--no-serve", *args],
        capture_output=True, text=True, timeout=600,
    )
    return result


def served(logdir, run, step, route="sequences", tag="lstm"):
    client = make_client(logdir)
    url = "/data/plugin/rnn_hidden/%s?run=%s&tag=%s&step=%d" % (route, run, tag, step)
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def tags(logdir):
    return json.loads(make_client(logdir).get("/data/plugin/rnn_hidden/tags").get_data())


def test_generated_reviews_quick_mode_logs_every_epoch_and_learns(tmp_path):
    logdir = str(tmp_path / "logs")
    result = run_demo("--quick", "--logdir", logdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("logged 5 checkpoints") == 2
    # Two models for compare mode: the LSTM and a GRU of its size, one run each.
    listed = tags(logdir)
    steps = {run: {tag: entry["steps"] for tag, entry in run_tags.items()} for run, run_tags in listed.items()}
    assert steps == {"generated": {"lstm": [0, 1, 2, 3, 4]}, "generated-gru": {"gru": [0, 1, 2, 3, 4]}}
    assert [line.split(" test accuracy")[0] for line in result.stdout.splitlines()
            if " test accuracy: " in line] == ["LSTM", "GRU"]
    _same_probe_set_learned_by_the_gru(logdir)

    untrained = json.loads(served(logdir, "generated", 0).get_data())
    trained = json.loads(served(logdir, "generated", 4).get_data())
    assert trained["num_sequences"] == 300 and trained["state_size"] == 32
    assert trained["class_names"] == ["negative", "positive"]
    assert {"not", "but", "though", "although"} <= set(trained["vocabulary"])
    assert trained["accuracy"] >= 0.9 > untrained["accuracy"]
    # Pre-padded inputs: every sequence starts with a real token, never "<pad>".
    ids = np.frombuffer(served(logdir, "generated", 4, "tokens").get_data(), dtype="<i4")
    starts = np.concatenate([[0], np.cumsum(trained["lengths"])[:-1]])
    assert "<pad>" not in {trained["vocabulary"][i] for i in ids}
    assert {trained["vocabulary"][i] for i in ids[starts]} <= {
        "the", "i", "honestly", "overall", "in", "at", "although"
    }
    # The prediction served is the logged probability at each last valid step.
    probabilities = np.frombuffer(
        served(logdir, "generated", 4, "probabilities").get_data(), dtype="<f4"
    ).reshape(-1, 2)
    last = np.cumsum(trained["lengths"]) - 1
    assert probabilities[last].argmax(axis=1).tolist() == trained["predictions"]


def _same_probe_set_learned_by_the_gru(logdir):
    """The GRU's run logs the LSTM's probe sequences (lengths, labels, tokens) and learns them too."""
    lstm, gru = (json.loads(served(logdir, run, 4, tag=tag).get_data())
                 for run, tag in [("generated", "lstm"), ("generated-gru", "gru")])
    for key in ("num_sequences", "state_size", "lengths", "labels", "class_names", "vocabulary"):
        assert gru[key] == lstm[key], key
    assert served(logdir, "generated-gru", 4, "tokens", "gru").get_data() == served(
        logdir, "generated", 4, "tokens").get_data()
    untrained = json.loads(served(logdir, "generated-gru", 0, tag="gru").get_data())
    assert gru["accuracy"] >= 0.9 > untrained["accuracy"]


def _word_index(size):
    return {"word%d" % i: i for i in range(1, size)}


def _keras_sequences(rng, count, vocabulary_size, low=20, high=150):
    """Lists of raw word indices, as Keras' .npz files store them (object arrays)."""
    sequences = np.empty(count, dtype=object)
    for n in range(count):
        sequences[n] = list(rng.integers(1, vocabulary_size, size=int(rng.integers(low, high))))
    return sequences


def run_on_keras_files(tmp_path, dataset, vocabulary_size, *options, **arrays):
    """Writes `<dataset>.npz` and its word index as Keras saves them, trains 1 epoch on them.

    Returns the log dir and the served metadata of the LSTM's checkpoint after that epoch.
    """
    data_dir = tmp_path / "datasets"
    data_dir.mkdir()
    np.savez(data_dir / ("%s.npz" % dataset), **arrays)
    word_index = json.dumps(_word_index(vocabulary_size))
    (data_dir / ("%s_word_index.json" % dataset)).write_text(word_index)
    logdir = str(tmp_path / "logs")
    result = run_demo("--dataset", dataset, "--data-dir", str(data_dir), "--logdir", logdir,
                      "--epochs", "1", *options)
    assert result.returncode == 0, result.stderr[-3000:]
    return logdir, json.loads(served(logdir, dataset, 1).get_data())


def test_imdb_case_from_keras_format_files(tmp_path):
    rng = np.random.default_rng(0)
    logdir, info = run_on_keras_files(
        tmp_path, "imdb", 500, "--cells", "lstm",
        x_train=_keras_sequences(rng, 200, 500), y_train=rng.integers(0, 2, 200),
        x_test=_keras_sequences(rng, 120, 500), y_test=rng.integers(0, 2, 120),
    )
    # The paper's set-up: LSTM(100), the first 100 test reviews, their last 100 tokens.
    assert info["num_sequences"] == 100 and info["state_size"] == 100
    assert info["max_length"] == 100 and max(info["lengths"]) == 100
    assert info["class_names"] == ["negative", "positive"]
    assert set(info["vocabulary"]) <= {"<start>", "<oov>"} | set(_word_index(500))
    assert list(tags(logdir)) == ["imdb"]  # `--cells lstm`: the LSTM's run alone


def test_reuters_case_keeps_the_five_most_frequent_topics(tmp_path):
    rng = np.random.default_rng(1)
    # earn (3), acq (4), crude (16), money-fx (19), grain (1) most frequent, then others.
    topics = [3] * 300 + [4] * 200 + [19] * 90 + [16] * 80 + [1] * 70 + [2] * 20 + [9] * 10
    labels = rng.permutation(np.array(topics))
    logdir, info = run_on_keras_files(
        tmp_path, "reuters", 300, x=_keras_sequences(rng, len(labels), 300), y=labels
    )
    assert info["class_names"] == ["grain", "earn", "acq", "crude", "money-fx"]
    assert info["state_size"] == 20
    # Keras' split: shuffle with seed 113, last 20% for test; minus the two rare topics.
    order = np.arange(len(labels))
    np.random.RandomState(113).shuffle(order)
    test_labels = labels[order][int(len(labels) * 0.8):]
    assert info["num_sequences"] == int(np.isin(test_labels, [1, 3, 4, 16, 19]).sum())
    assert set(info["labels"]) <= set(range(5))
    # By default a GRU of the same size beside it, in run "<dataset>-gru", on the same probe set.
    assert {run: list(run_tags) for run, run_tags in tags(logdir).items()} == {
        "reuters": ["lstm"], "reuters-gru": ["gru"]}
    gru = json.loads(served(logdir, "reuters-gru", 1, tag="gru").get_data())
    assert gru["state_size"] == 20
    for key in ("lengths", "labels", "class_names"):
        assert gru[key] == info[key], key


def test_an_unknown_cell_stops_with_a_clear_message(tmp_path):
    result = run_demo("--cells", "lstm,rnn", "--logdir", str(tmp_path / "logs"))
    assert result.returncode == 2  # argparse's usage error, before any data is loaded
    assert "--cells" in result.stderr and "'lstm,rnn'" in result.stderr and "lstm, gru" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_keras_files_stop_with_a_clear_message(tmp_path):
    result = run_demo("--dataset", "imdb", "--data-dir", str(tmp_path), "--logdir",
                      str(tmp_path / "logs"))
    assert result.returncode != 0
    assert "imdb.npz" in result.stderr and "not on this machine" in result.stderr
    assert "Traceback" not in result.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
