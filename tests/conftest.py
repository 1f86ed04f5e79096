"""Shared test helpers: realistic checkpoints and the plugin served over real TensorBoard parts."""

import argparse
import os
import tempfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def make_checkpoint(seed=0, n=6, t=9, h=5, c=3, tokens=True):
    """Arrays as a training script would log them: tanh states, softmax outputs, padding."""
    rng = np.random.default_rng(seed)
    states = np.tanh(rng.standard_normal((n, t, h))).astype(np.float32)
    logits = rng.standard_normal((n, t, c)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    lengths = rng.integers(1, t + 1, size=n)
    lengths[0] = t  # at least one full-length sequence
    labels = rng.integers(0, c, size=n)
    words = ["good", "bad", "not", "<img src=x onerror=alert(1)>", "ünïcode", "the", "film"]
    token_array = np.array(
        [[words[(i + j) % len(words)] for j in range(t)] for i in range(n)], dtype=object
    )
    return dict(
        states=states,
        probabilities=probabilities,
        tokens=token_array if tokens else None,
        lengths=lengths,
        labels=labels,
        class_names=["class %d" % k for k in range(c)],
    )


def valid_steps(array, lengths):
    """The valid (non-padding) steps of [N, T, ...] array, sequence after sequence."""
    return np.concatenate([array[i, :length] for i, length in enumerate(lengths)])


def plugin_flags(**overrides):
    """The flags TensorBoard would hand the loader, after its own parsing."""
    from tensorboard.plugins.core import core_plugin

    from tb_rnn_hidden.server import loader as plugin_loader

    parser = argparse.ArgumentParser()
    core_plugin.CorePluginLoader().define_flags(parser)
    plugin_loader.RnnHiddenLoader().define_flags(parser)
    flags = parser.parse_args(["--logdir", "unused"])
    for key, value in overrides.items():
        setattr(flags, key, value)
    return flags


def make_data_provider(logdir, samples_per_plugin):
    """A multiplexer and data provider built as TensorBoard's LocalDataIngester builds them."""
    from tensorboard.backend.event_processing import data_ingester
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem

    guidance = dict(data_ingester.DEFAULT_TENSOR_SIZE_GUIDANCE)
    guidance.update(samples_per_plugin)
    mux = pem.EventMultiplexer(
        size_guidance=data_ingester.DEFAULT_SIZE_GUIDANCE, tensor_size_guidance=guidance
    )
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    return data_provider.MultiplexerDataProvider(mux, logdir)


def make_client(logdir, *, use_loader=True):
    """A werkzeug client for TensorBoard's WSGI app with this plugin, on `logdir`."""
    import werkzeug.test
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin

    from tb_rnn_hidden.server import loader as plugin_loader
    from tb_rnn_hidden.server import plugin as rnn_hidden_plugin

    # No background layouts (they would outlive the test), and no cache in the user's home.
    flags = plugin_flags(rnn_hidden_precompute="none",
                         rnn_hidden_cache_dir=tempfile.mkdtemp(prefix="rnn_hidden_cache_"))
    loader = plugin_loader.RnnHiddenLoader()
    if use_loader:
        loader.fix_flags(flags)
    provider = make_data_provider(logdir, flags.samples_per_plugin)
    context = base_plugin.TBContext(logdir=logdir, data_provider=provider, flags=flags)
    plugin = rnn_hidden_plugin.RnnHiddenPlugin(context)
    app = application.TensorBoardWSGI([plugin], data_provider=provider)
    return werkzeug.test.Client(app, werkzeug.Response)


@pytest.fixture
def logdir(tmp_path):
    return str(tmp_path / "logs")
