"""Disk cache of 2-D projections, keyed by what determines them.

A result file holds one float32 [P, 2] array. Its name is the SHA-256 of
everything the coordinates depend on (`result_key`): the checkpoint's states
and lengths, the projection parameters with `align` resolved to the actual
initialisation (cold, or the neighbour's step and the SHA-256 of its
coordinates), the library versions, and `FORMAT_VERSION`.

Because an aligned result depends on which neighbour was done when it was
computed, a request (data + unresolved params) is mapped to its result by a
small pointer file named by `request_key`; the first result computed for a
request is the one served from then on.

Layout under the cache directory:

    v<FORMAT_VERSION>/results/<result_key>.bin   magic, header length (u32 LE),
                                                 JSON header, raw payload
    v<FORMAT_VERSION>/requests/<request_key>.json {"result": <result_key>}

The JSON header carries the payload's shape, dtype, size and SHA-256, and the
result's metadata. Every file is written to a temporary name and moved into
place with `os.replace`, so a reader sees a whole file or none. On read the
size and hash are verified; a corrupt or partial file is logged, deleted and
reported missing, so the projection is recomputed.
"""

import hashlib
import json
import logging
import os
import struct
import tempfile

import numpy as np

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_MAGIC = b"TBRNNPJ1"


def default_cache_dir():
    """$XDG_CACHE_HOME (or ~/.cache) /tb_rnn_hidden/projections."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tb_rnn_hidden", "projections")


def data_hash(states, lengths):
    """SHA-256 of a checkpoint's states (stored dtype and shape) and lengths."""
    states = np.ascontiguousarray(states)
    h = hashlib.sha256()
    h.update(("%s %s|" % (states.dtype.str, states.shape)).encode())
    h.update(memoryview(states).cast("B"))
    h.update(b"|lengths|")
    h.update(np.ascontiguousarray(lengths, dtype="<i8").tobytes())
    return h.hexdigest()


def _key(**fields):
    fields["format"] = FORMAT_VERSION
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def request_key(data_sha256, params_dict, versions):
    """Identifies a request: identical concurrent requests share one job."""
    return _key(kind="request", data=data_sha256, params=params_dict, versions=versions)


def result_key(data_sha256, params_dict, versions, init):
    """Identifies coordinates; `init` is "cold" or {"step", "sha256"} of the neighbour."""
    return _key(kind="result", data=data_sha256, params=params_dict, versions=versions, init=init)


def payload_hash(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _atomic_write(path, data):
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class DiskCache:
    """Results and request pointers in `directory` (created on first write)."""

    def __init__(self, directory):
        self.directory = directory
        self._root = os.path.join(directory, "v%d" % FORMAT_VERSION)

    def result_path(self, key):
        return os.path.join(self._root, "results", key + ".bin")

    def request_path(self, key):
        return os.path.join(self._root, "requests", key + ".json")

    def put(self, request, result, coords, meta):
        """Stores `coords` under `result` and points `request` at it. Never raises."""
        coords = np.ascontiguousarray(coords, dtype="<f4")
        payload = coords.tobytes()
        header = dict(
            shape=list(coords.shape),
            dtype="<f4",
            size=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(),
            meta=meta,
        )
        header_bytes = json.dumps(header, sort_keys=True).encode()
        try:
            _atomic_write(
                self.result_path(result),
                _MAGIC + struct.pack("<I", len(header_bytes)) + header_bytes + payload,
            )
            _atomic_write(self.request_path(request), json.dumps({"result": result}).encode())
        except OSError as e:
            logger.warning("rnn_hidden: cannot write the projection cache in %s: %s", self._root, e)

    def get(self, request):
        """(coords, meta) of the result `request` points to, or None."""
        path = self.request_path(request)
        try:
            with open(path, "rb") as f:
                result = json.loads(f.read())["result"]
            if not isinstance(result, str) or len(result) != 64:
                raise ValueError("bad result key %r" % (result,))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            self._discard(path, "unreadable request pointer: %s" % e)
            return None
        found = self.get_result(result)
        if found is None:
            self._discard(path, "it points to a missing or corrupt result")
        return found

    def get_result(self, key):
        path = self.result_path(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            logger.warning("rnn_hidden: cannot read cached projection %s: %s", path, e)
            return None
        try:
            if data[: len(_MAGIC)] != _MAGIC:
                raise ValueError("bad magic")
            (header_size,) = struct.unpack_from("<I", data, len(_MAGIC))
            start = len(_MAGIC) + 4
            header = json.loads(data[start : start + header_size])
            payload = data[start + header_size :]
            if len(payload) != header["size"]:
                raise ValueError("payload is %d bytes; expected %d" % (len(payload), header["size"]))
            if hashlib.sha256(payload).hexdigest() != header["sha256"]:
                raise ValueError("payload SHA-256 mismatch")
            shape = tuple(header["shape"])
            coords = np.frombuffer(payload, dtype=header["dtype"]).reshape(shape)
            coords = coords.astype(np.float32)
        except (ValueError, KeyError, TypeError, struct.error) as e:
            self._discard(path, str(e))
            return None
        return coords, header["meta"]

    def _discard(self, path, why):
        logger.warning("rnn_hidden: discarding corrupt projection cache file %s (%s)", path, why)
        try:
            os.unlink(path)
        except OSError:
            pass
