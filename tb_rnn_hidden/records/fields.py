"""The fields of one logged record, and their validation: the one place that knows them.

`RecordFields` is what every way of logging builds: the TensorFlow op and the
TensorFlow-free protobuf (`summary.py`), the writer, the Keras callback and the
PyTorch helper. `RecordFields.validated()` checks every field, naming the
argument, what was received and what was expected, and returns the arrays the
codec stores (padding removed). The rules for what goes beside a record
(`check_tag`, `check_step`, `check_text` for the description) and the
shape-and-dtype rules that can run without values (`check_static`, used
inside `tf.function` at trace time) are here too, so that every entry point
applies the same ones. So are annotation tracks (LSTMVis' meta tracks): the
rules for `annotations`, and the tracks a record holds (`CategoricalTrack`,
`NumericTrack`), which the codec stores and the reader decodes.

Checks run cheapest first: types, shapes and the record's size (from shapes
alone, so a record too large for one event fails before anything is copied),
then the values.
"""

import collections.abc
import dataclasses
import json
import sys
from typing import Any, List, Optional

import numpy as np

STATES_DTYPES = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}
LENGTHS_DTYPE = np.dtype("<i4")
PROBABILITIES_DTYPE = np.dtype("<f4")
# Tolerance for "each row of probabilities sums to 1": softmax in float16 or
# float32 rounds, a wrong axis or logits do not come close.
_DISTRIBUTION_ATOL = 1e-3
# Lengths, labels and token ids are stored as int32.
INT32_LIMIT = 2**31
# TensorBoard stores steps as int64.
STEP_LIMIT = 2**63
# The longest tag TensorBoard can always serve. The tag goes percent-encoded
# into the query string of every request of the tab, up to 12 URL characters
# per character (4-byte UTF-8), and TensorBoard's HTTP server (Python's
# http.server, under both loaders) answers 414 to a request line over 65,536
# bytes: a tag of 5,300 such characters served, one of 5,500 did not. 1,024
# characters take at most 12,288 URL characters, leaving room for the run
# name and the other parameters.
MAX_TAG_LENGTH = 1024
# One record is one protobuf `Event`, which protobuf cannot serialize beyond
# 2 GiB; the tag, the description and the metadata get the last MiB.
MAX_EVENT_BYTES = 2**31 - 1
MAX_DESCRIPTION_BYTES = 512 * 1024
MAX_RECORD_BYTES = MAX_EVENT_BYTES - 2**20
# Room in the record for the header's fixed fields (its class names are counted).
_HEADER_BYTES = 1024
# Annotation tracks: at most this many per record, names of at most this many
# characters, categorical tracks of at most this many distinct values (their
# codes are stored as uint8 up to 256 categories, else uint16).
MAX_ANNOTATION_TRACKS = 64
MAX_ANNOTATION_NAME_LENGTH = 256
MAX_ANNOTATION_CATEGORIES = 65536
ANNOTATION_VALUES_DTYPE = np.dtype("<f4")  # numeric tracks, stored and served
ANNOTATION_CODES_DTYPE = np.dtype("<i4")  # categorical codes as the reader holds and serves them


@dataclasses.dataclass(frozen=True)
class RecordFields:
    """One checkpoint's record, as given (numpy arrays, nested lists, TF or PyTorch tensors).

    See `tb_rnn_hidden.summary.hidden_states` for the meaning of each field.
    """

    states: Any
    probabilities: Any = None
    tokens: Any = None
    lengths: Any = None
    labels: Any = None
    class_names: Any = None
    precision: str = "float16"
    annotations: Any = None  # {name: [N, T] strings or numbers}, or None

    def array_fields(self):
        """{name: value} of the array fields that are set (states first)."""
        names = ("states", "probabilities", "tokens", "lengths", "labels")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def validated(self):
        """The checked record as `ValidRecord`; ValueError naming what is wrong."""
        return _validate(self)


@dataclasses.dataclass(frozen=True)
class ValidRecord:
    """A checked record: shapes, and every array as stored (valid steps only)."""

    num_sequences: int
    max_length: int
    state_size: int
    precision: str
    lengths: np.ndarray  # [N] int32
    states: np.ndarray  # [P, H] float16 or float32
    probabilities: Optional[np.ndarray]  # [P, C] float32
    num_classes: int
    class_names: Optional[List[str]]
    labels: Optional[np.ndarray]  # [N] int32
    vocabulary: Optional[List[str]]
    token_ids: Optional[np.ndarray]  # [P] int32
    annotations: tuple = ()  # CategoricalTrack or NumericTrack, in the order given


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalTrack:
    """An annotation track of strings: `codes[p]` indexes `categories` (sorted, distinct)."""

    name: str
    categories: List[str]
    codes: np.ndarray  # [P] int32
    kind = "categorical"

    def header(self):
        """The track's entry in the record header (and in /sequences)."""
        return {"name": self.name, "kind": self.kind, "categories": list(self.categories)}


