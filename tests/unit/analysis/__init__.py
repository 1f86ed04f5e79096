"""Tests of tb_rnn_hidden/analysis/: figures derived from one checkpoint."""
