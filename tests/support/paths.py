"""Paths in the repository that tests use, wherever the test module lives."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The demo that trains a Keras LSTM and logs its hidden states.
DEMO = os.path.join(ROOT, "demo", "train.py")