@dataclasses.dataclass(frozen=True, eq=False)
class NumericTrack:
    """An annotation track of numbers: `values[p]`, float32, finite."""

    name: str
    values: np.ndarray  # [P] float32
    kind = "numeric"

    @property
    def min(self):
        return float(self.values.min())

    @property
    def max(self):
        return float(self.values.max())

    def header(self):
        """The track's entry in the record header (and in /sequences)."""
        return {"name": self.name, "kind": self.kind, "min": self.min, "max": self.max}


@dataclasses.dataclass(frozen=True)
class ArraySpec:
    """What is known of an array before its values: inside `tf.function`, at trace time.

    `shape` is None where the rank is unknown, with None for each unknown
    size; `kind` is a numpy dtype kind ("f", "i", "u", "b", "c", "O" for
    strings, "V" for anything else); `dtype` names the dtype in messages.
    """

    shape: Optional[tuple]
    kind: str
    dtype: str

    @classmethod
    def of(cls, array):
        kind = "O" if array.dtype.kind in "OUS" else array.dtype.kind
        return cls(tuple(array.shape), kind, str(array.dtype))


@dataclasses.dataclass(frozen=True)
class _Structure:
    """The sizes a record's shapes give (None where not known at trace time)."""

    n: Optional[int]
    t: Optional[int]
    h: Optional[int]
    num_classes: Optional[int]  # 0 without probabilities


# Tag, step, text --------------------------------------------------------------


def _short(value, limit=60):
    """repr(value) for a message, cut to `limit` characters."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return "%s... (%d characters)" % (text[:limit], len(text))


def check_text(name, value):
    """`value` as a str: a str that UTF-8 can encode, or bytes that are valid UTF-8.

    Never replaces what it cannot read (no U+FFFD): an undecodable byte or a
    lone surrogate is a ValueError naming `name`.
    """
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(
                "`%s` is %s, which is not valid UTF-8 (%s at byte %d); expected text "
                "(str, or UTF-8 bytes)" % (name, _short(bytes(value)), e.reason, e.start)
            ) from None
    if not isinstance(value, str):
        raise ValueError(
            "`%s` is %s of type %s; expected a string" % (name, _short(value), type(value).__name__)
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(
            "`%s` has the lone surrogate %r at character %d, which UTF-8 cannot encode; "
            "expected text (decode bytes with errors='strict')" % (name, value[e.start], e.start)
        ) from None
    return str(value)


def check_tag(value, name="tag"):
    """A tag: non-empty text of at most `MAX_TAG_LENGTH` characters."""
    if value is None:
        raise ValueError("`%s` is None; expected a non-empty string" % name)
    tag = check_text(name, value)
    if not tag:
        raise ValueError("`%s` is empty; expected a non-empty string" % name)
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(
            "`%s` has %d characters; expected at most %d: TensorBoard sends the tag in "
            "the URL of every request, and its HTTP server refuses URLs over 65,536 bytes"
            % (name, len(tag), MAX_TAG_LENGTH)
        )
    return tag


def check_description(value, name="description"):
    """An optional Markdown description: None, or text of at most `MAX_DESCRIPTION_BYTES`."""
    if value is None:
        return None
    text = check_text(name, value)
    size = len(text.encode("utf-8"))
    if size > MAX_DESCRIPTION_BYTES:
        raise ValueError(
            "`%s` has %d bytes of UTF-8; expected at most %d (it is stored with every "
            "record)" % (name, size, MAX_DESCRIPTION_BYTES)
        )
    return text


STEP_EXPECTED = "expected an integer 0 <= step < 2**63 (the checkpoint, e.g. the epoch)"


def check_step(value, name="step"):
    """The step as a Python int: an integer (int, numpy integer, 0-d integer array or tensor)."""
    scalar = _to_numpy(name, value)
    if isinstance(scalar, np.ndarray):
        if scalar.ndim != 0:
            raise ValueError("`%s` has shape %s; %s" % (name, scalar.shape, STEP_EXPECTED))
        scalar = scalar[()]
    if isinstance(scalar, (bool, np.bool_)) or not isinstance(scalar, (int, np.integer)):
        raise ValueError(
            "`%s` is %s of type %s; %s"
            % (name, _short(value), type(value).__name__, STEP_EXPECTED)
        )
    step = int(scalar)
    if not 0 <= step < STEP_LIMIT:
        raise ValueError("`%s` is %d; %s" % (name, step, STEP_EXPECTED))
    return step


def check_step_spec(spec, name="step"):
    """A step tensor's dtype and shape (`ArraySpec`), at trace time; its value is checked when run."""
    if spec.kind not in "iu" or spec.dtype == "uint64":
        raise ValueError(
            "`%s` is a tensor of dtype %s; %s, as an int32 or int64 tensor"
            % (name, spec.dtype, STEP_EXPECTED)
        )
    if spec.shape is not None and spec.shape != ():
        raise ValueError("`%s` is a tensor of shape %s; %s" % (name, spec.shape, STEP_EXPECTED))


