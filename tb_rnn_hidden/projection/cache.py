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
place with `os.replace`, so a reader sees a whole file or none.

Nothing in a file is trusted: the cache directory may be shared, hand-edited
or corrupt. A key is exactly 64 lowercase hex characters before it becomes a
file name, and a path is used only if it resolves inside the versioned
directory, so a pointer cannot lead outside it. On read the size and hash are
verified, and the result must fit the request (`num_points` rows of two finite
coordinates, metadata of the expected types); anything else is logged,
deleted (only the file inside the cache) and reported missing, so the
projection is recomputed.

The directory is kept under `max_bytes`: a read refreshes a file's recency
(its mtime), and after each write the least recently used results, and the
pointers to them, are deleted until the total fits.
"""

import hashlib
import json
import logging
import math
import os
import re
import struct
import tempfile
import time

import numpy as np

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_MAX_BYTES = 2 << 30
_MAGIC = b"TBRNNPJ1"
_KEY = re.compile(r"[0-9a-f]{64}")
_RESULT_NAME = re.compile(r"([0-9a-f]{64})\.bin")
_REQUEST_NAME = re.compile(r"[0-9a-f]{64}\.json")
_POINTER_MAX_BYTES = 4096  # {"result": <64 hex>} is 76 bytes
_HEADER_MAX_BYTES = 1 << 20

# The metadata fields the service reads from a stored result, and their types.
_META_TYPES = dict(
    result_key=(str,),
    sha256=(str,),
    aligned_to=(int, type(None)),
    params=(dict,),
    num_points=(int,),
    compute_seconds=(int, float),
    versions=(dict,),
    info=(dict, type(None)),
)


class CorruptCacheFile(ValueError):
    """A cache file that must not be served."""


# What reading a request pointer can raise when it is not one (CorruptCacheFile included).
_UNREADABLE_POINTER = (OSError, ValueError, KeyError, TypeError, RecursionError)


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


def is_key(key):
    """Whether `key` can name a cache file: exactly 64 lowercase hex characters."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


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


def _touch(path):
    """Marks `path` as just used (nanosecond mtime: consecutive uses never tie)."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


def _encode(coords, meta):
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
    return _MAGIC + struct.pack("<I", len(header_bytes)) + header_bytes + payload


def _read_limit(num_points):
    """The most bytes a result file of `num_points` points can hold (-1: no limit)."""
    return -1 if num_points is None else len(_MAGIC) + 4 + _HEADER_MAX_BYTES + 8 * num_points


def _decode(data, num_points):
    """(coords, meta) of a result file's bytes; CorruptCacheFile if it does not fit."""
    try:
        if data[: len(_MAGIC)] != _MAGIC:
            raise CorruptCacheFile("bad magic")
        (header_size,) = struct.unpack_from("<I", data, len(_MAGIC))
        start = len(_MAGIC) + 4
        header = json.loads(data[start : start + header_size])
    except (ValueError, struct.error, RecursionError) as e:
        raise CorruptCacheFile("unreadable header: %s" % e)
    if not isinstance(header, dict):
        raise CorruptCacheFile("the header is %s, not an object" % type(header).__name__)
    payload = data[start + header_size :]
    if header.get("size") != len(payload):
        raise CorruptCacheFile(
            "payload is %d bytes; the header says %r" % (len(payload), header.get("size"))
        )
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise CorruptCacheFile("payload SHA-256 mismatch")
    if header.get("dtype") != "<f4":
        raise CorruptCacheFile("dtype is %r; expected '<f4'" % (header.get("dtype"),))
    rows = len(payload) // 8
    if header.get("shape") != [rows, 2] or len(payload) % 8:
        raise CorruptCacheFile(
            "shape is %r for %d payload bytes; expected [P, 2]" % (header.get("shape"), len(payload))
        )
    if num_points is not None and rows != num_points:
        raise CorruptCacheFile("%d points; the checkpoint has %d" % (rows, num_points))
    coords = np.frombuffer(payload, dtype="<f4").reshape(rows, 2).astype(np.float32)
    if not np.isfinite(coords).all():
        raise CorruptCacheFile("coordinates are not all finite")
    meta = header.get("meta")
    _check_meta(meta, rows, header["sha256"])
    return coords, meta


def _check_meta(meta, rows, sha256):
    if not isinstance(meta, dict):
        raise CorruptCacheFile("meta is %s; expected an object" % type(meta).__name__)
    for name, types in _META_TYPES.items():
        value = meta.get(name)
        if not isinstance(value, types) or isinstance(value, bool):
            raise CorruptCacheFile(
                "meta %r is %r; expected %s" % (name, value, " or ".join(t.__name__ for t in types))
            )
    if meta["num_points"] != rows or meta["sha256"] != sha256:
        raise CorruptCacheFile("meta does not describe the payload (num_points, sha256)")
    if not math.isfinite(meta["compute_seconds"]):
        raise CorruptCacheFile("meta 'compute_seconds' is not finite")


