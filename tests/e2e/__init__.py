"""End to end: a real `tensorboard` process, or a demo script run as a user runs it."""