def check_precision(precision):
    if not isinstance(precision, str) or precision not in STATES_DTYPES:
        raise ValueError(
            "`precision` is %s; expected one of %s" % (_short(precision), sorted(STATES_DTYPES))
        )
    return precision


def check_class_names(value, num_classes=None, name="class_names"):
    """A list of distinct, non-empty names, `num_classes` of them when that is known."""
    names = _to_numpy(name, value)
    if isinstance(names, np.ndarray) and names.ndim == 1:
        names = names.tolist()
    if isinstance(names, (str, bytes)):
        raise ValueError(
            "`%s` is %s; expected a list of strings (or a tuple): one distinct, non-empty "
            "name per class, in class order" % (name, _short(value))
        )
    if not isinstance(names, (list, tuple)):
        raise ValueError(
            "`%s` is a %s (%s); expected a list of strings (or a tuple): one distinct, "
            "non-empty name per class, in class order" % (name, type(value).__name__, _short(value))
        )
    names = [check_text("%s[%d]" % (name, i), v) for i, v in enumerate(names)]
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(
            "`%s` has %d entries; expected %d (one per class)" % (name, len(names), num_classes)
        )
    if not names:
        raise ValueError("`%s` is empty; expected one name per class" % name)
    first = {}
    for i, v in enumerate(names):
        if not v:
            raise ValueError("`%s[%d]` is empty; expected a non-empty name" % (name, i))
        j = first.setdefault(v, i)
        if j != i:
            raise ValueError(
                "`%s[%d]` is %s, the same as `%s[%d]`; expected distinct names"
                % (name, i, _short(v), name, j)
            )
    return names


def check_labels(value, num_sequences, num_classes=0, name="labels"):
    """[N] class indices as int32: in [0, C) when C is known, else in [0, 2**31)."""
    labels = _array(name, value, kind="integer")
    _check_shape(
        name, labels.shape, (num_sequences,),
        "[N] true class per sequence, N=%s" % num_sequences,
    )
    upper = num_classes or INT32_LIMIT
    bad = (labels < 0) | (labels >= upper)
    if bad.any():
        i = int(np.argmax(bad))
        bound = "%d)" % num_classes if num_classes else "2**31) (labels are stored as int32)"
        raise ValueError(
            "`%s[%d]` is %d; expected a class index in [0, %s" % (name, i, int(labels[i]), bound)
        )
    return labels.astype(LENGTHS_DTYPE)


def check_lengths(value, num_sequences, max_length, steps_of="`states`", name="lengths"):
    """[N] valid steps per sequence as int32, each in [1, T]."""
    lengths = _array(name, value, kind="integer")
    _check_shape(
        name, lengths.shape, (num_sequences,),
        "[N] valid steps per sequence, N=%d" % num_sequences,
    )
    bad = (lengths < 1) | (lengths > max_length) | (lengths >= INT32_LIMIT)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            "`%s[%d]` is %d; expected 1 <= length <= T=%d (the steps axis of %s)"
            % (name, i, int(lengths[i]), max_length, steps_of)
        )
    return lengths.astype(LENGTHS_DTYPE)


# Static rules: shapes and dtypes ----------------------------------------------


def check_static(specs, *, class_names=None, precision="float16", annotations=None):
    """Checks what shapes and dtypes alone decide: {field name: `ArraySpec`}, and
    `annotations` {track name: `ArraySpec`} (names checked by `check_annotations`).

    What `tf.function` can check at trace time, before any value exists; the
    same rules open `RecordFields.validated()`. Returns the class names, checked.
    """
    check_precision(precision)
    structure = _check_structure(specs)
    annotations = annotations or {}
    check_annotation_specs(annotations, structure.n, structure.t)
    num_classes = structure.num_classes
    if class_names is not None:
        class_names = check_class_names(class_names, num_classes or None)
    if structure.n is not None and structure.t is not None and structure.h is not None:
        if "lengths" not in specs:  # without lengths every step is valid
            num_steps = structure.n * structure.t
            _check_size(structure, num_steps, precision, specs, class_names,
                        annotation_bytes=_annotation_bytes_estimate(annotations, num_steps))
    return class_names


def _check_kind(name, spec, kind):
    allowed = {"integer": "iu", "real": "iuf", "string": "O"}[kind]
    if spec.kind not in allowed:
        wanted = {
            "integer": "integer numbers",
            "real": "real (float or int) numbers",
            "string": "strings",
        }[kind]
        raise ValueError("`%s` has dtype %s; expected %s" % (name, spec.dtype, wanted))


