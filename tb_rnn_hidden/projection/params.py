"""The projection parameters, built from tb_rnn_hidden/schema/projection_params.json.

That file is the one definition of every parameter's name, type, default, limits and
the methods it applies to: the server's checks and defaults (here), `/info`, and the
tab's form, URL state and query all read it.
"""

import dataclasses
import math

import numpy as np

from tb_rnn_hidden import schemas

_SCHEMA = schemas.load("projection_params")
_IGNORED_KEYS = frozenset(("run", "tag", "step", "experiment"))


def _bad(name, value, expected):
    text = str(value)
    if len(text) > _SHOWN_CHARS:  # a 5,000-digit value is not repeated back whole
        text = "%s... (%d characters)" % (text[:_SHOWN_CHARS], len(text))
    return ValueError("%s is %s; expected %s" % (name, text, expected))


_SHOWN_CHARS = 40


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One projection parameter: its type, bounds or choices, default, and the methods it
    applies to. `ProjectionParams`, its query parsing and the `/info` route read these."""

    name: str
    kind: str  # "number", "integer" or "choice"
    default: object
    methods: tuple
    low: float = None
    high: float = None
    choices: tuple = ()
    help: str = ""

    def expected(self):
        if self.kind == "choice":
            return "one of %s" % ", ".join(self.choices)
        article = "an integer" if self.kind == "integer" else "a number"
        return "%s with %s <= %s <= %s" % (article, _g(self.low), self.name, _g(self.high))

    def check(self, value):
        """The value, as the parameter's type; ValueError naming it otherwise. Never clamps."""
        if self.kind == "choice":
            if value not in self.choices:
                raise _bad(self.name, repr(value), self.expected())
            return value
        numeric = (int, np.integer) if self.kind == "integer" else (int, float, np.integer, np.floating)
        if (
            isinstance(value, bool)
            or not isinstance(value, numeric)
            # An int of any size compares exactly; math.isfinite would overflow on it.
            or not (isinstance(value, (int, np.integer)) or math.isfinite(value))
            or not self.low <= value <= self.high
        ):
            raise _bad(self.name, value, self.expected())
        return int(value) if self.kind == "integer" else float(value)

    def parse(self, text):
        """A query-string value -> the parameter's type (then `check`)."""
        if self.kind == "choice":
            return text
        try:
            return int(text, 10) if self.kind == "integer" else float(text)
        except ValueError:
            raise _bad(self.name, repr(text), self.expected()) from None

    def as_dict(self):
        out = dict(name=self.name, kind=self.kind, default=self.default,
                   methods=list(self.methods), help=self.help)
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        else:
            out.update(min=self.low, max=self.high)
        return out


def _g(number):
    return "%g" % number


def _spec(entry):
    return ParamSpec(
        name=entry["name"],
        kind=entry["kind"],
        default=entry["default"],
        methods=tuple(entry["methods"]),
        low=entry.get("low"),
        high=entry.get("high"),
        choices=tuple(entry.get("choices", ())),
        help=entry.get("help", ""),
    )


PARAM_SPECS = tuple(_spec(entry) for entry in _SCHEMA["params"])
SPECS = {spec.name: spec for spec in PARAM_SPECS}
METHOD_LABELS = {method["name"]: method["label"] for method in _SCHEMA["methods"]}
METHODS = tuple(METHOD_LABELS)
METRICS = SPECS["metric"].choices
ALIGNS = SPECS["align"].choices
_TYPES = {"number": float, "integer": int, "choice": str}


class _ParamsBehaviour:
    """The checks and conversions of `ProjectionParams`, whose fields come from the schema."""

    def __post_init__(self):
        method = SPECS["method"].check(self.method)
        for spec in PARAM_SPECS:
            value = spec.check(getattr(self, spec.name))
            if method not in spec.methods:
                value = spec.default
            object.__setattr__(self, spec.name, value)

    @classmethod
    def from_query(cls, args):
        """From a mapping of query-string values (str).

        Unknown keys or out-of-range/unparseable values raise
        ValueError('<name> is <value>; expected ...'). Never clamps. Ignores the keys
        run, tag, step, experiment.
        """
        values = {}
        for key in args.keys():
            if key in _IGNORED_KEYS:
                continue
            if key not in SPECS:
                raise _bad("parameter %r" % key, "unknown", "one of %s" % ", ".join(sorted(SPECS)))
            raw = args[key]
            if isinstance(raw, (list, tuple)):  # parse_qs-style mappings
                if len(raw) != 1:
                    raise _bad(key, repr(raw), "a single value")
                raw = raw[0]
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            values[key] = SPECS[key].parse(str(raw).strip())
        return cls(**values)

    def as_dict(self) -> dict:
        """JSON-serialisable; used in cache keys and responses."""
        return dataclasses.asdict(self)


def _params_class():
    """`ProjectionParams`: a frozen dataclass with one field per parameter of the schema."""
    fields = [
        (spec.name, _TYPES[spec.kind], dataclasses.field(default=spec.default))
        for spec in PARAM_SPECS
    ]
    namespace = dict(__doc__=_PARAMS_DOC, __module__=__name__)
    return dataclasses.make_dataclass(
        "ProjectionParams", fields, bases=(_ParamsBehaviour,), namespace=namespace, frozen=True
    )


_PARAMS_DOC = """The parameters of one projection, checked on construction (never clamped).

A parameter that does not apply to the method (see PARAM_SPECS) is reset to its
default, so that e.g. PCA requests differing only in perplexity share one result.
"""
ProjectionParams = _params_class()
