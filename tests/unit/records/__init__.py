"""Tests of tb_rnn_hidden/records/: the record, its codec and both logging paths."""
