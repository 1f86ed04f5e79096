"""A memory cache bounded by bytes, shared by the checkpoint reader and the projection jobs."""

import collections
import threading

import numpy as np


class ByteBudgetCache:
    """Least-recently-used values, evicted once their bytes exceed a budget."""

    def __init__(self, budget_bytes):
        self._budget = budget_bytes
        self._entries = collections.OrderedDict()  # key -> (value, nbytes)
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        """The cached value, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key, value):
        """Stores `value` (replacing any under `key`) unless it alone exceeds the budget."""
        nbytes = _nbytes(value)
        if nbytes > self._budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, nbytes)
            self._bytes += nbytes
            while self._bytes > self._budget:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def get_or_compute(self, key, compute):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        value = compute()  # outside the lock: other requests go on meanwhile
        with self._lock:
            computed_meanwhile = key in self._entries
        if not computed_meanwhile:
            self.put(key, value)
        return value


def _nbytes(value):
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, (list, tuple)):
        return 64 + sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return 256 + sum(_nbytes(v) for v in value.values())
    return 64
