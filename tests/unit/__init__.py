"""Unit tests, grouped as the package is: one folder per folder of tb_rnn_hidden/."""
