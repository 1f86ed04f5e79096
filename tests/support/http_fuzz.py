"""Hostile HTTP requests to every route of the plugin, from a seeded generator.

`RequestFuzzer` starts each request from a valid one (a run, tag and step of
the logdir, valid projection parameters) and breaks it: parameters missing,
duplicated, of the wrong type, huge, negative, NaN, in other scripts, very
long; unknown runs, tags and steps; odd methods; POST bodies of JSON (right
and wrong types) and of anything else. `check_answer` holds the invariants
every answer must keep.
"""

import csv
import dataclasses
import io
import json
import math
import urllib.parse

import numpy as np

PREFIX = "/data/plugin/rnn_hidden"
# Route -> the parameters it reads beyond none ("static"), run/tag/step ("checkpoint"),
# and more (the kind names which).
ROUTES = {
    "/index.js": "static",
    "/info": "static",
    "/tags": "static",
    "/sequences": "checkpoint",
    "/tokens": "checkpoint",
    "/probabilities": "checkpoint",
    "/states": "states",
    "/distances": "checkpoint",
    "/annotations": "annotations",
    "/projection": "projection",
    "/projection/points": "projection",
    "/projection/cancel": "projection",
    "/projection/provisional": "projection",
    "/units": "units",
    "/matches": "matches",
    "/search": "search",
    "/neighbors": "neighbors",
    "/export": "export",
    "/compare": "compare",
    "/training": "training",
}
BINARY = "application/octet-stream"
# Answer bodies of binary routes: dtype name -> bytes per element.
_ITEM_SIZES = {"float16": 2, "float32": 4, "float64": 8, "int32": 4}

