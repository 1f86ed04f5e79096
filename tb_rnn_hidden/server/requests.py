"""Request parsing and the answers of every route: the JSON error envelope, raw arrays.

Every error a request can cause is answered as JSON `{"error": message}` with a
4xx/5xx code (documented in http_api.md), never raised into TensorBoard.
"""

import collections
import dataclasses
import functools
import json
import logging
import math
import threading

import numpy as np
import werkzeug
from tensorboard import errors
from tensorboard import plugin_util
from tensorboard.backend import http_util

from tb_rnn_hidden.analysis import units as units_lib
from tb_rnn_hidden.analysis import neighbors
from tb_rnn_hidden.analysis import token_search
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
    return streamed_response(request, _ArrayChunks(array, dtype, on_close), headers, _BINARY)


def streamed_response(request, body, headers, content_type):
    """A 200 answer sent chunk by chunk from `body`; for HEAD, `body` is closed unsent."""
    if request.method == "HEAD":
        body.close()
        body = ()
    return werkzeug.wrappers.Response(
        response=body, status=200, headers=headers, content_type=content_type,
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
    except RecursionError:  # b"[" * 5000: nested deeper than the decoder's recursion limit
        raise errors.InvalidArgumentError("the body is JSON nested too deeply; expected a JSON object")
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


# -- LSTMVis queries: /units and /matches -------------------------------------------------

_LARGEST_INT = 2**31 - 1  # bounds integer parameters that reach numpy


def bounded_int_arg(request, name, low, high, default=None, why=""):
    """An integer query parameter in [low, high]; `default` when absent (required if None)."""
    if default is not None and name not in request.args:
        return default
    value = int_arg(request, name)
    if not low <= value <= high:
        raise errors.InvalidArgumentError(
            "query parameter %r is %d; expected an integer in [%d, %d]%s"
            % (name, value, low, high, why))
    return value


def finite_float_arg(request, name, default):
    """A finite number, or `default` when absent."""
    value = request.args.get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number):
        raise errors.InvalidArgumentError(
            "query parameter %r is %r; expected a finite number" % (name, value[:100]))
    return number


def unit_list_arg(request, name, num_units):
    """Ascending distinct unit indices in [0, num_units) from a comma-separated list."""
    text = string_arg(request, name)
    expected = "expected distinct unit indices in [0, %d), comma-separated" % num_units
    if not text.strip():
        raise errors.InvalidArgumentError("query parameter %r is empty; %s" % (name, expected))
    units = []
    for part in text.split(","):
        try:
            unit = int(part)
        except ValueError:
            raise errors.InvalidArgumentError(
                "query parameter %r has %r, not an integer; %s" % (name, part[:100], expected))
        if not 0 <= unit < num_units:
            raise errors.InvalidArgumentError(
                "query parameter %r has unit %d, out of range; %s" % (name, unit, expected))
        units.append(unit)
    duplicates = sorted(u for u, count in collections.Counter(units).items() if count > 1)
    if duplicates:
        raise errors.InvalidArgumentError(
            "query parameter %r has units %s more than once; %s" % (name, duplicates, expected))
    return sorted(units)


@dataclasses.dataclass(frozen=True)
class UnitSelection:
    """GET /units: a step range [start, end) of one sequence, its threshold and off extents."""

    sequence: int
    start: int
    end: int
    threshold: float
    off_before: int
    off_after: int


def sequence_arg(request, num_sequences):
    """The required query parameter 'sequence': a sequence index of the checkpoint."""
    return bounded_int_arg(request, "sequence", 0, num_sequences - 1,
                           why=" (the checkpoint has %d sequences)" % num_sequences)


def unit_selection(request, lengths):
    """The `UnitSelection` of a /units query, checked against the checkpoint's `lengths`."""
    sequence = sequence_arg(request, len(lengths))
    length = int(lengths[sequence])
    why = " (sequence %d has %d steps)" % (sequence, length)
    start = bounded_int_arg(request, "start", 0, length - 1, why=why)
    end = bounded_int_arg(request, "end", start + 1, length, why=why + ", after 'start'")
    return UnitSelection(
        sequence, start, end,
        threshold=finite_float_arg(request, "threshold", units_lib.DEFAULT_THRESHOLD),
        off_before=bounded_int_arg(request, "off_before", 0, _LARGEST_INT,
                                   units_lib.DEFAULT_OFF_BEFORE),
        off_after=bounded_int_arg(request, "off_after", 0, _LARGEST_INT,
                                  units_lib.DEFAULT_OFF_AFTER),
    )


def sequence_rows_arg(request, offsets):
    """The rows [start, end) of `/states?sequence=i` (sequence i's points, from the
    checkpoint's `offsets`), or None when the query names no sequence (every row)."""
    if "sequence" not in request.args:
        return None
    sequence = sequence_arg(request, len(offsets) - 1)
    return int(offsets[sequence]), int(offsets[sequence + 1])


