"""PyTorch helpers: every layer's hidden state at every step, and logging them.

The public path of `tb_rnn_hidden.integrations.pytorch`; needs PyTorch, the
optional extra: `pip install tb-rnn-hidden[torch]`.
"""

from tb_rnn_hidden.integrations.pytorch import (  # noqa: F401
    LayerStates,
    log_hidden_states,
    per_step_states,
)

__all__ = ["LayerStates", "per_step_states", "log_hidden_states"]
