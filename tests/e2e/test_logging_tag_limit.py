"""The longest tag the logging API accepts is served by a real TensorBoard, under both loaders.

`fields.MAX_TAG_LENGTH` exists because TensorBoard's HTTP server answers 414
to a request line over 65,536 bytes, and the tab sends the tag in the query
string of every request. The worst case is a tag of 4-byte UTF-8 characters
(12 URL characters each); a 100,000-character tag, which the API refuses,
gets 414.
"""

import json
import urllib.parse

import pytest

from tb_rnn_hidden import writer
from tb_rnn_hidden.records import fields
from tests.support.checkpoints import make_checkpoint
from tests.support.tensorboard_process import http_get, running_tensorboard

_RUN = "train/with a run name of a usual length, 2026-11-30"
_WORST_TAG = "\U0001F600" * fields.MAX_TAG_LENGTH
_ROUTES = ["sequences", "tokens", "probabilities", "states", "distances"]


@pytest.mark.parametrize("loader_flag", ["--load_fast=false", "--load_fast=true"])
def test_the_longest_accepted_tag_is_served(tmp_path, loader_flag):
    logdir = str(tmp_path / "logs")
    with writer.HiddenStateWriter(logdir + "/" + _RUN) as w:
        w.add(_WORST_TAG, step=0, **make_checkpoint())
        with pytest.raises(ValueError, match="expected at most %d" % fields.MAX_TAG_LENGTH):
            w.add(_WORST_TAG + "x", step=0, **make_checkpoint())

    with running_tensorboard(logdir, loader_flag) as base:
        status, _, body = http_get(base + "/data/plugin/rnn_hidden/tags")
        assert status == 200
        assert list(json.loads(body)[_RUN]) == [_WORST_TAG]
        for route in _ROUTES:
            query = urllib.parse.urlencode({"run": _RUN, "tag": _WORST_TAG, "step": 0})
            status, _, body = http_get(base + "/data/plugin/rnn_hidden/%s?%s" % (route, query))
            assert status == 200, (route, len(query), body[:200])
        # What the limit prevents: a tag TensorBoard can never serve.
        query = urllib.parse.urlencode({"run": _RUN, "tag": "x" * 100000, "step": 0})
        status, _, _ = http_get(base + "/data/plugin/rnn_hidden/sequences?" + query)
        assert status == 414