_HOSTILE_VALUES = [
    "", " ", "-1", "0", "-0", "+1", "1.5", "1e3", "NaN", "nan", "inf", "-inf", "Infinity",
    str(2**31), str(2**63), str(2**64), str(-(2**63) - 1), "9" * 400, "0x10", "1_000",
    "\uff11\uff12", "\u0661", " 3 ", "3\n", "null", "true", "[]", "{}", "[1]",
    "<script>alert(1)</script>", 'say "hi"', "back\\slash", "\x00", "\u202e\u200f",
    "\U0001f9e0", "\ud7ff", "%", "%00", "&step=1", "../../etc/passwd", "x" * 10_000,
]
# Raw query strings that are not valid percent-encodings or not valid UTF-8.
_RAW_QUERIES = [
    "run=%ff%fe&tag=%c3&step=1", "run=train&tag=lstm&step=%00", "run=%ZZ&tag=%&step=1",
    "run=train&tag=lstm&step=1&step=2&step=", "run=train&&&tag=lstm&=&step=2",
    "run=%ED%A0%80&tag=lstm&step=0", "run=train;tag=lstm;step=0", "%", "&", "=",
]
_METHODS = ["GET"] * 11 + ["POST"] * 6 + ["HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                                         "FOO"]
_CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain",
                  "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                  None]


@dataclasses.dataclass
class FuzzRequest:
    route: str
    method: str
    path: str  # from the server root, with the query string
    body: bytes = None
    content_type: str = None

    def describe(self):
        body = None if self.body is None else self.body[:200]
        return "%s %s body=%r content-type=%r" % (
            self.method, self.path[:300], body, self.content_type)


class RequestFuzzer:
    """Hostile requests for one logdir: `series` is [(run, tag, [steps])] of its listing."""

    def __init__(self, rng, series, param_specs):
        self._rng = rng
        self._series = series
        self._specs = param_specs  # /info's "params"
        self._recent = []  # valid projection queries, asked again: their jobs are done or running

    def request(self):
        rng = self._rng
        route = rng.choice(list(ROUTES))
        method = rng.choice(_METHODS)
        if rng.random() < 0.04:
            query = rng.choice(_RAW_QUERIES)
            params = {}
        else:
            params = self._params(ROUTES[route])
            query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote,
                                           errors="surrogatepass")
        request = FuzzRequest(route, method, self._prefix() + route)
        if method in ("POST", "PUT", "PATCH") and rng.random() < 0.8:
            request.body, request.content_type = self._body(params)
            if request.content_type == "application/json" and rng.random() < 0.5:
                query = ""  # the parameters only in the body
        if query:
            request.path += "?" + query
        return request

    def _prefix(self):
        """The plugin's path, sometimes under an experiment of any name."""
        if self._rng.random() < 0.9:
            return PREFIX
        experiment = self._rng.choice(
            ["123", "exp-1", "\u00fcn\u00efcode", "a b", "%25", "0" * 300])
        return "/experiment/%s%s" % (urllib.parse.quote(experiment, safe=""), PREFIX)

    def _params(self, kind):
        """[(name, value)]: a valid query for a route of `kind`; 6 in 10 broken (1-3 mutations)."""
        rng = self._rng
        hostile = rng.random() < 0.6
        params = []
        if kind != "static" or rng.random() < 0.2:
            run, tag, steps = rng.choice(self._series)
            params = [("run", run), ("tag", tag), ("step", str(rng.choice(steps)))]
        if kind == "training":  # a run and tag, no step
            params = [(n, v) for n, v in params if n != "step"]
        if kind == "compare":  # B: any checkpoint (most pairs' probe sets differ: 409)
            run, tag, steps = rng.choice(self._series)
            params += [("run_b", run), ("tag_b", tag), ("step_b", str(rng.choice(steps)))]
        if kind in ("compare", "training") and rng.random() < 0.5:
            thresholds = ["0", "0.1", "0.5", "1"] + (["-0.1", "1.5", "nan", ""] if hostile else [])
            params.append(("flip_threshold", rng.choice(thresholds)))
        if kind == "states" and rng.random() < 0.6:
            dtypes = ["float16", "float32"]
            if hostile:
                dtypes += ["float64", "int8", "", "FLOAT32", "float16 "]
            params.append(("dtype", rng.choice(dtypes)))
        if kind == "states" and rng.random() < 0.5:  # one sequence's rows
            sequences = ["0", "1", "3"] + (["-1", "1000000", "1.0", "", " 2"] if hostile else [])
            params.append(("sequence", rng.choice(sequences)))
        if kind in ("units", "matches"):
            params += self._unit_params(kind)
        if kind in ("search", "neighbors"):
            params += self._lookup_params(kind, hostile)
        if kind == "annotations" and rng.random() < 0.9:
            names = ["depth", "pos", "flag"] + (["", "DEPTH", "depth "] if hostile else [])
            params.append(("name", rng.choice(names)))
        if kind == "export":  # a layout of the projection routes (often done), as a file
            params = list(rng.choice(self._recent)) if self._recent and rng.random() < 0.7 \
                else params + self._projection_params(hostile)
            params = [(n, v) for n, v in params if n != "retry"] + self._export_params(hostile)
        if kind == "projection" and not hostile and self._recent and rng.random() < 0.5:
            return list(rng.choice(self._recent))
        if kind == "projection":
            params += self._projection_params(hostile)
            if not hostile:
                self._recent = (self._recent + [list(params)])[-10:]
        for _ in range(rng.choice([1, 1, 2, 3]) if hostile else 0):
            params = self._mutate(params)
        return params

    def _unit_params(self, kind):
        """/units or /matches parameters, mostly valid for small checkpoints (4+ sequences,
        8+ steps, 4+ units); the mutations break them."""
        rng = self._rng
        threshold = [("threshold", rng.choice(["0.3", "0", "-0.5", "0.9"]))] \
            if rng.random() < 0.5 else []
        extents = [(name, str(rng.randrange(3))) for name in ("off_before", "off_after")
                   if rng.random() < 0.3]
        if kind == "units":
            start = rng.randrange(4)
            return [("sequence", str(rng.randrange(4))), ("start", str(start)),
                    ("end", str(start + rng.randrange(1, 4)))] + threshold + extents
        units = rng.sample(range(4), rng.randrange(1, 5))
        params = [("units", ",".join(map(str, units)))] + threshold + extents
        if rng.random() < 0.4:
            params.append(("limit", str(rng.choice([1, 5, 50, 1000]))))
        if rng.random() < 0.3:
            params.append(("min_length", str(rng.choice([1, 2, 3]))))
        return params

    def _lookup_params(self, kind, hostile):
        """The parameters of /search or /neighbors: valid values, boundaries, patterns."""
        rng = self._rng
        if kind == "search":
            queries = ["good", "not good", "th", "the film", "(", "g.o+d", "^n", "(a+)+b"]
            modes = ["exact", "prefix", "regex"]
            if hostile:
                queries += ["", "   ", "(", "(a)\\1", "(?=a)", "a{1000}b{1000}c{1000}", ".*"]
                modes += ["EXACT", "fuzzy", ""]
            params = [("q", rng.choice(queries)), ("mode", rng.choice(modes))]
            if rng.random() < 0.3:
                params.append(("limit", rng.choice(["1", "1000", "100000"] + (
                    ["0", "100001", "-1", "1e3"] if hostile else []))))
            return params
        points = ["0", "1", "5", "20"] + (["-1", "1000000", "2.5", ""] if hostile else [])
        params = [("point", rng.choice(points))]
        if rng.random() < 0.5:
            params.append(("k", rng.choice(["1", "10", "1000"] + (
                ["0", "1001", "-5"] if hostile else []))))
        if rng.random() < 0.5:
            params.append(("method", rng.choice(["exact", "approximate"] + (
                ["EXACT", "annoy"] if hostile else []))))
        return params

    def _export_params(self, hostile):
        """format, wait (short: a fuzz must not hold threads) and formulas of /export."""
        rng = self._rng
        params = [("format", rng.choice(["csv", "npz"] + (["xml", "", "CSV"] if hostile else [])))]
        if rng.random() < 0.2:
            params.append(("wait", rng.choice(["0", "1"] + (["-1", "61", "x"] if hostile else []))))
        if rng.random() < 0.2:
            params.append(("formulas", rng.choice(["keep", "escape"] + (["x"] if hostile else []))))
        return params

    def _projection_params(self, hostile):
        rng = self._rng
        params = []
        for spec in self._specs:
            if spec["name"] == "method" and not hostile and rng.random() < 0.5:
                params.append(("method", "pca"))  # done at once: the answers of done jobs
            elif rng.random() < 0.4:
                params.append((spec["name"], self._param_value(spec, hostile)))
        if rng.random() < 0.2:
            retries = ["1", "true"] + (["yes", "0", "2", ""] if hostile else [])
            params.append(("retry", rng.choice(retries)))
        return params

    def _param_value(self, spec, hostile):
        """A valid value or a boundary; if `hostile`, maybe one beyond it, or anything."""
        rng = self._rng
        if spec["kind"] == "choice":
            choices = list(spec["choices"])
            if spec["name"] == "method" and not hostile:
                choices.remove("umap")  # valid, but a first UMAP compiles for a minute
            if hostile:
                choices += [c.upper() for c in choices] + rng.sample(_HOSTILE_VALUES, 2)
            return rng.choice(choices)
        low, high = spec["min"], spec["max"]
        number = rng.choice([low, high, spec["default"], rng.uniform(low, high)])
        if spec["kind"] == "integer":
            number = int(number)
        values = [number]
        if hostile:
            values += [low - 1, high + 1, -high, high * 1000, float("nan"), float("inf"),
                       rng.choice(_HOSTILE_VALUES)]
        value = rng.choice(values)
        return value if isinstance(value, str) else repr(value)

    def _mutate(self, params):
        rng = self._rng
        names = [name for name, _ in params]
        choice = rng.randrange(6)
        if choice == 0 and params:  # a parameter missing
            del params[rng.randrange(len(params))]
        elif choice == 1 and params:  # duplicated, with another value
            name = rng.choice(names)
            params.insert(rng.randrange(len(params) + 1), (name, rng.choice(_HOSTILE_VALUES)))
        elif choice == 2 and params:  # a hostile value
            i = rng.randrange(len(params))
            params[i] = (params[i][0], rng.choice(_HOSTILE_VALUES))
        elif choice == 3:  # an unknown parameter
            params.append((rng.choice(["foo", "__proto__", "constructor", "", "run ", "RUN",
                                       "step[]", "\u00fcber"]), rng.choice(_HOSTILE_VALUES)))
        elif choice == 4 and "run" in names:  # a valid run with another run's tag, or unknown
            run, tag, steps = rng.choice(self._series)
            other = rng.choice(["tag", "run", "step"])
            value = {"run": run + "x", "tag": tag, "step": str(max(steps) + 1)}[other]
            params = [(n, value if n == other else v) for n, v in params]
        elif choice == 5 and "step" in names:  # steps around the valid ones
            step = rng.choice([-1, -(2**63), 2**63 - 1, 2**63, 10**30, 1, 2])
            params = [(n, str(step) if n == "step" else v) for n, v in params]
        return params

    def _body(self, params):
        """(body bytes, content type) of a POST: JSON of the parameters (right or wrong), or not."""
        rng = self._rng
        typed = {name: _typed(value) for name, value in params}
        choice = rng.randrange(10)
        if choice < 4:
            body = typed
        elif choice == 4:  # wrong types in the right names
            body = dict(typed, **{rng.choice(["run", "tag", "step", "method", "perplexity"]):
                                  rng.choice([None, True, 1.5, -1, [1], {"a": 1}, "x", 2**70])})
        elif choice == 5:
            body = rng.choice([[typed], "run", 3, None, [], {"params": typed}])
        elif choice == 6:
            return rng.choice([b"{", b"\xff\xfe\x00", b"run=train&tag=lstm&step=0", b"",
                               b"{\"run\": \"train\", \"step\": 01}", b"[" * 5000]), \
                rng.choice(_CONTENT_TYPES)
        elif choice == 7:  # big
            body = dict(typed, padding="x" * rng.choice([1000, 100_000]))
        elif choice == 8:  # deeply nested
            body = {"run": None}
            for _ in range(rng.choice([50, 900])):
                body = {"run": body}
        else:
            body = dict(typed, **{k: float("nan") for k in ("step", "perplexity")})
        text = json.dumps(body)  # NaN as the non-standard token a careless client sends
        return text.encode("utf-8", "surrogatepass"), rng.choice(
            ["application/json"] * 3 + _CONTENT_TYPES)


