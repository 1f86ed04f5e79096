"""Damaged, forged and rewritten records through TensorBoard's data provider and the plugin.

A record that is not what the writer could have written is answered 500
"corrupt hidden-state record: <what is wrong>" (or 422 "upgrade" for a newer
version), never "internal error" and never 200 with garbage; a step rewritten
by a restarted training is read again.
"""

import json

import numpy as np
import pytest
from tensorboard import context
from tensorboard import errors
from tensorboard.backend.event_processing import data_ingester
from tensorboard.backend.event_processing import data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem

from tb_rnn_hidden import projection
from tb_rnn_hidden import writer
from tb_rnn_hidden.projection import jobs as projection_jobs
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata
from tb_rnn_hidden.server import reader as checkpoint_reader
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.plugin_client import PREFIX, make_client
from tests.support.records import flip_byte, forge, write_raw
from tests.support.trainings import write_training

CHECKPOINT_ROUTES = ("/sequences", "/states", "/probabilities", "/tokens", "/distances")


_EMPTY = np.zeros(0, np.int32)


def _good():
    data = make_checkpoint()
    lengths = data["lengths"]
    return (
        valid_steps(data["probabilities"], lengths).astype(np.float32),
        valid_steps(data["states"], lengths).astype(np.float16),
    )


def _probabilities_with(index, value):
    probabilities = _good()[0].copy()
    probabilities[index] = value
    return probabilities


def _states_with(index, value):
    states = _good()[1].copy()
    states[index] = value
    return states


# (name, forged record, route that reads the damaged part, words the message must hold)
FORGED = [
    # Headers that lie consistently: the blob sizes agree with them.
    ("classes0", forge({"num_classes": 0, "class_names": None}, probabilities=_EMPTY),
     "/sequences", "num_classes=0 with probabilities"),
    ("sequences0", forge({"num_sequences": 0, "num_steps": 0}, lengths=_EMPTY, labels=_EMPTY,
                         probabilities=_EMPTY, states=_EMPTY, token_ids=_EMPTY),
     "/sequences", "num_sequences=0"),
    ("steps2e62", forge({"num_steps": 2**62}), "/states", "num_steps=4611686018427387904"),
    ("statesize0", forge({"state_size": 0}, states=_EMPTY), "/distances", "state_size=0"),
    ("maxlength", forge({"max_length": 8}), "/sequences", "max_length=8"),
    ("maxlength1", forge({"max_length": 1}), "/sequences", "num_steps="),
    ("label99", forge(labels=np.int32([99, 0, 1, 2, 0, 1])), "/sequences", "labels[0] is 99"),
    ("label_5", forge(labels=np.int32([0, 1, -5, 2, 0, 1])), "/sequences", "labels[2] is -5"),
    ("names_str", forge({"class_names": "class 0"}), "/sequences", "class_names 'class 0'"),
    ("names_count", forge({"class_names": ["a", "b"]}), "/sequences",
     "2 class_names; expected num_classes=3"),
    ("names_ints", forge({"class_names": [0, 1, 2]}), "/sequences", "list of strings"),
    ("prob_nan", forge(probabilities=_probabilities_with(3, np.nan)), "/probabilities",
     "probabilities has 3 NaN"),
    ("prob_inf", forge(probabilities=_probabilities_with(0, np.inf)), "/sequences",
     "NaN or Inf"),
    ("prob_negative", forge(probabilities=_probabilities_with(2, [-0.5, 0.75, 0.75])),
     "/sequences", "probabilities are in [-0.5"),
    ("prob_sum", forge(probabilities=_probabilities_with(4, [0.5, 0.4, 0.3])),
     "/probabilities", "probabilities at step 4 sum to 1.2"),
    ("states_inf", forge(states=_states_with(5, np.inf)), "/distances", "states has 5 NaN or Inf"),
    ("states_nan", forge(states=_states_with(1, np.nan)), "/states", "states has 5 NaN"),
    ("token_ids", forge(token_ids=np.full(int(make_checkpoint()["lengths"].sum()), 99, np.int32)),
     "/tokens", "token ids are in [99, 99]"),
    ("short_states", forge(states=_good()[1][:-1]), "/states", "blob 'states' has"),
]


@pytest.fixture
def forged_client(logdir):
    for name, blobs, _, _ in FORGED:
        write_raw(logdir + "/forged", name, blobs)
    with writer.HiddenStateWriter(logdir + "/good") as w:
        w.add("lstm", step=0, **make_checkpoint())
    return make_client(logdir)


