"""Helpers the tests import explicitly: checkpoints, the plugin's WSGI client, a real `tensorboard`, the browser."""
