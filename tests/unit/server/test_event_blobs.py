"""Names needing JSON escapes read under the Rust data server: blobs read from the event files.

TensorBoard's data server lists a run or tag whose name holds a quote, a
backslash or a control character, but cannot parse its own blob keys for it
(`server/event_blobs.py` says why); the plugin reads those blobs from the
run's event files, taking the record the data server keeps for the step.
These tests run the real data server binary on real event files.
"""

import base64
import json
import os

import numpy as np
import pytest
from tensorboard.backend import application
from tensorboard.plugins import base_plugin
import werkzeug.test

from tb_rnn_hidden import writer
from tb_rnn_hidden.server import event_blobs
from tb_rnn_hidden.server import plugin as rnn_hidden_plugin
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.data_server import data_server_binary, running_data_server
from tests.support.hostile_logdir import checkpoint_of, write_hostile_logdir
from tests.support.plugin_client import PREFIX, plugin_flags

needs_data_server = pytest.mark.skipif(
    data_server_binary() is None, reason="this tensorboard-data-server wheel has no Rust binary"
)


def _client(logdir, provider, tmp_path):
    """The plugin in TensorBoard's WSGI app over `provider`, as TensorBoard builds it."""
    flags = plugin_flags(logdir=logdir, rnn_hidden_precompute="none",
                         rnn_hidden_cache_dir=str(tmp_path / "cache"))
    context = base_plugin.TBContext(logdir=logdir, data_provider=provider, flags=flags)
    app = application.TensorBoardWSGI([rnn_hidden_plugin.RnnHiddenPlugin(context)],
                                      data_provider=provider)
    return werkzeug.test.Client(app, werkzeug.Response)


def _get(client, route, run, tag, step):
    return client.get(PREFIX + route, query_string=dict(run=run, tag=tag, step=step))


def _served_states(response):
    shape = [int(d) for d in response.headers["X-Array-Shape"].split(",")]
    dtype = response.headers["X-Array-Dtype"]
    return np.frombuffer(response.get_data(), dtype=dtype).reshape(shape)