class DiskCache:
    """Results and request pointers in `directory` (created on first write), kept
    under `max_bytes` by deleting the least recently used results."""

    def __init__(self, directory, max_bytes=DEFAULT_MAX_BYTES):
        self.directory = directory
        self.max_bytes = max_bytes
        self._root = os.path.join(directory, "v%d" % FORMAT_VERSION)

    # -- paths: only from validated keys, only inside the versioned directory --

    def result_path(self, key):
        return self._path("results", key, ".bin")

    def request_path(self, key):
        return self._path("requests", key, ".json")

    def _path(self, kind, key, suffix):
        if not is_key(key):
            raise CorruptCacheFile("key %r is not 64 lowercase hex characters" % (key,))
        path = os.path.join(self._root, kind, key + suffix)
        if not self._holds(os.path.dirname(path)):
            raise CorruptCacheFile("%s resolves outside the cache" % os.path.dirname(path))
        return path

    def _open(self, path, what):
        """`path` opened for reading, if it (all links resolved) is inside the cache."""
        if not self._inside(path):
            raise CorruptCacheFile("the %s resolves outside the cache directory" % what)
        return open(path, "rb")

    def _inside(self, path):
        """Whether `path`, all links resolved, lies inside the versioned directory."""
        root = os.path.realpath(self._root)
        return os.path.realpath(path).startswith(root + os.sep)

    def _holds(self, directory):
        """Whether `directory`, all links resolved, is the versioned directory or inside it:
        unlinking an entry of it deletes nothing outside the cache."""
        return self._inside(os.path.join(directory, "entry"))

    # -- writing ------------------------------------------------------------

    def put(self, request, result, coords, meta):
        """Stores `coords` under `result` and points `request` at it, then evicts the
        least recently used results over the budget. Never raises."""
        try:
            data = _encode(coords, meta)
            if len(data) > self.max_bytes:
                logger.warning(
                    "rnn_hidden: a projection of %d bytes exceeds the cache budget "
                    "(--rnn_hidden_cache_max_bytes=%d); not cached", len(data), self.max_bytes,
                )
                return
            result_path, request_path = self.result_path(result), self.request_path(request)
            _atomic_write(result_path, data)
            _atomic_write(request_path, json.dumps({"result": result}).encode())
            _touch(result_path)
            self.evict()
        except (OSError, ValueError) as e:
            logger.warning("rnn_hidden: cannot write the projection cache in %s: %s", self._root, e)

    # -- reading ------------------------------------------------------------

    def get(self, request, num_points=None):
        """(coords, meta) of the result `request` points to, or None. With `num_points`,
        a result of another number of points is corrupt."""
        try:
            path = self.request_path(request)
        except CorruptCacheFile as e:
            logger.warning("rnn_hidden: not reading the projection cache: %s", e)
            return None
        try:
            result = self._read_pointer(path)
        except FileNotFoundError:
            return None
        except _UNREADABLE_POINTER as e:
            self._discard(path, "unreadable request pointer: %s" % e)
            return None
        found = self.get_result(result, num_points)
        if found is None:
            self._discard(path, "it points to a missing or corrupt result")
        else:
            self._refresh(path)
        return found

    def _read_pointer(self, path):
        """The result key a request pointer names; one of `_UNREADABLE_POINTER` if it
        does not name one, or resolves outside the cache."""
        with self._open(path, "request pointer") as f:
            pointer = json.loads(f.read(_POINTER_MAX_BYTES))
        result = pointer["result"] if isinstance(pointer, dict) else None
        if not is_key(result):
            raise CorruptCacheFile("it names %r, not a result key" % (result,))
        return result

    def get_result(self, key, num_points=None):
        try:
            path = self.result_path(key)
        except CorruptCacheFile as e:
            logger.warning("rnn_hidden: not reading the projection cache: %s", e)
            return None
        try:
            with self._open(path, "result") as f:
                data = f.read(_read_limit(num_points))
                too_long = f.read(1)
        except FileNotFoundError:
            return None
        except CorruptCacheFile as e:
            self._discard(path, str(e))
            return None
        except OSError as e:
            logger.warning("rnn_hidden: cannot read cached projection %s: %s", path, e)
            return None
        try:
            if too_long:
                raise CorruptCacheFile("longer than a result of %s points" % num_points)
            found = _decode(data, num_points)
        except CorruptCacheFile as e:
            self._discard(path, str(e))
            return None
        self._refresh(path)
        return found

    def _refresh(self, path):
        try:
            _touch(path)
        except OSError:
            pass  # a read-only cache still serves

    def _discard(self, path, why):
        """Deletes the cache entry `path` (a link itself, never what it names), and only
        if its directory is inside the cache."""
        logger.warning("rnn_hidden: discarding corrupt projection cache file %s (%s)", path, why)
        if not self._holds(os.path.dirname(path)):
            logger.warning("rnn_hidden: not deleting %s: outside the cache directory", path)
            return
        try:
            os.unlink(path)
        except OSError:
            pass

    # -- the size budget ----------------------------------------------------

    def evict(self):
        """Deletes the least recently used results (and the pointers to them) until the
        versioned directory holds at most `max_bytes`. Only cache-named entries of its
        own `results/` and `requests/` are ever deleted."""
        results = self._entries("results", _RESULT_NAME)
        pointers = self._entries("requests", _REQUEST_NAME)
        total = sum(size for _, size, _ in results) + sum(size for _, size, _ in pointers)
        if total <= self.max_bytes:
            return
        evicted = set()
        for path, size, _ in sorted(results, key=lambda entry: (entry[2], entry[0])):
            if total <= self.max_bytes:
                break
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                logger.warning("rnn_hidden: cannot evict %s: %s", path, e)
                continue
            total -= size
            evicted.add(_RESULT_NAME.fullmatch(os.path.basename(path)).group(1))
        for path, _, _ in pointers:
            try:
                pointed = self._read_pointer(path)
            except _UNREADABLE_POINTER:
                continue
            if pointed in evicted:
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _entries(self, kind, name_pattern):
        """[(path, size, mtime_ns)] of the cache-named plain files of `kind`."""
        directory = os.path.join(self._root, kind)
        if not self._holds(directory):
            return []
        found = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if not name_pattern.fullmatch(entry.name):
                        continue
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    found.append((entry.path, stat.st_size, stat.st_mtime_ns))
        except OSError:
            return []
        return found

