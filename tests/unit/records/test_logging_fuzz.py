"""Property-based tests of the logging API: any call round-trips exactly, or is a named ValueError.

Hypothesis draws a valid checkpoint (shapes, dtypes, value ranges, labels,
class names, tokens in any Unicode, annotation tracks of strings, numbers and
booleans, tags, steps, descriptions), then spoils
none, one or two of its arguments with hostile values (NaN, Inf, values
beyond the stored precision, labels past int32, lone surrogates, invalid
UTF-8, dicts and sets, negative or fractional steps, over-long tags, wrong
shapes and dtypes). Each call goes through our writer into a fresh log
directory and is read back through TensorBoard's own data provider and the
plugin's reader. The property:

- nothing spoiled: the call succeeds and what TensorBoard serves equals what
  was given (states cast to the chosen precision, valid steps only);
- something spoiled: a ValueError whose message names a spoiled argument
  (or one that no longer agrees with it: other probabilities change the
  number of classes the labels and class names must fit);
- odd values that are valid in some calls (7e4 states, label 99, five class
  names): either of the two.

600 examples take about 20 s on a 2-core machine.
"""

import re
import tempfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorboard import context

from tb_rnn_hidden import writer
from tb_rnn_hidden.records import fields
from tb_rnn_hidden.server import reader as reader_lib
from tests.support.plugin_client import make_data_provider

_FLOAT_MAX = {name: float(np.finfo(name).max) for name in ("float16", "float32")}
# Any Unicode but lone surrogates (which Hypothesis leaves out unless asked).
_TEXT = st.text(max_size=6)
_NAME = st.text(min_size=1, max_size=6)

