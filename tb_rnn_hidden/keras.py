"""Keras callback: log a model's recurrent hidden states at checkpoints during `fit`.

The public path of `tb_rnn_hidden.integrations.keras_callback`; needs Keras 3
with the TensorFlow backend.
"""

from tb_rnn_hidden.integrations.keras_callback import HiddenStateCallback

__all__ = ["HiddenStateCallback"]