def _check_shape(name, shape, expected, meaning):
    """`expected` is a tuple of ints or None (any size > 0); None in `shape` is unknown."""
    if shape is None:
        return
    ok = len(shape) == len(expected) and all(
        s is None or (e is None and s > 0) or s == e for s, e in zip(shape, expected)
    )
    if not ok:
        wanted = "(%s)" % ", ".join("?" if e is None else str(e) for e in expected)
        shown = "(%s)" % ", ".join("?" if s is None else str(s) for s in shape)
        shown = shown[:-1] + ",)" if len(shape) == 1 else shown
        raise ValueError(
            "`%s` has shape %s; expected %s = %s with every dimension > 0"
            % (name, shown, wanted, meaning)
        )


def _dim(shape, axis):
    return None if shape is None else shape[axis]


def _check_structure(specs):
    """Dtypes and shapes of every array, and the sizes N, T, H, C they agree on."""
    states = specs["states"]
    _check_kind("states", states, "real")
    _check_shape("states", states.shape, (None, None, None), "[N sequences, T steps, H units]")
    n, t, h = (_dim(states.shape, k) for k in range(3))
    if "lengths" in specs:
        _check_kind("lengths", specs["lengths"], "integer")
        _check_shape(
            "lengths", specs["lengths"].shape, (n,), "[N] valid steps per sequence, N=%s" % n
        )
    num_classes = 0
    if "probabilities" in specs:
        probabilities = specs["probabilities"]
        _check_kind("probabilities", probabilities, "real")
        _check_shape(
            "probabilities",
            probabilities.shape,
            (n, t, None),
            "[N=%s, T=%s, C classes] (C=1 means sigmoid output for class 1)" % (n, t),
        )
        num_classes = _dim(probabilities.shape, 2)
        if num_classes == 1:  # binary sigmoid head: p(class 1)
            num_classes = 2
    if "labels" in specs:
        _check_kind("labels", specs["labels"], "integer")
        _check_shape(
            "labels", specs["labels"].shape, (n,), "[N] true class per sequence, N=%s" % n
        )
    if "tokens" in specs:
        _check_kind("tokens", specs["tokens"], "string")
        _check_shape(
            "tokens",
            specs["tokens"].shape,
            (n, t),
            "[N, T] like `states` (pad short sequences with any string)",
        )
    return _Structure(n, t, h, num_classes)


def _check_size(structure, num_steps, precision, specs, class_names, vocabulary_bytes=0,
                annotation_bytes=0):
    """ValueError if the record would not fit in one event, from its shapes alone."""
    n, h, c = structure.n, structure.h, structure.num_classes or 0
    parts = {
        "states": num_steps * h * STATES_DTYPES[precision].itemsize,
        "probabilities": num_steps * c * PROBABILITIES_DTYPE.itemsize,
        "lengths": n * LENGTHS_DTYPE.itemsize,
        "labels": n * LENGTHS_DTYPE.itemsize if "labels" in specs else 0,
        "tokens": (num_steps * LENGTHS_DTYPE.itemsize if "tokens" in specs else 0)
        + vocabulary_bytes,
        "annotations": annotation_bytes,
        "header": _HEADER_BYTES + len(json.dumps(class_names or [])),
    }
    total = sum(parts.values())
    if total > MAX_RECORD_BYTES:
        raise ValueError(
            "`states` of shape (N=%d, T=%d, H=%d) with %d valid steps makes a record of "
            "%d bytes (%s), over the %d bytes that fit in one event (protobuf's 2 GiB "
            "limit); log fewer probe sequences, shorter sequences (`lengths`)%s, or fewer "
            "units"
            % (
                n,
                structure.t,
                h,
                num_steps,
                total,
                ", ".join("%s %d" % kv for kv in parts.items() if kv[1]),
                MAX_RECORD_BYTES,
                "" if precision == "float16" else ", precision='float16'",
            )
        )


# Arrays -----------------------------------------------------------------------


def _torch_to_numpy(name, tensor, torch):
    """A torch tensor of any dtype, device or layout as an ndarray.

    Dtypes numpy lacks (bfloat16, float8) become float32, which holds their values exactly.
    """
    if tensor.is_meta:
        raise ValueError(
            "`%s` is a tensor on the meta device, which has no data; expected a tensor "
            "holding values (on the CPU or a GPU)" % name
        )
    if getattr(tensor, "is_nested", False):
        raise ValueError(
            "`%s` is a nested (ragged) tensor; expected a rectangular tensor, padded to the "
            "longest sequence" % name
        )
    tensor = tensor.detach()
    if tensor.is_quantized:
        tensor = tensor.dequantize()
    if tensor.layout != torch.strided:
        tensor = tensor.to_dense()
    tensor = tensor.cpu().resolve_conj().resolve_neg()
    try:
        return tensor.numpy()
    except TypeError:  # bfloat16, float8, ...: dtypes numpy does not have
        if tensor.is_floating_point():
            return tensor.float().numpy()  # exact: every such value is a float32
        if tensor.is_complex():
            return tensor.cfloat().numpy()
        raise ValueError(
            "`%s` is a tensor of dtype %s, which numpy cannot hold; expected real numbers"
            % (name, tensor.dtype)
        ) from None


