"""Request parsing and the answers of every route: the JSON error envelope, raw arrays.

Every error a request can cause is answered as JSON `{"error": message}` with a
4xx/5xx code (documented in http_api.md), never raised into TensorBoard.
"""

import functools
import json
import logging
import threading

import numpy as np
import werkzeug
from tensorboard import errors
from tensorboard import plugin_util
from tensorboard.backend import http_util

from tb_rnn_hidden.records import codec

logger = logging.getLogger(__name__)

JSON = "application/json"
_BINARY = "application/octet-stream"


def json_errors(route):
    """Answers every failure of `route` as a JSON message with its status code."""

    @functools.wraps(route)
    def wrapper(self, request):
        headers = []
        try:
            return route(self, request)
        except errors.PublicError as e:
            code, message = e.http_code, str(e)
            headers = list(getattr(e, "headers", None) or ())  # TensorBoard's convention
        except codec.NewerRecordError as e:
            code, message = 422, str(e)
        except codec.RecordError as e:
            code, message = 500, "corrupt hidden-state record: %s" % e
        except Exception as e:  # Never take TensorBoard down; say what failed.
            logger.exception("rnn_hidden: %s failed", request.path)
            code, message = 500, "internal error in rnn_hidden: %s: %s" % (type(e).__name__, e)
        return http_util.Respond(request, {"error": message}, JSON, code=code, headers=headers)

    return wrapper


def string_arg(request, name):
    value = request.args.get(name)
    if value is None:
        raise errors.InvalidArgumentError("missing query parameter %r" % name)
    return value


def int_arg(request, name):
    value = string_arg(request, name)
    try:
        return int(value)
    except ValueError:
        raise errors.InvalidArgumentError("query parameter %r is %r; expected an integer" % (name, value))


def binary(request, array, extra_headers=(), dtype=None, on_close=None):
    """Raw little-endian bytes of `array` (as `dtype`, default its own) with the shape
    and dtype in headers, streamed in chunks of at most `CHUNK_BYTES`.

    Never a copy of the whole array: `http_util.Respond` needs the body as one
    `bytes` (a copy of the array, and with `dtype` a converted copy before that:
    ~118 MB per concurrent `/states?dtype=float32` of a 512 x 200 x 256 float16
    checkpoint), so the response is built here, with the headers `Respond` sets
    on a binary answer. Each chunk is converted and copied on its own, so an
    answer in flight holds two chunks beyond the array it serves. `on_close`
    runs once, when the body is sent or the connection is closed.
    """
    array = np.asarray(array)
    dtype = np.dtype(dtype or array.dtype).newbyteorder("<")
    if array.ndim == 0:
        array = array.reshape(1)
    headers = list(extra_headers) + [
        ("X-Array-Shape", ",".join(str(d) for d in array.shape)),
        ("X-Array-Dtype", dtype.name),
        ("Content-Length", str(array.size * dtype.itemsize)),
        # As `http_util.Respond` answers (tensorboard/backend/http_util.py).
        ("X-Content-Type-Options", "nosniff"),
        ("Expires", "0"),
        ("Cache-Control", "no-cache, must-revalidate"),
    ]
    body = _ArrayChunks(array, dtype, on_close)
    if request.method == "HEAD":
        body.close()
        body = ()
    return werkzeug.wrappers.Response(
        response=body, status=200, headers=headers, content_type=_BINARY,
        direct_passthrough=True,
    )


CHUNK_BYTES = 1 << 20


