"""Writing hidden-state summaries without TensorFlow, as TensorBoard event files.

The public path of `tb_rnn_hidden.records.writer`.
"""

from tb_rnn_hidden.records.writer import HiddenStateWriter

__all__ = ["HiddenStateWriter"]