def _to_numpy(name, value):
    """Numpy arrays, nested lists, and TF, PyTorch or JAX tensors, as numpy values."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _torch_to_numpy(name, value, torch)
    if not isinstance(value, np.ndarray) and callable(getattr(value, "numpy", None)):
        try:
            return value.numpy()  # tf.Tensor, tf.Variable
        except (AttributeError, NotImplementedError, TypeError, ValueError) as e:
            raise ValueError(
                "`%s` is a %s without values (%s); expected values: inside tf.function, "
                "log with tb_rnn_hidden.summary.hidden_states" % (name, type(value).__name__, e)
            ) from None
    return value


def _ml_dtype_as_numpy(array):
    """bfloat16 and float8 arrays (TensorFlow's, JAX's: ml_dtypes) as float32, int4 as int64."""
    if array.dtype.kind != "V" or array.dtype.names is not None:
        return array
    if "float" in array.dtype.name:
        return array.astype(np.float32)
    if "int" in array.dtype.name:
        return array.astype(np.int64)
    return array


def _array(name, value, *, kind):
    """`value` as an ndarray of a numeric kind, or a ValueError naming `name`."""
    value = _to_numpy(name, value)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as e:  # ragged nested lists
        raise ValueError(
            "`%s` is ragged (%s); expected a rectangular array, padded to the "
            "longest sequence" % (name, e)
        ) from None
    if array.dtype == object:
        raise ValueError(
            "`%s` is ragged, mixes types or holds numbers numpy cannot store (numpy made "
            "an object array of shape %s); expected a rectangular %s array"
            % (name, array.shape, kind)
        )
    array = _ml_dtype_as_numpy(array)
    _check_kind(name, ArraySpec.of(array), kind)
    return array


def array_spec(name, value):
    """The `ArraySpec` of a field given as values (not a symbolic tensor); tokens' text checked."""
    if name == "tokens":
        tokens = _string_array(name, value)
        for index, token in np.ndenumerate(tokens):
            check_text("tokens%s" % "".join("[%d]" % i for i in index), token)
        return ArraySpec.of(tokens)
    kind = "integer" if name in ("lengths", "labels") else "real"
    return ArraySpec.of(_array(name, value, kind=kind))


def _string_array(name, value):
    """Tokens as an object ndarray (elements checked one by one later)."""
    value = _to_numpy(name, value)
    try:
        return np.asarray(value, dtype=object)
    except ValueError as e:
        raise ValueError("`%s` is ragged (%s); expected [N, T] strings, padded" % (name, e))


# Values -----------------------------------------------------------------------


def _index_of(valid, flat_index):
    """`name[i][t][k]` of the `flat_index`-th element of values[valid] ([P, K] flattened)."""
    per_step = flat_index[1]
    i, t = np.argwhere(valid)[flat_index[0]]
    return "[%d][%d][%d]" % (i, t, per_step)


def _check_finite(name, values, valid):
    bad = ~np.isfinite(values)
    if bad.any():
        first = tuple(np.argwhere(bad)[0])
        raise ValueError(
            "`%s` has %d NaN or Inf values in valid (non-padding) steps, the first "
            "`%s%s` = %r; expected finite numbers"
            % (name, int(bad.sum()), name, _index_of(valid, first), float(values[first]))
        )


def _fits(source, target):
    """Whether every finite value of dtype `source` is within the range of float dtype `target`."""
    info = np.finfo if source.kind == "f" else np.iinfo
    return float(info(source).max) <= float(np.finfo(target).max)


def _check_range(name, values, valid, target):
    """ValueError if a (finite) value is beyond float dtype `target`'s range: never ±Inf."""
    if _fits(values.dtype, target):
        return
    largest = float(np.finfo(target).max)
    bad = (values > largest) | (values < -largest)
    if bad.any():
        first = tuple(np.argwhere(bad)[0])
        advice = "; pass precision='float32'" if target == np.float16 else ""
        raise ValueError(
            "`%s%s` is %r, beyond %s's range%s (%s's largest finite value is %g); expected "
            "values within it"
            % (name, _index_of(valid, first), values[first].item(), np.dtype(target).name,
               advice, np.dtype(target).name, largest)
        )


def _valid_states(states, valid, precision):
    values = states[valid]  # [P, H], sequence after sequence
    _check_finite("states", values, valid)
    _check_range("states", values, valid, STATES_DTYPES[precision])
    return values.astype(STATES_DTYPES[precision], copy=False)


