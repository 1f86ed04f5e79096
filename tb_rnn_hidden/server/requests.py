"""Request parsing and the answers of every route: the JSON error envelope, raw arrays.

Every error a request can cause is answered as JSON `{"error": message}` with a
4xx/5xx code (documented in http_api.md), never raised into TensorBoard.
"""

import functools
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
