"""Logging from training frameworks: the Keras callback and the PyTorch helpers.

Each module imports its framework; import them through `tb_rnn_hidden.keras`
and `tb_rnn_hidden.torch`.
"""
