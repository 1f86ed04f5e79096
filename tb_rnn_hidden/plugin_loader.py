"""Loads the plugin into TensorBoard and keeps every logged checkpoint by default."""

import logging

from tensorboard.plugins import base_plugin

from tb_rnn_hidden import metadata

logger = logging.getLogger(__name__)


class RnnHiddenLoader(base_plugin.TBLoader):
    """Entry point of the `tensorboard_plugins` group.

    TensorBoard keeps only a sample of the records of a plugin it does not
    know (10 per tag); every checkpoint matters here, so unless the user set
    `--samples_per_plugin=rnn_hidden=K`, all are kept (0 means all).
    """

    def fix_flags(self, flags):
        samples = getattr(flags, "samples_per_plugin", None)
        if isinstance(samples, dict):
            samples.setdefault(metadata.PLUGIN_NAME, 0)
        else:
            logger.warning(
                "rnn_hidden: --samples_per_plugin is %r, not a parsed dict; TensorBoard "
                "may keep only some checkpoints", samples
            )

    def load(self, context):
        from tb_rnn_hidden.rnn_hidden_plugin import RnnHiddenPlugin

        return RnnHiddenPlugin(context)
