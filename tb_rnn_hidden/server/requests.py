"""Request parsing and the answers of every route: the JSON error envelope, raw arrays.

Every error a request can cause is answered as JSON `{"error": message}` with a
4xx/5xx code (documented in http_api.md), never raised into TensorBoard.
"""

import functools
import json
import logging

import numpy as np
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
        try:
            return route(self, request)
        except errors.PublicError as e:
            code, message = e.http_code, str(e)
        except codec.NewerRecordError as e:
            code, message = 422, str(e)
        except codec.RecordError as e:
            code, message = 500, "corrupt hidden-state record: %s" % e
        except Exception as e:  # Never take TensorBoard down; say what failed.
            logger.exception("rnn_hidden: %s failed", request.path)
            code, message = 500, "internal error in rnn_hidden: %s: %s" % (type(e).__name__, e)
        return http_util.Respond(request, {"error": message}, JSON, code=code)

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


def binary(request, array, extra_headers=()):
    """Raw little-endian bytes with the shape and dtype in headers."""
    array = np.ascontiguousarray(array)
    headers = [
        ("X-Array-Shape", ",".join(str(d) for d in array.shape)),
        ("X-Array-Dtype", array.dtype.name),
    ]
    return http_util.Respond(
        request, array.tobytes(), _BINARY, headers=headers + list(extra_headers)
    )


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
