"""analysis/units.py against plain loops written here: LSTMVis' selection and match search
on random and planted data, and the ranking rule as properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tb_rnn_hidden.analysis import derived
from tb_rnn_hidden.analysis import units as units_lib
from tests.support.checkpoints import valid_steps
from tests.support.planted_units import planted_brackets


# -- the reference: LSTMVis' rules, one step and one unit at a time ------------------------

def reference_on(states, threshold):
    return [[float(value) >= threshold for value in row] for row in states]


def reference_selection(sequence_states, threshold, start, end, off_before, off_after):
    length, num_units = sequence_states.shape
    off_before, off_after = min(off_before, start), min(off_after, length - end)
    on = reference_on(sequence_states, threshold)
    return [
        unit for unit in range(num_units)
        if all(on[t][unit] == (start <= t < end) for t in range(start - off_before, end + off_after))
    ]


def reference_matches(states, lengths, query, threshold, *, min_length=2, before=True,
                      after=False, limit=50):
    """[(point, length, intersection, union, k, constraint)] best first, and every candidate
    [(point, length, intersection, union, k, constraint)] in candidate order.

    LSTMVis' rules, without its cap on candidates (its best 10,000 by constraint score).
    """
    on = reference_on(states, threshold)
    query = set(query)
    counts = [sum(row[u] for u in query) for row in on]
    sequences = [(int(o), int(n)) for o, n in zip(derived.offsets(lengths)[:-1], lengths)]
    found = {}  # (start, end) -> (k, constraint), first (highest) k kept
    for k in range(len(query), 0, -1):
        for offset, length in sequences:
            t = 0
            while t < length:
                if counts[offset + t] < k:
                    t += 1
                    continue
                s = t
                while t < length and counts[offset + t] >= k:
                    t += 1
                if t - s >= min_length and (offset + s, offset + t) not in found:
                    left = counts[offset + s - 1] if s > 0 else 0
                    right = counts[offset + t] if t < length else 0
                    if before or after:
                        constraint = k - (left if before else 0) - (right if after else 0)
                    else:
                        constraint = 0
                    found[(offset + s, offset + t)] = (k, constraint)
    candidates = sorted(found.items(), key=lambda c: (-c[1][1], -c[1][0], c[0][0]))
    first_points = {o for o, n in sequences}
    last_points = {o + n - 1 for o, n in sequences}
    scored = []
    for order, ((start, end), (k, constraint)) in enumerate(candidates):
        active = set()
        for unit in range(states.shape[1]):
            ok = all(on[t][unit] for t in range(start, end))
            if before and start not in first_points:
                ok = ok and not on[start - 1][unit]
            if after and end - 1 not in last_points:
                ok = ok and not on[end][unit]
            if ok:
                active.add(unit)
        row = (start, end - start, len(active & query), len(active | query), k, constraint)
        scored.append(((-row[2], row[3], -row[1], order), row))
    every = [row for _, row in scored]
    scored.sort()
    return [row for _, row in scored[:limit]], every


def as_rows(matches):
    return list(zip(*(a.tolist() for a in (matches.point, matches.length, matches.intersection,
                                            matches.union, matches.k, matches.constraint))))


def search(states, lengths, query, threshold, **options):
    packed = units_lib.pack_on(states, threshold)
    return units_lib.find_matches(packed, derived.offsets(lengths), query, **options)


def random_checkpoint(seed, num_sequences=7, max_length=30, num_units=12, dtype=np.float16):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_length + 1, size=num_sequences)
    states = np.tanh(rng.standard_normal((int(lengths.sum()), num_units)) + 0.3).astype(dtype)
    return states, lengths


# -- on/off ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("threshold", [0.3, -0.3, 0.0, -0.0, 1e-8, -1e-8, 0.2998046875,
                                       0.30000001, 1.0, 70000.0, -70000.0, 5e-324])
def test_on_steps_compares_exactly_whatever_the_dtype(dtype, threshold):
    rng = np.random.default_rng(1)
    with np.errstate(over="ignore"):  # 70000 is beyond float16
        near = np.nextafter(np.array([threshold] * 8, dtype=dtype),
                            np.array([np.inf, -np.inf] * 4, dtype=dtype))
        values = np.concatenate([
            near, np.array([threshold, 0.0, -0.0, 65504, -65504], dtype=dtype),
            np.tanh(rng.standard_normal(200)).astype(dtype),
        ])
    values = values[np.isfinite(values)].reshape(-1, 1)
    expected = np.array(reference_on(values, threshold))
    np.testing.assert_array_equal(units_lib.on_steps(values, threshold), expected)


def test_packed_bits_are_the_on_matrix_across_chunks(monkeypatch):
    monkeypatch.setattr(units_lib, "_PACK_CHUNK_ROWS", 7)
    states, _ = random_checkpoint(2, num_units=130)
    packed = units_lib.pack_on(states, 0.3)
    assert packed.shape == (len(states) + 1, 3) and packed.dtype == np.dtype("<u8")
    bits = np.unpackbits(packed.view(np.uint8), axis=1, bitorder="little")
    np.testing.assert_array_equal(bits[:-1, :130], reference_on(states, 0.3))
    assert not bits[:-1, 130:].any() and not bits[-1].any()


# -- selection ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_selection_is_the_references(seed):
    rng = np.random.default_rng(seed)
    states, lengths = random_checkpoint(seed, num_units=40)
    offsets = derived.offsets(lengths)
    for _ in range(30):
        i = int(rng.integers(len(lengths)))
        length = int(lengths[i])
        start = int(rng.integers(length))
        end = int(rng.integers(start + 1, length + 1))
        off_before, off_after = (int(v) for v in rng.integers(0, 4, size=2))
        threshold = float(rng.choice([0.3, 0.0, 0.6, -0.2]))
        sequence = states[offsets[i] : offsets[i + 1]]
        before, after = units_lib.clip_off_extents(length, start, end, off_before, off_after)
        assert before == min(off_before, start) and after == min(off_after, length - end)
        window = sequence[start - before : end + after]
        got = units_lib.selected_units(window, threshold, before, after)
        assert got.tolist() == reference_selection(sequence, threshold, start, end,
                                                   off_before, off_after)


# -- match search ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("before,after", [(True, False), (False, False), (False, True),
                                          (True, True)])
def test_matches_are_the_references_on_random_data(seed, before, after):
    rng = np.random.default_rng(100 + seed)
    dtype = np.float16 if seed % 2 else np.float32
    states, lengths = random_checkpoint(seed, num_units=16, dtype=dtype)
    query = sorted(rng.choice(16, size=int(rng.integers(1, 6)), replace=False).tolist())
    min_length = int(rng.integers(1, 4))
    options = dict(min_length=min_length, before=before, after=after, limit=10_000)
    expected, candidates = reference_matches(states, lengths, query, 0.3, **options)
    options = dict(min_length=min_length, off_before=before, off_after=after, limit=10_000)
    got = search(states, lengths, query, 0.3, **options)
    assert got.candidates == len(candidates) > 0
    assert as_rows(got) == expected


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_the_descent_stops_only_where_no_lower_level_can_reach_the_top(limit):
    states, lengths = random_checkpoint(11, num_sequences=20, num_units=10)
    expected, candidates = reference_matches(states, lengths, [1, 4, 6, 8], 0.3, limit=limit)
    got = search(states, lengths, [1, 4, 6, 8], 0.3, limit=limit)
    assert as_rows(got) == expected
    assert limit <= got.candidates < len(candidates)  # stopped before k = 1
    lowest_level = sorted((row[4] for row in candidates), reverse=True)[got.candidates - 1]
    unscored = [row for row in candidates if row[4] < lowest_level]
    assert len(unscored) == len(candidates) - got.candidates
    assert max(row[2] for row in unscored) < min(got.intersection)


def test_the_hypothesis_from_one_bracketed_range_finds_the_others_first():
    padded, lengths, planted = planted_brackets(3)
    states = valid_steps(padded, lengths)
    offsets = derived.offsets(lengths)
    ranges = [(int(offsets[i] + start), int(offsets[i] + end)) for i, start, end in planted]
    longest = max(ranges, key=lambda r: r[1] - r[0])
    i = int(np.searchsorted(offsets, longest[0], side="right") - 1)
    start, end = longest[0] - offsets[i], longest[1] - offsets[i]
    before, after = units_lib.clip_off_extents(int(lengths[i]), start, end, 1, 1)
    window = states[longest[0] - before : longest[1] + after]
    selected = units_lib.selected_units(window, 0.3, before, after)
    assert selected.tolist() == [3, 7, 11]
    got = search(states, lengths, selected, 0.3, limit=len(ranges) + 20)
    top = sorted(zip(got.point[: len(ranges)].tolist(),
                     (got.point + got.length)[: len(ranges)].tolist()))
    assert top == sorted(r for r in ranges if r[1] - r[0] >= 2)
    assert (got.intersection[: len(ranges)] == 3).all() and (got.k[: len(ranges)] == 3).all()
    assert (got.intersection[len(ranges):] < 3).all()
    assert as_rows(got) == reference_matches(states, lengths, [3, 7, 11], 0.3,
                                             limit=len(ranges) + 20)[0]


def test_an_empty_checkpoint_or_no_runs_find_nothing():
    states = np.full((5, 4), -1.0, dtype=np.float16)
    got = search(states, np.array([2, 3]), [0, 2], 0.3)
    assert got.candidates == 0 and len(got.point) == 0
    got = search(np.zeros((0, 4), np.float16), np.array([], dtype=np.int64), [1], 0.3)
    assert got.candidates == 0 and len(got.point) == 0


# -- properties -----------------------------------------------------------------------------

@st.composite
def checkpoints_and_queries(draw):
    num_units = draw(st.integers(1, 70))
    lengths = np.array(draw(st.lists(st.integers(1, 25), min_size=1, max_size=8)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    bias = draw(st.floats(-1.0, 1.5))
    states = np.tanh(rng.standard_normal((int(lengths.sum()), num_units)) + bias)
    query = draw(st.lists(st.integers(0, num_units - 1), min_size=1, max_size=6, unique=True))
    options = dict(min_length=draw(st.integers(1, 3)), off_before=draw(st.booleans()),
                   off_after=draw(st.booleans()), limit=draw(st.integers(1, 200)))
    return states.astype(np.float16), lengths, query, options


@settings(max_examples=150, deadline=None)
@given(checkpoints_and_queries())
def test_ranking_follows_the_rule_and_matches_stay_in_their_sequence(case):
    states, lengths, query, options = case
    got = search(states, lengths, query, 0.3, **options)
    offsets = derived.offsets(lengths)
    keys = list(zip((-got.intersection).tolist(), got.union.tolist(), (-got.length).tolist()))
    assert keys == sorted(keys)
    assert len(got.point) == min(options["limit"], got.candidates)
    sequence = np.searchsorted(offsets, got.point, side="right") - 1
    assert (got.point + got.length <= offsets[sequence + 1]).all()
    assert (got.length >= options["min_length"]).all()
    assert ((got.intersection >= 0) & (got.intersection <= len(query))).all()
    assert (got.union >= len(query)).all() and (got.k >= 1).all() and (got.k <= len(query)).all()
    on = np.array(reference_on(states, 0.3))
    for point, length, k in zip(got.point, got.length, got.k):
        assert (on[point : point + length][:, query].sum(axis=1) >= k).all()


@settings(max_examples=40, deadline=None)
@given(checkpoints_and_queries())
def test_matches_are_the_references_for_any_input(case):
    states, lengths, query, options = case
    got = search(states, lengths, query, 0.3, **options)
    expected, candidates = reference_matches(
        states, lengths, query, 0.3, min_length=options["min_length"],
        before=options["off_before"], after=options["off_after"], limit=options["limit"])
    assert got.candidates <= len(candidates)
    assert as_rows(got) == expected
