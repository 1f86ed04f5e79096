"""Loads the plugin into TensorBoard and keeps every logged checkpoint by default."""

import logging

from tensorboard.plugins import base_plugin

from tb_rnn_hidden.projection import cache as projection_cache
from tb_rnn_hidden.records import metadata
from tb_rnn_hidden.server import reader as reader_defaults
from tb_rnn_hidden.server import requests

logger = logging.getLogger(__name__)


class RnnHiddenLoader(base_plugin.TBLoader):
    """Entry point of the `tensorboard_plugins` group.

    TensorBoard keeps only a sample of the records of a plugin it does not
    know (10 per tag); every checkpoint matters here, so unless the user set
    `--samples_per_plugin=rnn_hidden=K`, all are kept (0 means all).
    """

    def define_flags(self, parser):
        group = parser.add_argument_group("rnn_hidden plugin")
        group.add_argument(
            "--rnn_hidden_projection_workers",
            type=_positive_int,
            default=1,
            help="rnn_hidden: number of 2-D projection jobs (t-SNE, PCA, UMAP) computed at "
            "once, each on a worker thread (default 1).",
        )
        group.add_argument(
            "--rnn_hidden_cache_dir",
            default=None,
            help="rnn_hidden: directory of the projection disk cache (default "
            "$XDG_CACHE_HOME/tb_rnn_hidden/projections, or ~/.cache/...).",
        )
        group.add_argument(
            "--rnn_hidden_precompute",
            choices=("none", "tsne", "pca"),
            default="tsne",
            help="rnn_hidden: lay out every checkpoint in the background as it arrives, "
            "with this method (default tsne; `none` turns it off): the checkpoint on "
            "screen first, then its neighbours in training order, each aligned to the "
            "nearest one done. Projections a user asks for always go first.",
        )
        group.add_argument(
            "--rnn_hidden_precompute_interval",
            type=float,
            default=30.0,
            help="rnn_hidden: seconds between scans for new checkpoints once every "
            "checkpoint is laid out (default 30).",
        )

        _define_memory_flags(group)
        # What one projection request may cost (projection/limits.py, jobs.QueueFull).
        group.add_argument(
            "--rnn_hidden_max_points",
            type=_positive_int,
            default=1 << 20,
            help="rnn_hidden: the most points (valid steps of a checkpoint) a projection may "
            "lay out (default 1048576); a checkpoint with more is answered 413. A job whose "
            "estimated memory exceeds the memory available is refused too.",
        )
        group.add_argument(
            "--rnn_hidden_max_queued_jobs",
            type=_positive_int,
            default=16,
            help="rnn_hidden: the most projection jobs users may have queued or running at "
            "once (default 16); one more is answered 429 with Retry-After.",
        )

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
        from tb_rnn_hidden.server.plugin import RnnHiddenPlugin

        return RnnHiddenPlugin(context)


def _positive_int(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not an integer" % text)
    if value < 1:
        raise argparse.ArgumentTypeError("%d is not >= 1" % value)
    return value


def _define_memory_flags(group):
    """What bounds the plugin's memory and disk (README "Memory")."""
    group.add_argument(
        "--rnn_hidden_cache_max_bytes",
        type=_positive_int,
        default=projection_cache.DEFAULT_MAX_BYTES,
        help="rnn_hidden: size budget in bytes of the projection disk cache (default "
        "2147483648, 2 GiB); beyond it the least recently used projections are deleted.",
    )
    group.add_argument(
        "--rnn_hidden_memory_cache_bytes",
        type=_positive_int,
        default=reader_defaults.DEFAULT_CACHE_BYTES,
        help="rnn_hidden: bytes of decoded checkpoints kept in memory, least recently "
        "used evicted first (default 1073741824, 1 GiB; a 512 x 200 x 256 float16 "
        "checkpoint takes about 52 MiB).",
    )
    group.add_argument(
        "--rnn_hidden_max_array_requests",
        type=_positive_int,
        default=requests.DEFAULT_ARRAY_REQUESTS,
        help="rnn_hidden: array answers (/states, /distances, /probabilities, /tokens) "
        "read and sent at once (default 6); more wait up to 10 s, then get 429 with "
        "Retry-After. Each in flight holds about 2 MiB besides the cached checkpoint.",
    )