def _data_server_key(run, tag, step, index, experiment=""):
    """A blob key as the data server writes it (serde_json: escapes, but UTF-8 as is)."""
    text = json.dumps([experiment, run, tag, step, index], separators=(",", ":"),
                      ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


@needs_data_server
def test_every_hostile_name_is_listed_and_served_under_the_data_server(tmp_path):
    logdir = str(tmp_path / "logs")
    pairs = write_hostile_logdir(logdir)
    with running_data_server(logdir, expected_runs={run for run, *_ in pairs}) as provider:
        client = _client(logdir, provider, tmp_path)
        listing = json.loads(client.get(PREFIX + "/tags").get_data())
        assert sorted((r, t) for r in listing for t in listing[r]) == sorted(
            (r, t) for r, t, _, _ in pairs)
        failures = []
        for run, tag, step, n in pairs:
            assert listing[run][tag]["steps"] == [step]
            sequences = _get(client, "/sequences", run, tag, step)
            states = _get(client, "/states", run, tag, step)
            depth = client.get(PREFIX + "/annotations", query_string=dict(
                run=run, tag=tag, step=step, name="depth"))
            if {sequences.status_code, states.status_code, depth.status_code} != {200}:
                failures.append((run, tag, sequences.status_code, sequences.get_data()[:120]))
                continue
            data = checkpoint_of(step, n)
            info = json.loads(sequences.get_data())
            assert info["num_sequences"] == n
            assert [track["name"] for track in info["annotations"]] == ["depth", "pos", "flag"]
            np.testing.assert_array_equal(
                _served_states(states),
                valid_steps(data["states"], data["lengths"]).astype(np.float16))
            np.testing.assert_array_equal(  # blob 7 of 8, read from the event files
                _served_states(depth),
                valid_steps(data["annotations"]["depth"], data["lengths"]).astype(np.float32))
    assert failures == []


@needs_data_server
def test_a_restarted_step_serves_what_the_data_server_serves_for_a_plain_name(tmp_path):
    """The same records under a plain tag and a tag with a quote: both answer alike."""
    logdir = str(tmp_path / "logs")
    plain, hostile = "lstm", 'say "hi"'
    first = {step: make_checkpoint(seed=step, n=4 + step) for step in range(4)}
    # A restart from step 1 (a later event file): it rewrites steps 1 and 2, so
    # step 3 of the first run is dropped, as TensorBoard drops it.
    second = {step: make_checkpoint(seed=100 + step, n=10 + step) for step in (1, 2)}
    for name, checkpoints in (("a", first), ("b", second)):
        with writer.HiddenStateWriter(logdir + "/run", filename_suffix=name) as w:
            for step, data in checkpoints.items():
                w.add(plain, step=step, **data)
                w.add(hostile, step=step, **data)
    with running_data_server(logdir, expected_runs={"run"}) as provider:
        client = _client(logdir, provider, tmp_path)
        listing = json.loads(client.get(PREFIX + "/tags").get_data())["run"]
        assert listing[plain]["steps"] == listing[hostile]["steps"] == [0, 1, 2]
        for step, n in ((0, 4), (1, 11), (2, 12)):
            answers = [_get(client, "/sequences", "run", tag, step) for tag in (plain, hostile)]
            assert [a.status_code for a in answers] == [200, 200]
            assert [json.loads(a.get_data())["num_sequences"] for a in answers] == [n, n]
        assert _get(client, "/sequences", "run", hostile, 3).status_code == 404


def test_a_rewritten_step_is_read_again(tmp_path):
    """The cache holds a record only while its run's event files are unchanged."""
    run_dir = tmp_path / "logs" / "run"
    tag = "back\\slash"
    with writer.HiddenStateWriter(str(run_dir), filename_suffix="a") as w:
        w.add(tag, step=5, **make_checkpoint(seed=1, n=3))
    blobs = event_blobs.EventFileBlobs(str(tmp_path / "logs"))
    before = blobs.record_blobs("run", tag, 5)
    assert blobs.record_blobs("run", tag, 5) is before  # cached
    with writer.HiddenStateWriter(str(run_dir), filename_suffix="b") as w:
        w.add(tag, step=5, **make_checkpoint(seed=2, n=7))
    after = blobs.record_blobs("run", tag, 5)
    assert after != before and len(after) == len(before) == 8
    with pytest.raises(Exception, match="no record at step 6"):
        blobs.record_blobs("run", tag, 6)


def test_names_are_recognised_exactly_when_the_data_server_cannot_parse_them():
    for name in ['say "hi"', "back\\slash", "line\nbreak", "tab\there", "bell\x07"]:
        key = _data_server_key("run", name, 3, 2)
        assert event_blobs.escaped_key_address(key) == ("run", name, 3, 2)
        assert event_blobs.escaped_key_address(_data_server_key(name, "t", -1, 0)) == (
            name, "t", -1, 0)
    for name in ["plain", "<script>alert(1)</script>", "\U0001f9e0 \u202e", "100% &?#+"]:
        assert event_blobs.escaped_key_address(_data_server_key("run", name, 3, 2)) is None
    python_loader_key = base64.urlsafe_b64encode(
        json.dumps(["", "rnn_hidden", 'r"', "t", 1, 0]).encode()).decode().rstrip("=")
    for key in [python_loader_key, "???", "", "AAAA", _data_server_key('"', "t", 1.5, 0),
                _data_server_key('"', "t", 1, -1), _data_server_key('"', 3, 1, 0)]:
        assert event_blobs.escaped_key_address(key) is None


@pytest.mark.parametrize("logdir, logdir_spec, data_server, cause", [
    (None, "a:/x,b:/y", None, "--logdir_spec"),
    ("gs://bucket/logs", None, None, "not on a local disk"),
    ("/logs", None, "localhost:6806", "--grpc_data_provider"),
])
def test_where_event_files_cannot_be_read_the_answer_says_why(
        logdir, logdir_spec, data_server, cause):
    blobs = event_blobs.EventFileBlobs(logdir, logdir_spec=logdir_spec, data_server=data_server)
    with pytest.raises(event_blobs.UnreadableNameError) as raised:
        blobs.read_blob('r"', "lstm", 1, 0)
    assert raised.value.http_code == 501
    assert cause in str(raised.value) and "--load_fast=false" in str(raised.value)


def test_only_files_inside_the_logdir_are_read(tmp_path):
    outside = tmp_path / "outside"
    with writer.HiddenStateWriter(str(outside), filename_suffix="x") as w:
        w.add("t\t", step=1, **make_checkpoint())
    logdir = tmp_path / "logs"
    logdir.mkdir()
    os.symlink(outside, logdir / "linked")
    blobs = event_blobs.EventFileBlobs(str(logdir))
    with pytest.raises(event_blobs.UnreadableNameError, match="outside the logdir"):
        blobs.read_blob("linked", "t\t", 1, 0)
    for run in ["../outside", "/abs", "a/../../outside", ""]:
        with pytest.raises(Exception, match="not a directory name inside the logdir"):
            blobs.read_blob(run, "t\t", 1, 0)


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
