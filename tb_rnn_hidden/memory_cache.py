"""A memory cache bounded by bytes, shared by the checkpoint reader and the projection jobs."""

import collections
import dataclasses
import threading

import numpy as np


class ByteBudgetCache:
    """Least-recently-used values, evicted once their bytes exceed a budget."""

    def __init__(self, budget_bytes):
        self._budget = budget_bytes
        self._entries = collections.OrderedDict()  # key -> (value, nbytes)
        self._bytes = 0
        self._lock = threading.Lock()
        self._computing = {}  # key -> threading.Event set when its computation ends

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
        """The cached value of `key`, else `compute()` stored under it.

        One computation per key at a time: concurrent callers of a key being computed
        wait for it instead of computing their own copy (50 concurrent first requests
        for one checkpoint would otherwise each decode it). If it fails, a waiting
        caller computes in its turn.
        """
        while True:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key][0]
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    break
            running.wait()
        try:
            value = compute()  # outside the lock: other keys go on meanwhile
            self.put(key, value)
        finally:
            with self._lock:
                del self._computing[key]
            running.set()
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
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # e.g. annotation tracks
        return 64 + sum(_nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    return 64
