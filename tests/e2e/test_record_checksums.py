"""End to end: a byte flipped on disk inside a record's event, under a real `tensorboard`.

The event's own CRC no longer matches. TensorBoard's Python loader stops
reading the file there (the step is not listed); the Rust data server does
not check it and hands the damaged bytes on, which the record's own checksum
catches: never a 200 with garbage.
"""

import glob
import json

import numpy as np
import pytest

from tb_rnn_hidden import writer
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata
from tests.e2e.test_tensorboard import LOADERS
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.tensorboard_process import http_get, running_tensorboard

ROUTE = "/data/plugin/rnn_hidden"


def _flip_on_disk(run_dir, blob):
    """Flips one bit in the middle of `blob` where it lies in the run's event file."""
    (path,) = glob.glob(run_dir + "/events.out.tfevents.*")
    with open(path, "rb") as f:
        contents = bytearray(f.read())
    at = contents.find(blob)
    assert at >= 0 and contents.find(blob, at + 1) < 0
    contents[at + len(blob) // 2] ^= 0x04
    with open(path, "wb") as f:
        f.write(contents)


@pytest.mark.parametrize("loader_flag", LOADERS)
def test_a_flipped_byte_in_an_event_file_is_never_served(tmp_path, loader_flag):
    logdir = str(tmp_path / "logs")
    checkpoints = {step: make_checkpoint(seed=step) for step in (0, 1)}
    with writer.HiddenStateWriter(logdir + "/train") as w:
        for step, data in checkpoints.items():
            w.add("lstm", step=step, **data)
    states_blob = codec.encode_checkpoint(**checkpoints[1])[metadata.BLOB_STATES]
    _flip_on_disk(logdir + "/train", states_blob)

    with running_tensorboard(logdir, loader_flag) as base:
        status, headers, body = http_get(base + ROUTE + "/states?run=train&tag=lstm&step=0")
        assert status == 200  # the step before the damage is served
        expected = valid_steps(checkpoints[0]["states"], checkpoints[0]["lengths"])
        np.testing.assert_array_equal(
            np.frombuffer(body, np.float16).reshape(expected.shape), expected.astype(np.float16)
        )
        listed = json.loads(http_get(base + ROUTE + "/tags")[2])["train"]["lstm"]["steps"]
        status, _, body = http_get(base + ROUTE + "/states?run=train&tag=lstm&step=1")
        assert status != 200, "the damaged record was served (%d bytes)" % len(body)
        message = json.loads(body)["error"]
        if 1 in listed:  # the Rust data server: the damaged record is listed
            assert status == 500, message
            assert "blob 'states' fails its checksum" in message
        else:  # the Python loader dropped it at the bad event CRC
            assert status == 404, message
        assert loader_flag != "--load_fast=true" or 1 in listed
