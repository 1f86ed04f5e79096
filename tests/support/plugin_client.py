"""The plugin served over real TensorBoard parts: flags, data provider, WSGI client."""

import argparse
import json
import tempfile

PREFIX = "/data/plugin/rnn_hidden"


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


def get_json(client, path):
    """The JSON body of a 200 answer to GET `path`."""
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data())