_SETTINGS = settings(
    deadline=None,
    max_examples=600,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _as_given(draw, text):
    """A string as a caller may pass it: str, or its UTF-8 bytes."""
    return text.encode("utf-8") if draw(st.booleans()) else text


@st.composite
def valid_calls(draw):
    """Keyword arguments of a valid `HiddenStateWriter.add` call."""
    n, t, h = (draw(st.integers(1, k)) for k in (3, 4, 3))
    precision = draw(st.sampled_from(["float16", "float32"]))
    dtype = draw(st.sampled_from(["float16", "float32", "float64", "int8", "int32"]))
    if dtype.startswith("float"):
        limit = min(_FLOAT_MAX[precision], float(np.finfo(dtype).max))
        elements = st.floats(-limit, limit, width=np.dtype(dtype).itemsize * 8)
    else:
        elements = st.integers(-100, 100)
    call = dict(
        tag=draw(st.one_of(_NAME, st.just("\U0001F600" * fields.MAX_TAG_LENGTH))),
        step=draw(st.integers(0, 2**63 - 1)),
        states=draw(hnp.arrays(dtype, (n, t, h), elements=elements)),
        precision=precision,
    )
    if draw(st.booleans()):
        call["lengths"] = draw(
            hnp.arrays(draw(st.sampled_from(["int32", "int64", "uint8"])), (n,),
                       elements=st.integers(1, t))
        )
    num_classes = 0
    if draw(st.booleans()):
        c = draw(st.integers(1, 3))
        weights = draw(hnp.arrays("float64", (n, t, c), elements=st.floats(0.01, 1.0)))
        probabilities = weights / weights.sum(axis=-1, keepdims=True)
        call["probabilities"] = probabilities.astype(draw(st.sampled_from(["float32", "float64"])))
        num_classes = max(c, 2)
    if draw(st.booleans()):
        count = num_classes or draw(st.integers(1, 3))
        names = draw(st.lists(_NAME, min_size=count, max_size=count, unique=True))
        container = draw(st.sampled_from([list, tuple]))
        call["class_names"] = container(_as_given(draw, name) for name in names)
        num_classes = count
    if draw(st.booleans()):
        upper = (num_classes or 2**31) - 1
        call["labels"] = np.array(
            draw(st.lists(st.integers(0, upper), min_size=n, max_size=n)),
            dtype=draw(st.sampled_from(["int64", "uint32"] if upper > 127 else ["int64", "int8"])),
        )
    if draw(st.booleans()):
        tokens = np.empty((n, t), dtype=object)
        for index in np.ndindex(n, t):
            tokens[index] = _as_given(draw, draw(_TEXT))
        call["tokens"] = tokens
    if draw(st.booleans()):
        call["description"] = draw(st.text(max_size=20))
    if draw(st.booleans()):
        call["annotations"] = draw(annotation_tracks(n, t))
    framework = draw(st.sampled_from(["numpy", "numpy", "torch", "torch bfloat16"]))
    if framework != "numpy":  # PyTorch tensors, as a PyTorch script passes them
        states = torch.from_numpy(call["states"]).requires_grad_(dtype.startswith("float"))
        bfloat16 = states.bfloat16()  # rounds: what the caller gives is what it holds
        use_bfloat16 = framework == "torch bfloat16" and bool(
            bfloat16.float().abs().max() <= _FLOAT_MAX[precision]
        )
        call["states"] = bfloat16 if use_bfloat16 else states
        if call.get("labels") is not None and call["labels"].dtype == np.int64:
            call["labels"] = torch.from_numpy(call["labels"])
    return call


_TRACK_DTYPES = ["bool", "int8", "int64", "uint16", "float16", "float32", "float64"]


@st.composite
def annotation_tracks(draw, n, t):
    """{name: [n, t] track}: strings (str or UTF-8 bytes, any Unicode) or numbers of any dtype,
    as numpy arrays, nested lists or PyTorch tensors."""
    names = draw(st.lists(_NAME, max_size=3, unique=True))
    tracks = {}
    for name in names:
        kind = draw(st.sampled_from(["text", "numbers"]))
        if kind == "text":
            words = draw(st.lists(_TEXT, min_size=1, max_size=4))
            track = np.empty((n, t), dtype=object)
            for index in np.ndindex(n, t):
                track[index] = _as_given(draw, draw(st.sampled_from(words)))
            form = draw(st.sampled_from(["objects", "list", "numpy str"]))
            if form == "list":
                track = track.tolist()
            elif form == "numpy str" and all(isinstance(v, str) for v in track.flat):
                track = track.astype(str)
        else:
            dtype = draw(st.sampled_from(_TRACK_DTYPES))
            elements = None
            if dtype.startswith("float"):
                limit = min(_FLOAT_MAX["float32"], float(np.finfo(dtype).max))
                elements = st.floats(-limit, limit, width=np.dtype(dtype).itemsize * 8)
            track = draw(hnp.arrays(dtype, (n, t), elements=elements))
            form = draw(st.sampled_from(["numpy", "torch", "list"]))
            if form == "torch" and dtype != "uint16":
                track = torch.from_numpy(track)
            elif form == "list":
                track = track.tolist()
        tracks[_as_given(draw, name)] = track
    return tracks


def _with_value(array, value):
    array = np.array(array, dtype=np.float64 if isinstance(value, float) else None)
    array[(0,) * array.ndim] = value  # step 0 of sequence 0 is always valid
    return array


# Hostile replacements, by argument: f(call) -> the new value.
_BAD_TEXT = [b"\xff", b"ab\xc3", "\ud800", "a\udfff"]
SPOILERS = {
    "states": [
        lambda c: _with_value(c["states"], float("nan")),
        lambda c: _with_value(c["states"], float("-inf")),
        lambda c: _with_value(c["states"], 1e39),
        lambda c: c["states"][0],
        lambda c: c["states"] > 0,
        lambda c: c["states"].astype(str),
        lambda c: c["states"][:, :0],
        lambda c: None,
    ],
    "probabilities": [
        lambda c: _with_value(np.full(c["states"].shape[:2] + (2,), 0.5), float("nan")),
        lambda c: np.full(c["states"].shape[:2] + (2,), 0.9),
        lambda c: np.full(c["states"].shape[:2] + (1,), 1e39),
        lambda c: np.full(c["states"].shape[:2] + (2,), -0.5),
        lambda c: np.full((7, 1, 2), 0.5),
    ],
    "lengths": [
        lambda c: np.zeros(len(c["states"]), int),
        lambda c: np.full(len(c["states"]), c["states"].shape[1] + 1),
        lambda c: np.full(len(c["states"]), 2**32 + 1),
        lambda c: np.full(len(c["states"]), -1),
        lambda c: np.ones(len(c["states"]) + 1, int),
        lambda c: np.ones(len(c["states"]), float),
    ],
    "labels": [
        lambda c: np.full(len(c["states"]), -1),
        lambda c: np.full(len(c["states"]), 2**31),
        lambda c: np.full(len(c["states"]), 2**32 + 1),
        lambda c: np.full(len(c["states"]), 2**70),
        lambda c: np.zeros(len(c["states"]) + 2, int),
        lambda c: np.zeros(len(c["states"]), float) + 0.5,
    ],
    "class_names": [
        lambda c: {"a": 0, "b": 1},
        lambda c: {"a", "b"},
        lambda c: "ab",
        lambda c: ["a", "a"],
        lambda c: ["a", ""],
        lambda c: ["a", 7],
        lambda c: [],
    ] + [lambda c, bad=bad: ["x", bad] for bad in _BAD_TEXT],
    "tokens": [
        lambda c: np.full(c["states"].shape[:2], 3),
        lambda c: np.full((1, 1), "a", dtype=object),
    ] + [lambda c, bad=bad: np.full(c["states"].shape[:2], bad, dtype=object) for bad in _BAD_TEXT],
    "tag": [
        lambda c: None,
        lambda c: 123,
        lambda c: "",
        lambda c: "\U0001F600" * (fields.MAX_TAG_LENGTH + 1),
    ] + [lambda c, bad=bad: bad for bad in _BAD_TEXT],
    "step": [
        lambda c: -1,
        lambda c: 1.7,
        lambda c: 2.0,
        lambda c: None,
        lambda c: "abc",
        lambda c: 2**63,
        lambda c: True,
        lambda c: np.array([1, 2]),
    ],
    "description": [lambda c: 123] + [lambda c, bad=bad: bad for bad in _BAD_TEXT],
    "precision": [lambda c: "float64", lambda c: None],
    "annotations": [
        lambda c: [np.zeros(c["states"].shape[:2])],
        lambda c: "depth",
        lambda c: {"": np.zeros(c["states"].shape[:2])},
        lambda c: {1: np.zeros(c["states"].shape[:2])},
        lambda c: {"a" * 257: np.zeros(c["states"].shape[:2])},
        lambda c: {"depth": None},
        lambda c: {"depth": _with_value(np.zeros(c["states"].shape[:2]), float("nan"))},
        lambda c: {"depth": _with_value(np.zeros(c["states"].shape[:2]), float("inf"))},
        lambda c: {"depth": _with_value(np.zeros(c["states"].shape[:2]), 1e39)},
        lambda c: {"depth": np.zeros((c["states"].shape[0], c["states"].shape[1] + 1))},
        lambda c: {"depth": np.zeros(c["states"].shape)},
        lambda c: {"depth": np.zeros(c["states"].shape[:2], np.complex64)},
        lambda c: {"pos": np.full(c["states"].shape[:2], None, object)},
        lambda c: {"pos": np.full(c["states"].shape[:2], 1j, object)},
        lambda c: {str(k): np.zeros(c["states"].shape[:2]) for k in range(65)},
    ] + [lambda c, bad=bad: {"pos": np.full(c["states"].shape[:2], bad, dtype=object)}
         for bad in _BAD_TEXT] + [lambda c, bad=bad: {bad: np.zeros(c["states"].shape[:2])}
                                  for bad in _BAD_TEXT],
}
# Odd values that are valid in some calls: refused naming the argument, or stored exactly.
ODD = {
    "states": [lambda c: _with_value(c["states"], 7e4)],  # beyond float16 only
    "labels": [lambda c: np.full(len(c["states"]), 99)],  # valid without classes
    "class_names": [lambda c: ["a", "b", "c", "d", "e"]],  # valid without probabilities
    "probabilities": [lambda c: None],
    "description": [lambda c: None, lambda c: ""],
    # Strings and numbers mixed: valid only with one valid step.
    "annotations": [
        lambda c: None,
        lambda c: {},
        lambda c: {"pos": _with_value(np.full(c["states"].shape[:2], "a", object), 1)},
        lambda c: {"pos": _with_value(np.full(c["states"].shape[:2], 1.5, object), b"a")},
    ],
}


# A spoiled argument may make a valid one disagree with it: other probabilities
# change the number of classes, other states the number of sequences or steps.
_RELATED = {
    "probabilities": {"class_names", "labels"},
    "class_names": {"labels"},
    "states": {"lengths", "probabilities", "tokens", "labels", "annotations"},
}


@st.composite
def calls(draw):
    """(call, the arguments spoiled, the arguments given odd values)."""
    call = draw(valid_calls())
    spoiled = draw(st.lists(st.sampled_from(sorted(SPOILERS)), max_size=2, unique=True))
    odd = draw(st.lists(st.sampled_from(sorted(set(ODD) - set(spoiled))), max_size=1))
    as_numpy = {k: _numpy(v) if isinstance(v, torch.Tensor) else v for k, v in call.items()}
    for name in spoiled:
        call[name] = draw(st.sampled_from(SPOILERS[name]))(as_numpy)
    for name in odd:
        call[name] = draw(st.sampled_from(ODD[name]))(as_numpy)
    return call, spoiled, odd


def _numpy(value):
    """An argument as numpy sees it; a bfloat16 tensor as the float32 values it holds."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
        return (value.float() if value.dtype == torch.bfloat16 else value).numpy()
    return np.asarray(value)


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _expected(call):
    """What TensorBoard should serve for an accepted call, from the call alone."""
    states = _numpy(call["states"])
    n, t, _ = states.shape
    lengths = np.asarray(call.get("lengths", np.full(n, t)))
    valid = np.arange(t)[None, :] < lengths[:, None]
    expected = dict(
        tag=_text(call["tag"]),
        step=int(call["step"]),
        description=call.get("description") or "",
        lengths=lengths,
        states=states[valid].astype(fields.STATES_DTYPES[call.get("precision", "float16")]),
        labels=None if call.get("labels") is None else _numpy(call["labels"]),
        class_names=None if call.get("class_names") is None else [
            _text(v) for v in call["class_names"]
        ],
        probabilities=None,
        tokens=None,
    )
    if call.get("probabilities") is not None:
        p = np.asarray(call["probabilities"])[valid].astype(np.float32)
        expected["probabilities"] = np.concatenate([1 - p, p], axis=1) if p.shape[1] == 1 else p
    if call.get("tokens") is not None:
        expected["tokens"] = [_text(v) for v in np.asarray(call["tokens"], dtype=object)[valid]]
    expected["annotations"] = [
        _expected_track(_text(name), track, valid)
        for name, track in (call.get("annotations") or {}).items()
    ]
    return expected


def _expected_track(name, track, valid):
    """(name, kind, categories or None, [P] values: texts or float32 numbers)."""
    values = _numpy(track) if isinstance(track, torch.Tensor) else np.asarray(track, dtype=object)
    values = values[valid]
    if values.size and isinstance(values[0], (str, bytes)):
        texts = [_text(v) for v in values]
        return (name, "categorical", sorted(set(texts)), texts)
    return (name, "numeric", None, np.array(values.tolist(), dtype=np.float64).astype(np.float32))


def _served_track(track):
    if track.kind == "categorical":
        assert track.codes.dtype == np.int32
        return (track.name, track.kind, track.categories,
                [track.categories[c] for c in track.codes])
    assert track.values.dtype == np.float32
    return (track.name, track.kind, None, track.values)


def _served(logdir):
    """What TensorBoard's data provider serves of the one record in `logdir`."""
    reader = reader_lib.CheckpointReader(make_data_provider(logdir, {}))
    ctx = context.RequestContext()
    listing = reader.list_series(ctx, "")
    (run, tags), = listing.items()
    (tag, series), = tags.items()
    (step,) = series["steps"]
    checkpoint = reader.checkpoint(ctx, "", run, tag, step)
    vocabulary, token_ids = checkpoint.vocabulary, checkpoint.token_ids
    return dict(
        tag=tag,
        step=step,
        description=series["description"],
        lengths=checkpoint.lengths,
        states=checkpoint.states,
        labels=checkpoint.labels,
        class_names=checkpoint.header["class_names"],
        probabilities=checkpoint.probabilities,
        tokens=None if token_ids is None else [vocabulary[i] for i in token_ids],
        annotations=[_served_track(track) for track in checkpoint.annotations],
        annotation_headers=checkpoint.header["annotations"],
    )


def _assert_same(served, expected):
    tracks = expected.pop("annotations")
    assert len(served["annotations"]) == len(tracks)
    for got, wanted, header in zip(served["annotations"], tracks, served["annotation_headers"]):
        assert got[:3] == wanted[:3]
        assert header["name"] == wanted[0] and header["kind"] == wanted[1]
        if wanted[1] == "numeric":
            np.testing.assert_array_equal(got[3], wanted[3], err_msg=wanted[0])
            assert (header["min"], header["max"]) == (wanted[3].min(), wanted[3].max())
        else:
            assert got[3] == wanted[3] and header["categories"] == wanted[2]
    for key, value in expected.items():
        if isinstance(value, np.ndarray):
            assert served[key] is not None, key
            assert served[key].dtype.kind == value.dtype.kind or key != "states", key
            np.testing.assert_array_equal(served[key], value, err_msg=key)
            if key == "states":
                assert served[key].dtype == value.dtype
        else:
            assert served[key] == value, key


@_SETTINGS
@given(calls())
def test_any_call_round_trips_exactly_or_names_what_is_wrong(case):
    call, spoiled, odd = case
    arguments = dict(call)
    with tempfile.TemporaryDirectory() as logdir:
        try:
            with writer.HiddenStateWriter(logdir) as w:
                w.add(arguments.pop("tag"), arguments.pop("states"), **arguments)
        except ValueError as e:
            changed = spoiled + odd
            blamed = set(changed).union(*(_RELATED.get(name, ()) for name in changed))
            named = [name for name in blamed if re.search(r"`%s(`|\[)" % name, str(e))]
            assert named, "%r does not name any of %s" % (str(e), sorted(blamed))
            event("refused, naming %s" % sorted(named))
            return
        event("accepted, %s" % ("odd " + "+".join(odd) if odd else "valid"))
        assert not spoiled, "accepted spoiled %s" % spoiled
        expected = _expected(call)
        event("accepted with tracks: %s" % sorted({t[1] for t in expected["annotations"]}))
        _assert_same(_served(logdir), expected)


def test_the_fuzzed_property_holds_for_a_known_hostile_call():
    """One fixed example, so that a failure of the property's machinery shows without Hypothesis."""
    call = dict(tag="\U0001F600" * fields.MAX_TAG_LENGTH, step=2**63 - 1, precision="float32",
                states=np.full((1, 2, 1), np.finfo(np.float32).max, np.float64),
                tokens=np.array([["\x00", b"\xe2\x82\xac"]], dtype=object),
                class_names=("\u200f", b"\xf0\x9f\x98\x80"), labels=np.array([1], np.uint32))
    with tempfile.TemporaryDirectory() as logdir:
        with writer.HiddenStateWriter(logdir) as w:
            w.add(call["tag"], step=call["step"], **{
                k: v for k, v in call.items() if k not in ("tag", "step")})
        _assert_same(_served(logdir), _expected(call))


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
