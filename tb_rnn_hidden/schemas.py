"""The JSON definitions in tb_rnn_hidden/schema/, read once.

The frontend imports the same files, so each is the one definition of what it
describes: `projection_params` (the projection parameters) and `record_header`
(the fields of a logged record's header). Callers must not mutate what `load`
returns.
"""

import functools
import json
import os

_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema")


@functools.lru_cache(maxsize=None)
def load(name):
    """The parsed tb_rnn_hidden/schema/<name>.json."""
    with open(os.path.join(_DIR, name + ".json"), encoding="utf-8") as f:
        return json.load(f)
