"""Tests of tb_rnn_hidden/server/: the plugin's routes and its checkpoint reader."""
