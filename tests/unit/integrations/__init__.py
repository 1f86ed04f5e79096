"""Tests of tb_rnn_hidden/integrations/: the Keras callback and the PyTorch helper."""
