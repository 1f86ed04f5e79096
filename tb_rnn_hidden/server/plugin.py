"""The TensorBoard plugin: the route table serving logged hidden-state checkpoints.

Reads only through `context.data_provider` (reader.py). Each route parses its
request (requests.py), asks the reader, the derived figures (analysis/) or the
projection service, and answers; every error is answered as JSON
`{"error": message}` with a 4xx/5xx code, never raised into TensorBoard. Large
arrays are streamed as raw little-endian bytes, a bounded number at once
(`requests.binary`, `requests.RequestSlots`).
"""

import functools
import json
import os
import threading

import numpy as np
import werkzeug
from tensorboard import errors
from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin

from tb_rnn_hidden.analysis import derived
from tb_rnn_hidden.analysis import neighbors
from tb_rnn_hidden.analysis import token_search
from tb_rnn_hidden.analysis import units as units_lib
from tb_rnn_hidden.projection import background as projection_background
from tb_rnn_hidden.projection import cache as projection_cache
from tb_rnn_hidden.projection import jobs as projection_jobs
from tb_rnn_hidden.projection import limits as projection_limits
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata
from tb_rnn_hidden.server import comparisons
from tb_rnn_hidden.server import event_blobs
from tb_rnn_hidden.server import export
from tb_rnn_hidden.server import reader as checkpoint_reader
from tb_rnn_hidden.server import requests

_STATIC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")


class _InsufficientMemory(errors.PublicError):
    http_code = 503


def _projection_limits(route):
    """What a projection may cost, answered: too many points 413, not enough memory 503,
    a full job queue 429 with Retry-After (see projection/limits.py and jobs.QueueFull)."""

    @functools.wraps(route)
    def wrapper(self, request):
        try:
            return route(self, request)
        except projection_limits.TooManyPoints as e:
            raise requests.PayloadTooLarge(str(e))
        except projection_limits.NotEnoughMemory as e:
            raise _InsufficientMemory(str(e))
        except projection_jobs.QueueFull as e:
            return http_util.Respond(
                request, {"error": str(e)}, requests.JSON, code=429,
                headers=[("Retry-After", str(int(e.retry_after)))],
            )

    return wrapper


