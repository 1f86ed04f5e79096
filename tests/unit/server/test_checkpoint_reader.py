"""The reader's cache: decoded blobs are read once, and memory stays within its budget."""

import numpy as np
import pytest
from tensorboard import context

from tb_rnn_hidden import memory_cache
from tb_rnn_hidden.server import reader as checkpoint_reader
from tb_rnn_hidden import writer
from tests.support.checkpoints import make_checkpoint
from tests.support.plugin_client import make_data_provider


def test_cache_evicts_least_recently_used_beyond_its_budget():
    cache = memory_cache.ByteBudgetCache(100)
    calls = []

    def compute(name):
        def make():
            calls.append(name)
            return np.zeros(40, dtype=np.uint8)

        return make

    for name in ("a", "b", "a", "c"):  # "a" is used again before "c" arrives
        cache.get_or_compute(name, compute(name))
    assert calls == ["a", "b", "c"]
    cache.get_or_compute("a", compute("a"))  # still cached
    cache.get_or_compute("b", compute("b"))  # evicted by "c": computed again
    assert calls == ["a", "b", "c", "b"]
    too_big = cache.get_or_compute("huge", lambda: np.zeros(500, dtype=np.uint8))
    assert too_big.size == 500  # served, but not kept
    cache.get_or_compute("a", compute("a"))
    assert calls[-1] == "b"  # "a" survived: the oversized value did not evict it


def test_each_blob_is_read_from_the_data_provider_once(tmp_path):
    logdir = str(tmp_path)
    with writer.HiddenStateWriter(logdir + "/run") as w:
        w.add("lstm", step=1, **make_checkpoint())
    provider = make_data_provider(logdir, {"rnn_hidden": 0})
    reads = []
    original = provider.read_blob

    def counting_read_blob(ctx=None, *, blob_key):
        reads.append(blob_key)
        return original(ctx, blob_key=blob_key)

    provider.read_blob = counting_read_blob
    reader = checkpoint_reader.CheckpointReader(provider)
    ctx = context.RequestContext()
    for _ in range(3):
        checkpoint = reader.checkpoint(ctx, "", "run", "lstm", 1)
        checkpoint.states, checkpoint.distances, checkpoint.final_probabilities
    assert len(reads) == len(set(reads)) == 4  # header, lengths, probabilities, states


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