def get(client, route, run, tag, step=0, extra=""):
    response = client.get(PREFIX + route + "?run=%s&tag=%s&step=%d%s" % (run, tag, step, extra))
    assert response.headers["Content-Type"].startswith(
        "application/json" if response.status_code != 200 else ""
    )
    return response


def test_every_forged_record_is_a_named_corrupt_record(forged_client):
    for name, _, route, words in FORGED:
        response = get(forged_client, route, "forged", name)
        body = response.get_data(as_text=True)
        assert response.status_code == 500, (name, body)
        message = json.loads(body)["error"]
        assert message.startswith("corrupt hidden-state record: "), (name, message)
        assert words in message, (name, message)
    good = get(forged_client, "/sequences", "good", "lstm")
    assert good.status_code == 200, good.get_data(as_text=True)


@pytest.mark.parametrize("index", range(1, metadata.NUM_BLOBS))
def test_a_flipped_byte_in_a_blob_is_caught_by_its_checksum(logdir, index):
    """The Rust data server serves events with a wrong event CRC; our checksum catches it."""
    blobs = flip_byte(codec.encode_checkpoint(**make_checkpoint(annotations=True)), index)
    write_raw(logdir + "/run", "flipped", blobs)
    client = make_client(logdir)
    name = metadata.BLOB_NAMES[index]
    route = {"states": "/states", "token_ids": "/tokens", "annotations": "/annotations"}.get(
        name, "/sequences")
    response = get(client, route, "run", "flipped", extra="&name=pos")
    assert response.status_code == 500
    assert "blob %r fails its checksum" % name in json.loads(response.get_data())["error"]


def test_newer_plugin_data_is_refused_on_every_route(logdir):
    blobs = codec.encode_checkpoint(**make_checkpoint())
    write_raw(logdir + "/run", "future", blobs, content=b'{"version": 4}')
    client = make_client(logdir)
    listing = json.loads(client.get(PREFIX + "/tags").get_data())
    assert "upgrade tb-rnn-hidden" in listing["run"]["future"]["error"]
    for route in CHECKPOINT_ROUTES + ("/projection/provisional", "/projection"):
        response = get(client, route, "run", "future")
        assert response.status_code == 422, (route, response.get_data(as_text=True))
        message = json.loads(response.get_data())["error"]
        assert "version 4" in message and "upgrade tb-rnn-hidden" in message, (route, message)


# Restart ---------------------------------------------------------------------


def _multiplexer_provider(logdir):
    """TensorBoard's Python data provider over a multiplexer the test reloads."""
    mux = pem.EventMultiplexer(
        size_guidance=data_ingester.DEFAULT_SIZE_GUIDANCE,
        tensor_size_guidance={metadata.PLUGIN_NAME: 0},
    )
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    return mux, data_provider.MultiplexerDataProvider(mux, logdir)


def test_a_step_rewritten_by_a_restarted_training_is_read_again(logdir, tmp_path):
    run_dir = logdir + "/train"
    write_training(run_dir, range(16), seed=0)
    mux, provider = _multiplexer_provider(logdir)
    reader = checkpoint_reader.CheckpointReader(provider)
    ctx = context.RequestContext()

    projections = projection_jobs.ProjectionService(reader, str(tmp_path / "cache"))
    pca = projection.ProjectionParams(method="pca")

    def states(step):
        checkpoint = reader.checkpoint(ctx, "", "train", "lstm", step)
        return checkpoint.states, checkpoint.distances

    def provisional_layout(step):
        return projections.provisional(ctx, "", "train", "lstm", step, pca)

    before = {step: states(step) for step in (3, 10, 14, 15)}
    assert provisional_layout(10).shape == (len(before[10][0]), 2)

    write_training(run_dir, range(10, 15), seed=1000)
    mux.Reload()

    assert reader.series(ctx, "", "train", "lstm")[-1].step == 14
    for step in (10, 14):
        data = make_checkpoint(seed=1000 + step)
        expected = valid_steps(data["states"], data["lengths"]).astype(np.float16)
        new_states, new_distances = states(step)
        np.testing.assert_array_equal(new_states, expected)
        assert not np.array_equal(new_distances, before[step][1])
        assert provisional_layout(step).shape == (len(expected), 2)  # not the old record's layout
    np.testing.assert_array_equal(states(3)[0], before[3][0])  # before the restart: kept
    with pytest.raises(errors.NotFoundError, match="no checkpoint at step 15"):
        reader.checkpoint(ctx, "", "train", "lstm", 15)
    with pytest.raises(errors.NotFoundError, match="no checkpoint at step 15"):
        provisional_layout(15)
    projections.close()
