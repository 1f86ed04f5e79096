"""Tests of tb_rnn_hidden/projection/: the engines, and the jobs, cache and background work behind the routes."""