def _typed(value):
    """A query value as a JSON client would type it: a number where it reads as one."""
    try:
        number = float(value)
    except ValueError:
        return value
    if math.isfinite(number) and number == int(number) and "." not in value:
        return int(number)
    return number


def check_answer(request, status, headers, body):
    """What is wrong with an answer (a list of strings; empty if nothing)."""
    problems = []
    if status >= 500:
        problems.append("status %d: %r" % (status, body[:200]))
    if request.method == "HEAD":
        return problems  # no body
    content_type = (headers.get("Content-Type") or "").split(";")[0]
    if status >= 400:
        try:
            error = json.loads(body).get("error")
        except (ValueError, AttributeError):
            error = None
        if content_type != "application/json" or not isinstance(error, str):
            problems.append("error answer is not JSON with an \"error\" string: %s %r"
                            % (content_type, body[:200]))
    elif content_type == BINARY:
        shape = [int(d) for d in headers.get("X-Array-Shape", "").split(",") if d]
        size = _ITEM_SIZES.get(headers.get("X-Array-Dtype"))
        if size is None or len(body) != size * math.prod(shape):
            problems.append("binary answer of %d bytes for shape %s, dtype %s" % (
                len(body), shape, headers.get("X-Array-Dtype")))
    elif content_type in ("text/csv", "application/zip"):
        problems += _export_problems(content_type, body)
    elif content_type == "application/json":
        try:
            json.loads(body)
        except ValueError:
            problems.append("200 answer is not JSON: %r" % body[:200])
    return problems


def _export_problems(content_type, body):
    """What is wrong with a /export file: a CSV whose rows do not all have the header's
    fields, or an NPZ that does not load without pickle with the same columns' lengths."""
    try:
        if content_type == "text/csv":
            rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
            lengths = {len(row) for row in rows}
            if rows[0][:4] != ["sequence", "step", "x", "y"] or lengths != {len(rows[0])}:
                return ["CSV with header %r and row lengths %s" % (rows[0], sorted(lengths))]
        else:
            with np.load(io.BytesIO(body), allow_pickle=False) as npz:
                sizes = {npz[name].shape for name in npz.files}
            if len(sizes) != 1:
                return ["NPZ with columns of shapes %s" % sorted(sizes)]
    except Exception as e:  # any failure to read it back is the problem reported
        return ["unreadable %s export: %r" % (content_type, e)]
    return []
