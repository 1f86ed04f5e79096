"""Reads the blobs TensorBoard's Rust data server lists but cannot read back.

The data server (`--load_fast`, the default) names a blob by base64url(JSON
of [experiment, run, tag, step, index]) and parses that JSON back into
*borrowed* strings (`WireBlobKey<'a>(&'a str, ...)` in its `blob_key.rs`),
which serde_json cannot do for a string holding an escape sequence. So a run
or tag whose name has a quote, a backslash or a control character (newline,
tab, ...) is listed by ReadBlobSequences, and every ReadBlob of it answers
"failed to parse blob key: BadJson(... expected a borrowed string)"
(tensorboard-data-server 0.7.2). With `--load_fast=false` such names serve.

`BlobFallbackProvider` wraps the data provider: when the data server rejects a
key for that reason, the blob is read from the run's event files directly,
read-only and only inside the logdir, with TensorBoard's own event-file reader,
taking the record the data server keeps for that step. Where that is
impossible (a remote logdir, `--logdir_spec`, a separate data server), the
answer says why and that `--load_fast=false` reads such names.
"""

import base64
import binascii
import json
import math
import os
import stat
import threading

from tensorboard import errors
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat import tf
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto import types_pb2

from tb_rnn_hidden import memory_cache

# The data server's run discovery: files whose name contains this are event files.
_EVENT_FILE_INFIX = "tfevents"
DEFAULT_CACHE_BYTES = 256 << 20


class UnreadableNameError(errors.PublicError):
    """A name the data server cannot read back, where the event files cannot be read either."""

    http_code = 501


def escaped_key_address(blob_key):
    """(run, tag, step, index) of a data-server blob key whose JSON needs escapes, else None.

    Those are exactly the keys the data server cannot parse: serde_json
    escapes only `"`, `\\` and control characters, each with a backslash.
    Keys of TensorBoard's Python loader have six fields (with the plugin name),
    so they are never taken for data-server keys.
    """
    try:
        text = base64.urlsafe_b64decode(blob_key + "=" * (-len(blob_key) % 4))
        fields = json.loads(text)
    except (binascii.Error, ValueError, TypeError):
        return None
    if b"\\" not in text or not isinstance(fields, list) or len(fields) != 5:
        return None
    _, run, tag, step, index = fields
    if not (isinstance(run, str) and isinstance(tag, str)):
        return None
    if not all(type(n) is int and n >= lowest for n, lowest in ((step, -(2**63)), (index, 0))):
        return None
    return run, tag, step, index


class BlobFallbackProvider:
    """The data provider, reading from event files the blobs its data server cannot."""

    def __init__(self, data_provider, event_blobs):
        self._data_provider = data_provider
        self._event_blobs = event_blobs

    def __getattr__(self, name):
        return getattr(self._data_provider, name)

    def read_blob(self, ctx=None, *, blob_key):
        try:
            return self._data_provider.read_blob(ctx, blob_key=blob_key)
        except errors.InvalidArgumentError:
            address = escaped_key_address(blob_key)
            if address is None:
                raise
            return self._event_blobs.read_blob(*address)


def with_event_file_fallback(context):
    """`context.data_provider`, wrapped so that names needing JSON escapes read under both loaders.

    The logdir is TensorBoard's `--logdir`, the one its data server reads.
    """
    flags = context.flags
    logdir = getattr(context, "logdir", None) or getattr(flags, "logdir", None)
    return BlobFallbackProvider(
        context.data_provider,
        EventFileBlobs(
            logdir,
            logdir_spec=getattr(flags, "logdir_spec", None),
            data_server=getattr(flags, "grpc_data_provider", None),
        ),
    )