MAX_MATCHES = 1000


@dataclasses.dataclass(frozen=True)
class MatchQuery:
    """GET /matches: the units S, their threshold, how many matches, and LSTMVis' options."""

    units: list
    threshold: float
    limit: int
    min_length: int
    off_before: int  # > 0: the step before a run is a constrained edge
    off_after: int


def match_query(request, num_units):
    """The `MatchQuery` of a /matches query, for a checkpoint of `num_units` units."""
    return MatchQuery(
        units=unit_list_arg(request, "units", num_units),
        threshold=finite_float_arg(request, "threshold", units_lib.DEFAULT_THRESHOLD),
        limit=bounded_int_arg(request, "limit", 1, MAX_MATCHES, 50),
        min_length=bounded_int_arg(request, "min_length", 1, _LARGEST_INT,
                                   units_lib.DEFAULT_MIN_LENGTH),
        off_before=bounded_int_arg(request, "off_before", 0, _LARGEST_INT,
                                   units_lib.DEFAULT_OFF_BEFORE),
        off_after=bounded_int_arg(request, "off_after", 0, _LARGEST_INT,
                                  units_lib.DEFAULT_OFF_AFTER),
    )


def choice_arg(request, name, choices, default=None):
    """One of `choices`; `default` when absent (required if None)."""
    value = request.args.get(name)
    if value is None and default is not None:
        return default
    if value not in choices:
        raise errors.InvalidArgumentError(
            "query parameter %r is %s; expected one of %s"
            % (name, "missing" if value is None else repr(value), ", ".join(choices))
        )
    return value


def search_query(request):
    """(q, mode, limit) of a /search request."""
    query = string_arg(request, "q")
    if not query:
        raise errors.InvalidArgumentError("query parameter 'q' is empty; expected a query")
    mode = choice_arg(request, "mode", token_search.MODES, default="exact")
    limit = bounded_int_arg(request, "limit", 1, token_search.MAX_LIMIT,
                            default=token_search.DEFAULT_LIMIT)
    return query, mode, limit


def neighbors_query(request):
    """(point, k, method or None for the default) of a /neighbors request; `point` is
    checked against the checkpoint's points by the route."""
    point = int_arg(request, "point")
    k = bounded_int_arg(request, "k", 1, neighbors.MAX_K, default=neighbors.DEFAULT_K)
    method = request.args.get("method")
    if method is not None:
        method = choice_arg(request, "method", neighbors.METHODS)
    return point, k, method


# -- GET /export -------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "npz")
EXPORT_FORMULAS = ("keep", "escape")
MAX_EXPORT_WAIT_SECONDS = 60
# Query parameters of /export that are not projection parameters (beside run, tag, step).
EXPORT_ARGS = frozenset(("format", "wait", "formulas"))


@dataclasses.dataclass(frozen=True)
class ExportQuery:
    """GET /export beyond the checkpoint and the projection parameters: the file format,
    how long to wait for a layout that is computing, and how formula-like text is written."""

    format: str
    wait: int
    formulas: str


def export_query(request):
    """The `ExportQuery` of a /export request (`format` csv by default, `wait` 0)."""
    return ExportQuery(
        format=choice_arg(request, "format", EXPORT_FORMATS, default="csv"),
        wait=bounded_int_arg(request, "wait", 0, MAX_EXPORT_WAIT_SECONDS, default=0,
                             why=" seconds"),
        formulas=choice_arg(request, "formulas", EXPORT_FORMULAS, default="keep"),
    )


# -- GET /compare and GET /training ----------------------------------------------------

class Conflict(errors.PublicError):
    """409: the request names data that cannot go together (e.g. two probe sets)."""

    http_code = 409


DEFAULT_FLIP_THRESHOLD = 0.1


def flip_threshold_arg(request):
    """`flip_threshold`: a number in [0, 1] (the tab's flip threshold), default 0.1."""
    value = request.args.get("flip_threshold")
    if value is None:
        return DEFAULT_FLIP_THRESHOLD
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not 0.0 <= number <= 1.0:  # NaN fails the comparison too
        raise errors.InvalidArgumentError(
            "query parameter 'flip_threshold' is %r; expected a number in [0, 1]" % value[:100])
    return number


def compare_query(request):
    """(address A, address B, flip threshold) of a /compare request; each address is
    (ctx, experiment, run, tag, step), B's from `run_b`, `tag_b`, `step_b`."""
    a = checkpoint_address(request)
    b = a[:2] + (string_arg(request, "run_b"), string_arg(request, "tag_b"),
                 int_arg(request, "step_b"))
    return a, b, flip_threshold_arg(request)


def training_query(request):
    """((ctx, experiment, run, tag), flip threshold) of a /training request."""
    address = (plugin_util.context(request.environ), plugin_util.experiment_id(request.environ),
               string_arg(request, "run"), string_arg(request, "tag"))
    return address, flip_threshold_arg(request)