class _ArrayChunks:
    """The WSGI body of `binary`: `bytes` chunks of the array's leading axis."""

    def __init__(self, array, dtype, on_close):
        self._array = array
        self._dtype = dtype
        self._on_close = on_close

    def __iter__(self):
        array = self._array
        try:
            if array.size:
                row_bytes = max(1, array[0].size * max(self._dtype.itemsize, array.itemsize))
                rows = max(1, CHUNK_BYTES // row_bytes)
                for start in range(0, len(array), rows):
                    chunk = array[start : start + rows]
                    yield np.ascontiguousarray(chunk, dtype=self._dtype).tobytes()
        finally:
            self.close()

    def close(self):
        """Drops the array and runs `on_close`, once (the WSGI server calls it)."""
        on_close, self._on_close, self._array = self._on_close, None, None
        if on_close is not None:
            on_close()

    def __del__(self):  # a server that never calls close() must not leak a slot
        self.close()


class TooManyRequestsError(errors.PublicError):
    """429: the server is busy with requests of this kind; `retry_after` seconds."""

    http_code = 429

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.headers = [("Retry-After", str(retry_after))]


DEFAULT_ARRAY_REQUESTS = 6  # --rnn_hidden_max_array_requests


class RequestSlots:
    """Bounds how many heavy answers (reading, converting and sending a checkpoint's
    arrays) are in flight at once.

    A request over the bound waits up to `wait_seconds` for a slot, then is
    answered 429 with Retry-After. Waiting covers the bursts of one tab (a
    browser opens at most 6 connections to a host); the bounded wait keeps a flood
    from piling up waiting threads without end and tells its client when to come back.
    """

    def __init__(self, limit, wait_seconds=10.0, retry_after=2):
        self.limit = limit
        self._free = threading.Condition()
        self.in_flight = 0
        self._wait_seconds = wait_seconds
        self._retry_after = retry_after

    def acquire(self):
        """Takes a slot; returns the function that gives it back (once, however often called)."""
        with self._free:
            if not self._free.wait_for(lambda: self.in_flight < self.limit, self._wait_seconds):
                raise TooManyRequestsError(
                    "too many array requests in flight (at most %d: "
                    "--rnn_hidden_max_array_requests); retry in %d s"
                    % (self.limit, self._retry_after),
                    self._retry_after,
                )
            self.in_flight += 1
        taken = [True]

        def release():
            with self._free:
                if taken:
                    taken.pop()
                    self.in_flight -= 1
                    self._free.notify()

        return release


def checkpoint_address(request):
    """(ctx, experiment, run, tag, step) named by a request's query."""
    return (
        plugin_util.context(request.environ),
        plugin_util.experiment_id(request.environ),
        string_arg(request, "run"),
        string_arg(request, "tag"),
        int_arg(request, "step"),
    )


# -- JSON bodies and methods (the projection routes that start and cancel jobs) ---------

MAX_JSON_BODY_BYTES = 64 << 10


class UnsupportedMediaType(errors.PublicError):
    http_code = 415


class PayloadTooLarge(errors.PublicError):
    http_code = 413


def json_body(request):
    """The JSON object in the body of a POST with `Content-Type: application/json`.

    The content type is required: a cross-site HTML form cannot send it, and a script
    can only after a CORS preflight, which TensorBoard does not answer. So a request
    from another site cannot start or cancel jobs.
    """
    if request.mimetype != JSON:
        raise UnsupportedMediaType(
            "Content-Type is %r; expected %r with a JSON object body"
            % (request.content_type or "", JSON)
        )
    length = request.content_length
    if length is not None and length > MAX_JSON_BODY_BYTES:
        raise PayloadTooLarge(
            "the body has %d bytes; expected at most %d" % (length, MAX_JSON_BODY_BYTES)
        )
    data = request.get_data(cache=True)
    if len(data) > MAX_JSON_BODY_BYTES:
        raise PayloadTooLarge(
            "the body has %d bytes; expected at most %d" % (len(data), MAX_JSON_BODY_BYTES)
        )
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise errors.InvalidArgumentError("the body is not valid JSON (%s); expected a JSON object" % e)
    except RecursionError:  # e.g. 5,000 "[": deeper than Python's JSON parser goes
        raise errors.InvalidArgumentError(
            "the body is JSON nested deeper than this server parses; expected a JSON object of "
            "parameters")
    if not isinstance(body, dict):
        raise errors.InvalidArgumentError(
            "the body is a JSON %s; expected a JSON object" % type(body).__name__
        )
    return body


def body_checkpoint_address(request, body):
    """(ctx, experiment, run, tag, step) named by a JSON body."""
    run, tag, step = body.get("run"), body.get("tag"), body.get("step")
    for name, value in (("run", run), ("tag", tag)):
        if not isinstance(value, str):
            raise errors.InvalidArgumentError(
                "%r is %s; expected a string" % (name, "missing" if value is None else repr(value))
            )
    if isinstance(step, bool) or not isinstance(step, int):
        raise errors.InvalidArgumentError(
            "'step' is %s; expected an integer" % ("missing" if step is None else repr(step))
        )
    return (
        plugin_util.context(request.environ),
        plugin_util.experiment_id(request.environ),
        run,
        tag,
        step,
    )


def methods(*allowed):
    """Answers any other method than `allowed` with 405, an `Allow` header and a JSON
    message (before the route; OPTIONS too, so a CORS preflight fails)."""
    allowed = tuple(allowed) + (("HEAD",) if "GET" in allowed else ())

    def decorate(route):
        @functools.wraps(route)
        def wrapper(self, request):
            if request.method not in allowed:
                message = "method %s is not allowed here; expected %s" % (
                    request.method, " or ".join(allowed))
                return http_util.Respond(
                    request, {"error": message}, JSON, code=405,
                    headers=[("Allow", ", ".join(allowed))],
                )
            return route(self, request)

        return wrapper

    return decorate
