"""The backend against real event files, TensorBoard's multiplexer, data provider and WSGI app."""

import json

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.compat.proto import summary_pb2

from tb_rnn_hidden.records import metadata
from tb_rnn_hidden import summary
from tb_rnn_hidden import writer
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.plugin_client import PREFIX, make_client
from tests.support.records import write_raw



def write_tf(logdir, checkpoints, name="lstm", precision="float16"):
    """Writes with the TF op under a default writer, one record per step."""
    file_writer = tf.summary.create_file_writer(logdir)
    with file_writer.as_default():
        for step, data in checkpoints.items():
            assert summary.hidden_states(name, step=step, precision=precision, **data)
    file_writer.close()


def get_json(client, path, expected_code=200):
    response = client.get(path)
    assert response.status_code == expected_code, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.get_data())


def get_array(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/octet-stream"
    shape = tuple(int(d) for d in response.headers["X-Array-Shape"].split(","))
    dtype = np.dtype(response.headers["X-Array-Dtype"]).newbyteorder("<")
    return np.frombuffer(response.get_data(), dtype=dtype).reshape(shape), response


def query(run, tag, step, **extra):
    params = dict(run=run, tag=tag, step=step, **extra)
    return "?" + "&".join("%s=%s" % kv for kv in params.items())


def assert_served_equals(client, run, tag, step, data, precision):
    """Every route of one checkpoint against the arrays that were logged."""
    q = query(run, tag, step)
    lengths = data["lengths"]
    info = get_json(client, PREFIX + "/sequences" + q)
    n, t, h = data["states"].shape
    assert info["num_sequences"] == n
    assert info["max_length"] == t
    assert info["state_size"] == h
    assert info["num_steps"] == int(lengths.sum())
    assert info["lengths"] == lengths.tolist()
    assert info["labels"] == data["labels"].tolist()
    assert info["class_names"] == data["class_names"]
    assert info["states_dtype"] == precision
    final = np.stack([data["probabilities"][i, lengths[i] - 1] for i in range(n)])
    assert info["predictions"] == final.argmax(axis=1).tolist()
    np.testing.assert_array_equal(np.float32(info["confidences"]), final.max(axis=1))
    expected_accuracy = float((final.argmax(axis=1) == data["labels"]).mean())
    assert info["accuracy"] == pytest.approx(expected_accuracy)

    states, _ = get_array(client, PREFIX + "/states" + q)
    expected_states = valid_steps(data["states"], lengths).astype(precision)
    assert states.dtype == np.dtype(precision)
    np.testing.assert_array_equal(states, expected_states)
    as_float32, _ = get_array(client, PREFIX + "/states" + q + "&dtype=float32")
    np.testing.assert_array_equal(as_float32, expected_states.astype(np.float32))

    probabilities, _ = get_array(client, PREFIX + "/probabilities" + q)
    np.testing.assert_array_equal(probabilities, valid_steps(data["probabilities"], lengths))

    ids, _ = get_array(client, PREFIX + "/tokens" + q)
    served_tokens = [info["vocabulary"][i] for i in ids]
    assert served_tokens == list(valid_steps(data["tokens"], lengths))

    distances, response = get_array(client, PREFIX + "/distances" + q)
    reference = np.concatenate(
        [
            np.sqrt(((np.diff(expected_states[o : o + k].astype(np.float64), axis=0)) ** 2).sum(1))
            for o, k in zip(np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        ]
    )
    assert distances.shape == (int(lengths.sum()) - n,)
    np.testing.assert_allclose(distances, reference, rtol=1e-5, atol=1e-6)
    assert float(response.headers["X-Max-Distance"]) == pytest.approx(reference.max(), rel=1e-5)


@pytest.mark.parametrize("precision", ["float16", "float32"])
def test_tf_op_round_trip(logdir, precision):
    checkpoints = {step: make_checkpoint(seed=step) for step in (0, 5, 7)}
    write_tf(logdir + "/train", checkpoints, precision=precision)
    client = make_client(logdir)
    tags = get_json(client, PREFIX + "/tags")
    assert tags["train"]["lstm"]["steps"] == [0, 5, 7]
    assert len(tags["train"]["lstm"]["wall_times"]) == 3
    assert tags["train"]["lstm"]["version"] == metadata.PROTO_VERSION
    for step, data in checkpoints.items():
        assert_served_equals(client, "train", "lstm", step, data, precision)


def test_tf_free_writer_round_trip(logdir):
    checkpoints = {step: make_checkpoint(seed=10 + step, n=4, t=6, h=3, c=2) for step in (1, 2)}
    with writer.HiddenStateWriter(logdir + "/pb") as w:
        for step, data in checkpoints.items():
            w.add("gru/forward", step=step, description="GRU layer", **data)
    client = make_client(logdir)
    tags = get_json(client, PREFIX + "/tags")
    assert tags == {
        "pb": {
            "gru/forward": {
                "steps": [1, 2],
                "wall_times": tags["pb"]["gru/forward"]["wall_times"],
                "description": "GRU layer",
                "display_name": "",
                "version": metadata.PROTO_VERSION,
            }
        }
    }
    for step, data in checkpoints.items():
        assert_served_equals(client, "pb", "gru/forward", step, data, "float16")


def test_numeric_sequences_without_optional_arrays(logdir):
    states = np.random.default_rng(3).standard_normal((5, 4, 2)).astype(np.float32)
    with writer.HiddenStateWriter(logdir + "/r") as w:
        w.add("rnn", states, step=0, precision="float32")
    client = make_client(logdir)
    info = get_json(client, PREFIX + "/sequences" + query("r", "rnn", 0))
    assert info["lengths"] == [4] * 5
    assert info["labels"] is None and info["predictions"] is None and info["accuracy"] is None
    assert info["vocabulary"] is None and info["class_names"] is None
    served, _ = get_array(client, PREFIX + "/states" + query("r", "rnn", 0))
    np.testing.assert_array_equal(served, states.reshape(20, 2))
    for route in ("tokens", "probabilities"):
        body = get_json(client, PREFIX + "/" + route + query("r", "rnn", 0), 404)
        assert "without" in body["error"]


def test_thirty_checkpoints_logged_thirty_served(logdir):
    base = make_checkpoint(seed=1, n=3, t=4, h=2, c=2)
    with writer.HiddenStateWriter(logdir + "/run") as w:
        for step in range(30):
            data = dict(base, states=base["states"] * (step + 1) / 30)
            w.add("lstm", step=step * 10, **data)
    client = make_client(logdir)
    assert get_json(client, PREFIX + "/tags")["run"]["lstm"]["steps"] == list(range(0, 300, 10))
    last, _ = get_array(client, PREFIX + "/states" + query("run", "lstm", 290))
    np.testing.assert_array_equal(
        last, valid_steps(base["states"], base["lengths"]).astype(np.float16)
    )
    # Without the loader's default, TensorBoard would keep a 10-sample reservoir.
    sampled = make_client(logdir, use_loader=False)
    assert len(get_json(sampled, PREFIX + "/tags")["run"]["lstm"]["steps"]) == 10


def test_loader_keeps_a_user_sampling_flag():
    from tests.support.plugin_client import plugin_flags
    from tb_rnn_hidden.server import loader as plugin_loader

    flags = plugin_flags(samples_per_plugin={"rnn_hidden": 4, "images": 2})
    plugin_loader.RnnHiddenLoader().fix_flags(flags)
    assert flags.samples_per_plugin == {"rnn_hidden": 4, "images": 2}
    flags = plugin_flags()
    plugin_loader.RnnHiddenLoader().fix_flags(flags)
    assert flags.samples_per_plugin == {"rnn_hidden": 0}


def test_plugin_is_listed_with_its_es_module(logdir):
    write_tf(logdir + "/train", {0: make_checkpoint()})
    client = make_client(logdir)
    listing = get_json(client, "/data/plugins_listing")
    assert listing["rnn_hidden"]["enabled"] is True
    assert listing["rnn_hidden"]["tab_name"] == "RNN Hidden States"
    assert listing["rnn_hidden"]["loading_mechanism"] == {
        "type": "IFRAME",
        "module_path": PREFIX + "/index.js",
    }
    response = client.get(PREFIX + "/index.js")
    assert response.status_code == 200, "frontend bundle missing: build it with `pip install .`"
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert b"render" in response.get_data()


def test_experiment_prefixed_routes(logdir):
    write_tf(logdir + "/train", {3: make_checkpoint()})
    client = make_client(logdir)
    tags = get_json(client, "/experiment/some-experiment" + PREFIX + "/tags")
    assert tags["train"]["lstm"]["steps"] == [3]


@pytest.mark.parametrize(
    "path, code, fragment",
    [
        ("/sequences?tag=lstm&step=0", 400, "'run'"),
        ("/sequences?run=train&step=0", 400, "'tag'"),
        ("/states?run=train&tag=lstm", 400, "'step'"),
        ("/states?run=train&tag=lstm&step=zero", 400, "expected an integer"),
        ("/states?run=train&tag=lstm&step=0&dtype=int8", 400, "'dtype'"),
        ("/sequences?run=nope&tag=lstm&step=0", 404, "'nope'"),
        ("/sequences?run=train&tag=nope&step=0", 404, "'nope'"),
        ("/distances?run=train&tag=lstm&step=99", 404, "step 99"),
        ("/tokens?run=train&tag=lstm&step=99", 404, "steps: [0]"),
    ],
)
def test_bad_requests_get_json_4xx(logdir, path, code, fragment):
    write_tf(logdir + "/train", {0: make_checkpoint()})
    client = make_client(logdir)
    body = get_json(client, PREFIX + path, code)
    assert fragment in body["error"]


def test_newer_and_corrupt_records_get_clear_errors_and_lose_nothing(logdir):
    from tb_rnn_hidden.records import codec as checkpoint_codec

    good = checkpoint_codec.encode_checkpoint(**make_checkpoint())
    newer = list(good)
    header = json.loads(newer[0])
    header["version"] = metadata.PROTO_VERSION + 1
    newer[0] = json.dumps(header).encode()
    truncated = list(good)
    truncated[metadata.BLOB_STATES] = truncated[metadata.BLOB_STATES][:-6]

    write_tf(logdir + "/good", {0: make_checkpoint()})
    write_raw(logdir + "/bad", "newer", newer)
    write_raw(logdir + "/bad", "future_plugin_data", good, content=b'{"version": 99}')
    write_raw(logdir + "/bad", "truncated", truncated)
    write_raw(logdir + "/bad", "too_few_blobs", good[:3])
    write_raw(logdir + "/bad", "not_json", [b"\xff\x00"] + good[1:])
    client = make_client(logdir)

    tags = get_json(client, PREFIX + "/tags")
    assert set(tags["bad"]) == {"newer", "future_plugin_data", "truncated", "too_few_blobs", "not_json"}
    assert "upgrade tb-rnn-hidden" in tags["bad"]["future_plugin_data"]["error"]

    body = get_json(client, PREFIX + "/sequences" + query("bad", "newer", 0), 422)
    assert "version %d" % (metadata.PROTO_VERSION + 1) in body["error"]
    assert "upgrade" in body["error"]
    body = get_json(client, PREFIX + "/states" + query("bad", "truncated", 0), 500)
    assert "corrupt" in body["error"] and "states" in body["error"]
    body = get_json(client, PREFIX + "/sequences" + query("bad", "too_few_blobs", 0), 500)
    assert "3 blobs" in body["error"]
    body = get_json(client, PREFIX + "/sequences" + query("bad", "not_json", 0), 500)
    assert "not JSON" in body["error"]
    # The good run is still served after all of that.
    info = get_json(client, PREFIX + "/sequences" + query("good", "lstm", 0))
    assert info["num_sequences"] == 6


def test_non_string_tensor_under_our_plugin_name_is_a_clear_error(logdir):
    """A malformed summary (float tensor claiming our plugin) must not crash anything."""
    summary_pb = summary_pb2.Summary()
    value = summary_pb.value.add(tag="floats")
    value.metadata.CopyFrom(metadata.create_summary_metadata())
    value.tensor.dtype = 1  # DT_FLOAT
    value.tensor.tensor_shape.dim.add(size=7)
    value.tensor.float_val.extend([1.0] * 7)
    with writer.HiddenStateWriter(logdir + "/weird") as w:
        w.add_summary(summary_pb, 0)
    client = make_client(logdir)
    assert get_json(client, PREFIX + "/tags")["weird"]["floats"]["steps"] == [0]
    body = get_json(client, PREFIX + "/sequences" + query("weird", "floats", 0), 500)
    assert "not bytes" in body["error"]


def test_tensorboard_event_file_writer_path(logdir):
    """The documented TF-free path with TensorBoard's own EventFileWriter."""
    import time

    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    data = make_checkpoint(seed=5)
    event_writer = EventFileWriter(logdir + "/efw")
    pb = summary.hidden_states_pb("lstm", **data)
    event_writer.add_event(event_pb2.Event(wall_time=time.time(), step=8, summary=pb))
    event_writer.close()
    client = make_client(logdir)
    assert get_json(client, PREFIX + "/tags")["efw"]["lstm"]["steps"] == [8]
    assert_served_equals(client, "efw", "lstm", 8, data, "float16")


def test_pytorch_summary_writer_path(logdir):
    """The documented PyTorch path: SummaryWriter's file writer takes our Summary."""
    torch = pytest.importorskip("torch", reason="PyTorch is the optional [torch] extra")
    from torch.utils.tensorboard import SummaryWriter

    data = make_checkpoint(seed=6)
    torch_data = dict(
        data,
        states=torch.from_numpy(data["states"]).requires_grad_(),
        probabilities=torch.from_numpy(data["probabilities"]),
        lengths=torch.from_numpy(data["lengths"]),
    )
    torch_writer = SummaryWriter(logdir + "/torch")
    for step in (0, 1):
        pb = summary.hidden_states_pb("rnn/layer0", **torch_data)
        torch_writer._get_file_writer().add_summary(pb, global_step=step)
    torch_writer.close()
    client = make_client(logdir)
    assert get_json(client, PREFIX + "/tags")["torch"]["rnn/layer0"]["steps"] == [0, 1]
    assert_served_equals(client, "torch", "rnn/layer0", 1, data, "float16")


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