def _valid_probabilities(probabilities, valid):
    values = probabilities[valid]
    _check_finite("probabilities", values, valid)
    lo, hi = values.min(), values.max()
    if lo < -_DISTRIBUTION_ATOL or hi > 1.0 + _DISTRIBUTION_ATOL:
        raise ValueError(
            "`probabilities` has values in [%g, %g]; expected probabilities in "
            "[0, 1] (apply softmax/sigmoid to logits first)" % (lo, hi)
        )
    values = values.astype(PROBABILITIES_DTYPE)
    if values.shape[1] == 1:  # binary sigmoid head: p(class 1)
        values = np.concatenate([1.0 - values, values], axis=1)
    sums = values.sum(axis=1)
    off = np.abs(sums - 1.0) > _DISTRIBUTION_ATOL
    if off.any():
        i = int(np.argmax(off))
        raise ValueError(
            "`probabilities` at valid step %d sums to %g over the class axis; "
            "expected each step's probabilities to sum to 1" % (i, float(sums[i]))
        )
    return values


def _encode_tokens(tokens, valid):
    """Distinct tokens in order of appearance, and each valid step's index into them."""
    index = {}
    decoded = {}  # the raw token (str or bytes) -> its text
    ids = np.empty(int(valid.sum()), dtype=LENGTHS_DTYPE)
    for k, (i, j) in enumerate(np.argwhere(valid)):
        raw = tokens[i, j]
        if isinstance(raw, (str, bytes)) and raw in decoded:
            token = decoded[raw]
        else:
            token = check_text("tokens[%d][%d]" % (i, j), raw)
            if isinstance(raw, (str, bytes)):
                decoded[raw] = token
        ids[k] = index.setdefault(token, len(index))
    return list(index), ids


def _validate(fields):
    precision = check_precision(fields.precision)
    arrays = {"states": _array("states", fields.states, kind="real")}
    for name, kind in (("probabilities", "real"), ("lengths", "integer"), ("labels", "integer")):
        if getattr(fields, name) is not None:
            arrays[name] = _array(name, getattr(fields, name), kind=kind)
    if fields.tokens is not None:
        arrays["tokens"] = _string_array("tokens", fields.tokens)
    specs = {name: ArraySpec.of(array) for name, array in arrays.items()}
    structure = _check_structure(specs)
    n, t, h = structure.n, structure.t, structure.h
    annotations = {
        name: annotation_array(name, value)
        for name, value in check_annotations(fields.annotations).items()
    }
    annotation_specs = {name: ArraySpec.of(array) for name, array in annotations.items()}
    check_annotation_specs(annotation_specs, n, t)
    class_names = fields.class_names
    if class_names is not None:
        class_names = check_class_names(class_names, structure.num_classes or None)
    num_classes = structure.num_classes or len(class_names or [])

    if "lengths" in arrays:
        lengths = check_lengths(arrays["lengths"], n, t)
    else:
        lengths = np.full([n], t, dtype=LENGTHS_DTYPE)
    num_steps = int(lengths.sum(dtype=np.int64))
    _check_size(structure, num_steps, precision, specs, class_names,
                annotation_bytes=_annotation_bytes_estimate(annotation_specs, num_steps))
    labels = None
    if "labels" in arrays:
        labels = check_labels(arrays["labels"], n, num_classes)

    valid = np.arange(t)[None, :] < lengths[:, None]  # [N, T]
    states = _valid_states(arrays["states"], valid, precision)
    probabilities = None
    if "probabilities" in arrays:
        probabilities = _valid_probabilities(arrays["probabilities"], valid)
    vocabulary = token_ids = None
    if "tokens" in arrays:
        vocabulary, token_ids = _encode_tokens(arrays["tokens"], valid)
    tracks = tuple(_valid_annotation(name, array, valid) for name, array in annotations.items())
    if vocabulary is not None or tracks:
        _check_size(
            structure, num_steps, precision, specs, class_names,
            len(json.dumps(vocabulary)) if vocabulary is not None else 0,
            tracks_bytes(tracks),
        )
    return ValidRecord(
        num_sequences=int(n),
        max_length=int(t),
        state_size=int(h),
        precision=precision,
        lengths=lengths,
        states=states,
        probabilities=probabilities,
        num_classes=int(num_classes),
        class_names=class_names,
        labels=labels,
        vocabulary=vocabulary,
        token_ids=token_ids,
        annotations=tracks,
    )


# Annotations ------------------------------------------------------------------

ANNOTATIONS_EXPECTED = (
    "expected a mapping {name: [N, T] array}: per-step strings (a categorical track) or "
    "numbers (a numeric track), e.g. {\"depth\": depth}"
)
_TRACK_EXPECTED = (
    "expected strings (a categorical track) or real numbers or booleans (a numeric track; "
    "booleans are stored as 0 and 1)"
)


