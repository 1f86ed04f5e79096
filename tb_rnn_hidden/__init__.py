"""tb-rnn-hidden: a TensorBoard plugin for the hidden states of recurrent networks.

Log with `tb_rnn_hidden.summary.hidden_states` (TensorFlow) or
`tb_rnn_hidden.summary.hidden_states_pb` + `tb_rnn_hidden.writer.HiddenStateWriter`
(no TensorFlow); view in TensorBoard's "RNN Hidden States" tab.
"""

__version__ = "0.1.0"