class EventFileBlobs:
    """Blobs of hidden-state records read from a run's event files, cached by bytes.

    A cached record is kept with the names, sizes and modification times of
    its run's event files, and read again once they change (a restart may have
    rewritten the step).
    """

    def __init__(self, logdir, *, logdir_spec=None, data_server=None,
                 cache_bytes=DEFAULT_CACHE_BYTES):
        self._logdir = logdir
        self._unreadable_because = _why_unreadable(logdir, logdir_spec, data_server)
        self._cache = memory_cache.ByteBudgetCache(cache_bytes)
        self._scan_lock = threading.Lock()  # one scan at a time: bounded I/O and memory

    def read_blob(self, run, tag, step, index):
        """Blob `index` of the record of (`run`, `tag`, `step`): bytes."""
        blobs = self.record_blobs(run, tag, step)
        if not 0 <= index < len(blobs):
            raise errors.NotFoundError(
                "run %r, tag %r, step %d has %d blobs, not %d"
                % (run, tag, step, len(blobs), index + 1)
            )
        return blobs[index]

    def record_blobs(self, run, tag, step):
        """Every blob of the record the data server keeps for (`run`, `tag`, `step`)."""
        files = self._event_files(run, tag)
        key = (run, tag, step)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == files:
            return cached[1]
        with self._scan_lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == files:
                return cached[1]
            blobs = last_record_blobs([path for path, _, _ in files], tag, step)
            if blobs is None:
                raise errors.NotFoundError(
                    "run %r, tag %r has no record at step %d in its event files" % (run, tag, step)
                )
            self._cache.put(key, (files, blobs))
            return blobs

    def _event_files(self, run, tag):
        """((path, size, mtime_ns), ...) of the run's event files, in the data server's order."""
        if self._unreadable_because:
            raise self._unreadable(run, tag, self._unreadable_because)
        root = os.path.realpath(os.path.expanduser(self._logdir))
        parts = run.split("/")
        if run != "." and (os.path.isabs(run) or any(p in ("", ".", "..") for p in parts)):
            raise errors.NotFoundError("run %r is not a directory name inside the logdir" % run)
        run_dir = os.path.realpath(os.path.join(root, run))
        files = []
        try:
            names = sorted(n for n in os.listdir(run_dir) if _EVENT_FILE_INFIX in n)
        except OSError as e:
            raise errors.NotFoundError(
                "cannot list the event files of run %r: %s" % (run, e.strerror))
        for name in names:
            path = os.path.realpath(os.path.join(run_dir, name))
            if not _inside(root, path):
                raise self._unreadable(
                    run, tag, "its event file %r links outside the logdir" % name)
            try:
                status = os.stat(path)
            except OSError:
                continue  # deleted meanwhile
            if stat.S_ISREG(status.st_mode):
                files.append((path, status.st_size, status.st_mtime_ns))
        return tuple(files)

    def _unreadable(self, run, tag, cause):
        return UnreadableNameError(
            "run %r, tag %r: TensorBoard's data server (--load_fast) lists this name but "
            "cannot read its data: its blob keys cannot hold a name with a quote, backslash "
            "or control character. rnn_hidden reads such records from the event files "
            "itself, but not here: %s. Restart TensorBoard with --load_fast=false to read it."
            % (run, tag, cause)
        )


def _why_unreadable(logdir, logdir_spec, data_server):
    if data_server:
        return ("TensorBoard reads a separate data server (--grpc_data_provider), whose "
                "logdir is unknown")
    if not logdir:
        if logdir_spec:
            return "TensorBoard was started with --logdir_spec, not one --logdir"
        return "TensorBoard was started without --logdir"
    if "://" in logdir:
        return "the logdir %r is not on a local disk" % logdir
    return None


def _inside(root, path):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def last_record_blobs(paths, tag, step):
    """The blobs of the record of `tag` at `step` that the data server keeps, or None.

    Reads `paths` in order as the data server does (sorted event files, each
    to its end) and mirrors its preemption: a record at a step at or below
    earlier ones (a restarted training) drops them, so the last record at
    `step` wins, unless a later one at a lower step dropped it.
    """
    needle = tag.encode("utf-8")
    found = None
    for path in paths:
        for raw in _raw_events(path):
            if needle not in raw:  # cheap: most records are of other tags
                continue
            event = event_pb2.Event.FromString(raw)
            if math.isnan(event.wall_time) or not event.HasField("summary"):
                continue  # the data server drops an event with an invalid wall time
            for value in event.summary.value:
                if value.tag != tag or value.WhichOneof("value") is None:
                    continue
                if event.step == step:
                    found = _string_values(value)
                elif event.step < step:
                    found = None
    return found


def _raw_events(path):
    """Serialized events of one file, with TensorBoard's reader; none if it vanished."""
    try:
        loader = event_file_loader.RawEventFileLoader(path)
    except (OSError, tf.errors.OpError):
        return ()
    return loader.Load()


def _string_values(value):
    if value.WhichOneof("value") != "tensor" or value.tensor.dtype != types_pb2.DT_STRING:
        return ()
    return tuple(value.tensor.string_val)