def _describe(value):
    """A value in one line: arrays and tensors by their shape, sequences by their length."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return "a %s of shape %s" % (type(value).__name__, tuple(value.shape))
    if isinstance(value, (list, tuple)):
        return "a %s of %d items" % (type(value).__name__, len(value))
    return "%s of type %s" % (_short(value), type(value).__name__)


def annotation_label(name):
    """How messages name a track: `annotations['depth']`."""
    return "annotations[%s]" % _short(name)


def check_annotations(value):
    """The tracks as {name: value as given}, in the order given; names checked, values not.

    None means no tracks. Names are non-empty text of at most
    `MAX_ANNOTATION_NAME_LENGTH` characters; at most `MAX_ANNOTATION_TRACKS` tracks.
    """
    if value is None:
        return {}
    if not isinstance(value, collections.abc.Mapping):
        raise ValueError("`annotations` is %s; %s" % (_describe(value), ANNOTATIONS_EXPECTED))
    if len(value) > MAX_ANNOTATION_TRACKS:
        raise ValueError(
            "`annotations` has %d tracks; expected at most %d"
            % (len(value), MAX_ANNOTATION_TRACKS)
        )
    tracks = {}
    for key, track in value.items():
        name = _annotation_name(key)
        if name in tracks:
            raise ValueError(
                "`annotations` names the track %s twice (once as %s); expected distinct names"
                % (_short(name), _short(key))
            )
        if track is None:
            raise ValueError("`%s` is None; expected an [N, T] array" % annotation_label(name))
        tracks[name] = track
    return tracks


def _annotation_name(key):
    if not isinstance(key, (str, bytes)):
        raise ValueError(
            "`annotations` has the name %s of type %s; expected track names: non-empty "
            "strings of at most %d characters"
            % (_short(key), type(key).__name__, MAX_ANNOTATION_NAME_LENGTH)
        )
    name = check_text(annotation_label(key), key)
    if not name:
        raise ValueError("`annotations` has the name ''; expected a non-empty name")
    if len(name) > MAX_ANNOTATION_NAME_LENGTH:
        raise ValueError(
            "`%s` has a name of %d characters; expected at most %d"
            % (annotation_label(name), len(name), MAX_ANNOTATION_NAME_LENGTH)
        )
    return name


def annotation_array(name, value):
    """A track's values as an ndarray: numbers, booleans or strings (lists: an object array,
    so that mixed strings and numbers are caught rather than turned into strings)."""
    label = annotation_label(name)
    value = _to_numpy(label, value)
    try:
        if isinstance(value, np.ndarray):
            array = value
        elif isinstance(value, (list, tuple)):
            array = np.asarray(value, dtype=object)
        else:
            array = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as e:
        raise ValueError(
            "`%s` is ragged (%s); expected a rectangular [N, T] array, padded to the longest "
            "sequence" % (label, e)
        ) from None
    if array.dtype == object and array.size:
        nested = next((v for v in array.flat if isinstance(v, (list, tuple, np.ndarray))), None)
        if nested is not None:
            raise ValueError(
                "`%s` is ragged (numpy made an object array of shape %s holding %s); expected a "
                "rectangular [N, T] array, padded to the longest sequence"
                % (label, array.shape, type(nested).__name__)
            )
    return _ml_dtype_as_numpy(array)


def check_annotation_specs(specs, n, t):
    """Dtypes and shapes of the tracks ({name: `ArraySpec`}): [N, T] strings or numbers."""
    for name, spec in specs.items():
        label = annotation_label(name)
        if spec.kind not in "iufbO":
            raise ValueError("`%s` has dtype %s; %s" % (label, spec.dtype, _TRACK_EXPECTED))
        _check_shape(
            label, spec.shape, (n, t),
            "[N, T] like `states`, one value per step (values at padding steps are ignored)",
        )


def _annotation_bytes_estimate(specs, num_steps):
    """The most the tracks can take in a record, from their dtypes (categories not counted)."""
    per_step = sum(2 if spec.kind == "O" else 4 for spec in specs.values())
    return per_step * num_steps + 3 * len(specs)


def tracks_bytes(tracks):
    """What the tracks take in a record: their blob (codec layout) and their header entries."""
    return sum(
        4 * -(-len(track.codes if track.kind == "categorical" else track.values)
              * annotation_item_size(track) // 4)
        + len(json.dumps(track.header()))
        for track in tracks
    )


def annotation_item_size(track):
    """Bytes per step in the record: uint8 codes up to 256 categories, uint16 beyond, float32."""
    if track.kind == "numeric":
        return ANNOTATION_VALUES_DTYPE.itemsize
    return 1 if len(track.categories) <= 256 else 2


def _step_of(label, valid, k):
    """`annotations['x'][i][t]` of the k-th valid step."""
    i, t = divmod(int(np.flatnonzero(valid)[k]), valid.shape[1])
    return "%s[%d][%d]" % (label, i, t)


def _valid_annotation(name, array, valid):
    """One track, its values at valid steps checked and stored as `CategoricalTrack` or
    `NumericTrack`."""
    label = annotation_label(name)
    values = array[valid]  # [P], sequence after sequence
    if values.dtype.kind in "US":
        return _categorical_from_strings(name, label, values, valid)
    if values.dtype == object:
        kinds = set(map(type, values))
        if all(issubclass(k, (str, bytes)) for k in kinds):
            return _categorical_from_objects(name, label, values, valid)
        if all(issubclass(k, (int, float, np.integer, np.floating, np.bool_)) for k in kinds):
            return _numeric(name, label, _object_numbers(label, values, valid), valid)
        _raise_mixed(label, values, valid)
    return _numeric(name, label, values, valid)


def _value_kind(value):
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        return "number"
    return None


def _raise_mixed(label, values, valid):
    """ValueError naming the first valid step whose kind differs from the first one's."""
    first = _value_kind(values[0])
    k = next(k for k, v in enumerate(values) if first is None or _value_kind(v) != first)
    value = values[k]
    raise ValueError(
        "`%s` is %s of type %s%s; %s, one kind per track (values at padding steps are ignored)"
        % (_step_of(label, valid, k), _short(value), type(value).__name__,
           "" if k == 0 else ", but `%s` is %s" % (_step_of(label, valid, 0), _short(values[0])),
           _TRACK_EXPECTED)
    )