class RnnHiddenPlugin(base_plugin.TBPlugin):
    """Serves the hidden states, predictions and tokens of logged checkpoints."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        flags = context.flags
        provider = event_blobs.with_event_file_fallback(context)  # names needing JSON escapes
        self._reader = checkpoint_reader.CheckpointReader(
            provider,
            cache_bytes=int(getattr(flags, "rnn_hidden_memory_cache_bytes", None)
                            or checkpoint_reader.DEFAULT_CACHE_BYTES),
        )
        workers = getattr(flags, "rnn_hidden_projection_workers", None) or 1
        cache_dir = getattr(flags, "rnn_hidden_cache_dir", None) or projection_cache.default_cache_dir()
        max_points = getattr(flags, "rnn_hidden_max_points", None)
        max_queued = getattr(flags, "rnn_hidden_max_queued_jobs", None)
        self._projections = projection_jobs.ProjectionService(
            self._reader, cache_dir, workers=int(workers),
            max_points=projection_limits.DEFAULT_MAX_POINTS if max_points is None else int(max_points),
            max_queued_jobs=int(max_queued or projection_jobs.DEFAULT_MAX_QUEUED_JOBS),
        )
        self._projections.disk.max_bytes = int(
            getattr(flags, "rnn_hidden_cache_max_bytes", None) or projection_cache.DEFAULT_MAX_BYTES
        )
        self._array_slots = requests.RequestSlots(int(
            getattr(flags, "rnn_hidden_max_array_requests", None) or requests.DEFAULT_ARRAY_REQUESTS
        ))
        # GET /export requests waiting (`wait=`) for a layout that computes: a few at most.
        self._export_waiters = threading.BoundedSemaphore(_EXPORT_WAITERS)
        self._background_method = getattr(flags, "rnn_hidden_precompute", None) or "none"
        if self._background_method != "none":
            from tb_rnn_hidden import projection

            params = projection.ProjectionParams(method=self._background_method, align="neighbor")
            interval = getattr(flags, "rnn_hidden_precompute_interval", None) or 30.0
            self._projections.background = projection_background.BackgroundProjector(
                self._projections, self._reader, params, float(interval)
            ).start()

    def get_plugin_apps(self):
        return {
            "/index.js": self._serve_index_js,
            "/info": self._serve_info,
            "/tags": self._serve_tags,
            "/sequences": self._serve_sequences,
            "/tokens": self._serve_tokens,
            "/probabilities": self._serve_probabilities,
            "/states": self._serve_states,
            "/distances": self._serve_distances,
            "/annotations": self._serve_annotations,
            "/projection": self._serve_projection,
            "/projection/points": self._serve_projection_points,
            "/projection/cancel": self._serve_projection_cancel,
            "/projection/provisional": self._serve_projection_provisional,
            "/units": self._serve_units,
            "/matches": self._serve_matches,
            "/search": self._serve_search,
            "/neighbors": self._serve_neighbors,
            "/export": self._serve_export,
            "/compare": self._serve_compare,
            "/training": self._serve_training,
        }

    def is_active(self):
        return False  # `data_plugin_names` and `list_plugins` suffice.

    def data_plugin_names(self):
        return (metadata.PLUGIN_NAME,)

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(
            es_module_path="/index.js", tab_name="RNN Hidden States"
        )

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_index_js(self, request):
        path = os.path.join(_STATIC_DIR, "index.js")
        if not os.path.exists(path):
            raise errors.NotFoundError(
                "the frontend bundle is missing: reinstall tb-rnn-hidden with "
                "`pip install .` (which runs the npm build)"
            )
        with open(path, "rb") as f:
            contents = f.read()
        return http_util.Respond(request, contents, "text/javascript")

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_info(self, request):
        from tb_rnn_hidden import projection

        body = dict(
            methods=[
                dict(name=name, label=projection.METHOD_LABELS[name],
                     available=available, reason=reason)
                for name, available, reason in projection.method_availability()
            ],
            params=[spec.as_dict() for spec in projection.PARAM_SPECS],
            background=None if self._background_method == "none" else self._background_method,
        )
        return http_util.Respond(request, body, requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_tags(self, request):
        ctx = plugin_util.context(request.environ)
        experiment = plugin_util.experiment_id(request.environ)
        return http_util.Respond(request, self._reader.list_series(ctx, experiment), requests.JSON)

    def _checkpoint(self, request):
        return self._reader.checkpoint(*requests.checkpoint_address(request))

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_sequences(self, request):
        checkpoint = self._checkpoint(request)
        header = checkpoint.header
        labels = checkpoint.labels
        predictions = checkpoint.predictions
        body = {key: header[key] for key in codec.HEADER_FIELDS}
        body.update(
            lengths=checkpoint.lengths.tolist(),
            labels=None if labels is None else labels.tolist(),
            predictions=_list_or_none(predictions.classes),
            confidences=_list_or_none(predictions.confidences),
            accuracy=predictions.accuracy,
            vocabulary=checkpoint.vocabulary,
        )
        return http_util.Respond(request, body, requests.JSON)

    def _array(self, request, read, dtype=None):
        """Answers `read(checkpoint)` -> (array, extra headers) as raw bytes, in one of
        the slots bounding heavy answers in flight (held until the body is sent)."""
        release = self._array_slots.acquire()
        try:
            array, headers = read(self._checkpoint(request))
            return requests.binary(request, array, headers, dtype=dtype, on_close=release)
        except BaseException:
            release()
            raise

    def _in_slot(self, compute):
        """`compute()` in one of the slots bounding heavy work in flight: a first /matches,
        /search or /neighbors reads all of a checkpoint's states or tokens, /compare two
        checkpoints', /training every checkpoint's of a run, and a regex may take seconds
        (429 after a wait, as for the array routes)."""
        release = self._array_slots.acquire()
        try:
            return compute()
        finally:
            release()

    def _optional_array(self, request, what, read):
        """An array the checkpoint may have been logged without (`has_<what>`)."""

        def read_present(checkpoint):
            if not checkpoint.header["has_" + what]:
                raise errors.NotFoundError("this checkpoint was logged without %s" % what)
            return read(checkpoint), ()

        return self._array(request, read_present)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_tokens(self, request):
        return self._optional_array(request, "tokens", lambda c: c.token_ids)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_probabilities(self, request):
        return self._optional_array(request, "probabilities", lambda c: c.probabilities)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_states(self, request):
        dtype = request.args.get("dtype")
        if dtype not in (None, "float16", "float32"):
            raise errors.InvalidArgumentError(
                "query parameter 'dtype' is %r; expected 'float16' or 'float32'" % dtype
            )
        dtype = None if dtype is None else codec.STATES_DTYPES[dtype]

        def read(checkpoint):
            rows = requests.sequence_rows_arg(request, checkpoint.offsets)
            states = checkpoint.states
            return (states if rows is None else states[rows[0] : rows[1]]), ()

        return self._array(request, read, dtype=dtype)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_distances(self, request):
        def read(checkpoint):
            distances = checkpoint.distances
            largest = float(distances.max()) if distances.size else 0.0
            return distances, [("X-Max-Distance", repr(largest))]

        return self._array(request, read)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    def _serve_annotations(self, request):
        name = requests.string_arg(request, "name")

        def read(checkpoint):
            track = checkpoint.annotation(name)
            values = track.codes if track.kind == "categorical" else track.values
            return values, [("X-Annotation-Kind", track.kind)]

        return self._array(request, read)

    def _projection_request(self, request):
        """(ctx, experiment, run, tag, step, params) of a projection route's query."""
        if "retry" in request.args:
            raise errors.InvalidArgumentError(
                "query parameter 'retry' is only read by POST /projection (as \"retry\": true "
                "in its JSON body); GET /projection never starts a job"
            )
        args = {k: v for k, v in request.args.items() if k not in _PROJECTION_ROUTE_ARGS}
        return requests.checkpoint_address(request) + (_projection_params(args),)

    def _projection_body(self, request):
        """(ctx, experiment, run, tag, step, params), retry of a POST's JSON body."""
        body = requests.json_body(request)
        retry = body.get("retry", False)
        if not isinstance(retry, bool):
            raise errors.InvalidArgumentError("'retry' is %r; expected true or false" % (retry,))
        args = {k: v for k, v in body.items() if k not in _PROJECTION_ROUTE_ARGS}
        address = requests.body_checkpoint_address(request, body)
        return address + (_projection_params(args),), retry

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET", "POST")
    @_projection_limits
    def _serve_projection(self, request):
        if request.method == "POST":
            address, retry = self._projection_body(request)
            status = self._projections.status(*address, retry=retry)
        else:
            status = self._projections.status(*self._projection_request(request), start=False)
        return http_util.Respond(request, status, requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    @_projection_limits
    def _serve_projection_points(self, request):
        status, coords, meta = self._projections.points(*self._projection_request(request))
        if coords is None:
            status = dict(status)
            status.setdefault(
                "error",
                "the projection is %s, not done; POST /projection starts it, GET polls it"
                % status["state"],
            )
            return http_util.Respond(request, status, requests.JSON, code=409)
        headers = [
            ("X-Projection-Params", json.dumps(status["params"], sort_keys=True)),
            ("X-Projection-Aligned-To", json.dumps(meta.get("aligned_to"))),
        ]
        return requests.binary(request, coords.astype(np.float32, copy=False), headers)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    @_projection_limits
    def _serve_projection_provisional(self, request):
        coords = self._projections.provisional(*self._projection_request(request))
        return requests.binary(request, coords, [("X-Projection-Provisional", "pca")])

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("POST")
    @_projection_limits
    def _serve_projection_cancel(self, request):
        address, _ = self._projection_body(request)
        status = self._projections.cancel(*address)
        if status is None:
            raise errors.NotFoundError("no queued or running projection job for these parameters")
        return http_util.Respond(request, status, requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    def _serve_search(self, request):
        query, mode, limit = requests.search_query(request)
        body = self._in_slot(lambda: search_impl(self._checkpoint(request), query, mode, limit))
        return http_util.Respond(request, body, requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    def _serve_neighbors(self, request):
        point, k, method = requests.neighbors_query(request)
        body = self._in_slot(lambda: neighbors_impl(self._checkpoint(request), point, k, method))
        return http_util.Respond(request, body, requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    def _serve_units(self, request):
        checkpoint = self._checkpoint(request)
        selection = requests.unit_selection(request, checkpoint.lengths)
        return http_util.Respond(request, units_impl(checkpoint, selection), requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    def _serve_matches(self, request):
        checkpoint = self._checkpoint(request)
        query = requests.match_query(request, checkpoint.header["state_size"])
        body = self._in_slot(lambda: matches_impl(checkpoint, query))
        return http_util.Respond(request, body, requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    def _serve_compare(self, request):
        address_a, address_b, threshold = requests.compare_query(request)
        body = self._in_slot(lambda: comparisons.compare_impl(
            self._reader, address_a, address_b, threshold))
        return http_util.Respond(request, body, requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    def _serve_training(self, request):
        address, threshold = requests.training_query(request)
        body = self._in_slot(lambda: comparisons.training_impl(self._reader, *address, threshold))
        return http_util.Respond(request, body, requests.JSON)

    @werkzeug.wrappers.Request.application
    @requests.json_errors
    @requests.methods("GET")
    @_projection_limits
    def _serve_export(self, request):
        query = requests.export_query(request)
        args = {k: v for k, v in request.args.items() if k not in requests.EXPORT_ARGS}
        address = requests.checkpoint_address(request) + (_projection_params(args),)
        waiting = query.wait > 0 and self._export_waiters.acquire(blocking=False)
        try:
            status, coords, _ = self._projections.points(*address, wait=query.wait if waiting else 0)
        finally:
            if waiting:
                self._export_waiters.release()
        if coords is None:
            return export_not_ready(request, status, address)
        _, _, run, tag, step, params = address
        name = export.file_name(run, tag, step, params, query.format)
        release = self._array_slots.acquire()  # built and sent in a slot, like an array
        try:
            table = export.of_checkpoint(self._reader.checkpoint(*address[:5]), coords)
            return export.response(request, table, query.format, name, query.formulas,
                                   on_close=release)
        except BaseException:
            release()
            raise


_EXPORT_WAITERS = 4


def export_not_ready(request, status, address):
    """GET /export of a layout that is not done: 503 with Retry-After while its job is
    queued or running, 409 when none is (GET never starts one), each with the status."""
    body = dict(status)
    _, _, run, tag, step, params = address
    if status["state"] in (projection_jobs.QUEUED, projection_jobs.RUNNING):
        body["error"] = (
            "the layout is %s (%d%%, %s); ask again in %d s, or pass wait=<seconds> "
            "(at most %d) to wait for it"
            % (status["state"], round(100 * status["progress"]), status["phase"],
               projection_jobs.RETRY_AFTER_SECONDS, requests.MAX_EXPORT_WAIT_SECONDS))
        return http_util.Respond(
            request, body, requests.JSON, code=503,
            headers=[("Retry-After", str(projection_jobs.RETRY_AFTER_SECONDS))])
    start = dict(run=run, tag=tag, step=step, **params.as_dict())
    body.setdefault("error", (
        "no layout for these parameters (state %s); GET /export never starts one: "
        "POST /projection with the JSON body %s starts it, then GET /export?...&wait=60 "
        "waits for it" % (status["state"], json.dumps(start, sort_keys=True))))
    return http_util.Respond(request, body, requests.JSON, code=409)


def search_impl(checkpoint, query, mode, limit):
    """The answer of /search: the hits of `query` over the checkpoint's tokens."""
    if not checkpoint.header["has_tokens"]:
        raise errors.NotFoundError("this checkpoint was logged without tokens: nothing to search")
    try:
        if mode == "regex":
            hits = token_search.regex_hits(checkpoint.token_text, query)
        else:
            vocabulary = checkpoint.vocabulary
            tokens = token_search.query_tokens(query, vocabulary)
            if not tokens:
                raise errors.InvalidArgumentError(
                    "query parameter 'q' is %r, no tokens; expected one or more tokens "
                    "separated by whitespace" % query
                )
            hits = token_search.token_hits(
                checkpoint.token_ids, checkpoint.offsets, vocabulary, tokens,
                prefix=(mode == "prefix"),
            )
    except token_search.PatternError as e:
        raise errors.InvalidArgumentError(
            "query parameter 'q' is not a valid regular expression: %s" % e
        )
    except token_search.PatternTooCostly as e:
        raise requests.PayloadTooLarge("query parameter 'q': %s" % e)
    return token_search.hits_json(hits, checkpoint.offsets, limit)


def neighbors_impl(checkpoint, point, k, method=None):
    """The answer of /neighbors: the `k` nearest steps of `point` in the hidden space."""
    states = checkpoint.states
    if not 0 <= point < len(states):
        raise errors.InvalidArgumentError(
            "query parameter 'point' is %d; expected a point index in [0, %d)"
            % (point, len(states))
        )
    method = method or neighbors.default_method(*states.shape)
    if method == "exact":
        found = neighbors.exact_neighbors(states, point, k)
    else:
        found = neighbors.approximate_neighbors(states, checkpoint.neighbor_index, point, k)
    return neighbors.neighbors_json(found, checkpoint.offsets, point, k)


def units_impl(checkpoint, selection):
    """GET /units: the units on inside [start, end) and off in the (clipped) extents."""
    offset = int(checkpoint.offsets[selection.sequence])
    before, after = units_lib.clip_off_extents(
        int(checkpoint.lengths[selection.sequence]), selection.start, selection.end,
        selection.off_before, selection.off_after)
    window = checkpoint.states[offset + selection.start - before : offset + selection.end + after]
    selected = units_lib.selected_units(window, selection.threshold, before, after)
    return dict(units=selected.tolist(), sequence=selection.sequence, start=selection.start,
                end=selection.end, threshold=selection.threshold,
                off_before=before, off_after=after)


def matches_impl(checkpoint, query):
    """GET /matches: LSTMVis' ranked matches of the query units over every step."""
    offsets = checkpoint.offsets
    found = units_lib.find_matches(
        checkpoint.on_units(query.threshold), offsets, query.units,
        min_length=query.min_length, off_before=query.off_before > 0,
        off_after=query.off_after > 0, limit=query.limit)
    sequences, starts = derived.sequence_steps(offsets, found.point)
    columns = dict(sequence=sequences, start=starts, end=starts + found.length, point=found.point,
                   length=found.length, intersection=found.intersection, union=found.union,
                   k=found.k, constraint=found.constraint)
    rows = zip(*(column.tolist() for column in columns.values()))
    return dict(
        matches=[dict(zip(columns, row)) for row in rows],
        units=list(query.units), threshold=query.threshold, min_length=query.min_length,
        off_before=query.off_before, off_after=query.off_after, steps=int(offsets[-1]),
        candidates=found.candidates, quality=units_lib.match_quality(found, len(query.units)),
    )


# Query parameters (or JSON body fields) of the projection routes that are not `ProjectionParams`.
_PROJECTION_ROUTE_ARGS = frozenset(("run", "tag", "step", "retry"))


def _projection_params(args):
    from tb_rnn_hidden import projection

    try:
        return projection.ProjectionParams.from_query(args)
    except ValueError as e:
        raise errors.InvalidArgumentError(str(e))


def _list_or_none(array):
    return None if array is None else array.tolist()
