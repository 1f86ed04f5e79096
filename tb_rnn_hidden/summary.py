"""Logging API: the hidden states of one checkpoint as a TensorBoard summary.

The public path of `tb_rnn_hidden.records.summary`: `hidden_states` is a TF2
summary op used like `tf.summary.histogram`; `hidden_states_pb` builds the same
record as a `Summary` protobuf without TensorFlow.
"""

from tb_rnn_hidden.records.summary import hidden_states, hidden_states_pb

__all__ = ["hidden_states", "hidden_states_pb"]