def _object_numbers(label, values, valid):
    try:
        return np.array(values.tolist(), dtype=np.float64)
    except OverflowError:
        k = next(k for k, v in enumerate(values) if abs(v) > np.finfo(np.float64).max)
        raise ValueError(
            "`%s` is %s, beyond float32's range (%g); expected values within it"
            % (_step_of(label, valid, k), _short(values[k]), float(np.finfo(np.float32).max))
        ) from None


def _numeric(name, label, values, valid):
    if values.dtype.kind == "b":
        return NumericTrack(name, values.astype(ANNOTATION_VALUES_DTYPE))
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values)
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(
                "`%s` has %d NaN or Inf values in valid (non-padding) steps, the first `%s` = %r; "
                "expected finite numbers" % (label, int(bad.sum()), _step_of(label, valid, k),
                                             float(values[k]))
            )
        if not _fits(values.dtype, np.float32):
            largest = float(np.finfo(np.float32).max)
            bad = (values > largest) | (values < -largest)
            if bad.any():
                k = int(np.argmax(bad))
                raise ValueError(
                    "`%s` is %r, beyond float32's range (its largest finite value is %g); "
                    "expected values within it (numeric tracks are stored as float32)"
                    % (_step_of(label, valid, k), values[k].item(), largest)
                )
    return NumericTrack(name, values.astype(ANNOTATION_VALUES_DTYPE))


def _step_text(label, valid, k, raw):
    """`check_text` of the k-th valid step's value, naming the step only when it fails
    (finding it costs a pass over the steps)."""
    try:
        return check_text(label, raw)
    except ValueError:
        return check_text(_step_of(label, valid, k), raw)


def _too_many_categories(label, count):
    return ValueError(
        "`%s` has %s distinct strings in valid steps; expected at most %d categories (log "
        "numbers as a numeric track)" % (label, count, MAX_ANNOTATION_CATEGORIES)
    )


def _categorical_from_strings(name, label, values, valid):
    """A track from a numpy str or bytes array: its distinct values checked once each."""
    categories, first, codes = np.unique(values, return_index=True, return_inverse=True)
    if len(categories) > MAX_ANNOTATION_CATEGORIES:
        raise _too_many_categories(label, len(categories))
    texts = [_step_text(label, valid, int(k), raw.item()) for k, raw in zip(first, categories)]
    return CategoricalTrack(name, texts, codes.reshape(-1).astype(ANNOTATION_CODES_DTYPE))


def _categorical_from_objects(name, label, values, valid):
    """A track from an object array of str or bytes (TensorFlow's strings are bytes): each
    step's index into its distinct values (one dict lookup per step), each distinct value
    checked once; values decoding to the same text (b"a", "a") are one category."""
    distinct = {}  # raw value -> its index, in order of appearance
    raw_codes = np.fromiter(
        (distinct.setdefault(v, len(distinct)) for v in values), dtype=np.int64, count=len(values)
    )
    texts = []
    for j, raw in enumerate(distinct):
        try:
            texts.append(check_text(label, raw))
        except ValueError:  # name the first step holding it
            check_text(_step_of(label, valid, int(np.argmax(raw_codes == j))), raw)
    categories = sorted(set(texts))
    if len(categories) > MAX_ANNOTATION_CATEGORIES:
        raise _too_many_categories(label, len(categories))
    position = {text: i for i, text in enumerate(categories)}
    remap = np.array([position[text] for text in texts], dtype=ANNOTATION_CODES_DTYPE)
    return CategoricalTrack(name, categories, remap[raw_codes])
