"""GET /units and GET /matches route by route, through TensorBoard's real data provider
and WSGI app over event files written by our writer: the answers, and every 4xx."""

import json

import numpy as np
import pytest
from tensorboard import context

from tb_rnn_hidden import writer
from tb_rnn_hidden.analysis import derived
from tb_rnn_hidden.analysis import units as units_lib
from tb_rnn_hidden.server import reader
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.planted_units import planted_brackets
from tests.support.plugin_client import PREFIX, make_client, make_data_provider

H = 48
PLANTED = [3, 7, 11]
ADDRESS = "run=r&tag=lstm&step=2"


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A planted checkpoint at step 2 (float16) and a random one at step 5 (float32)."""
    logdir = str(tmp_path_factory.mktemp("logs"))
    states, lengths, ranges = planted_brackets(4, num_sequences=30, num_units=H, planted=PLANTED)
    random = make_checkpoint(seed=9, n=12, t=40, h=H, c=3, tokens=False)
    with writer.HiddenStateWriter(logdir + "/r") as w:
        w.add("lstm", states, step=2, lengths=lengths, precision="float16")
        w.add("lstm", random["states"], step=5, lengths=random["lengths"], precision="float32")
    return logdir, {2: (valid_steps(states, lengths), lengths, ranges),
                    5: (valid_steps(random["states"], random["lengths"]), random["lengths"], None)}


@pytest.fixture(scope="module")
def client(logged):
    return make_client(logged[0])


def answer(client, route, query, expected_code=200):
    response = client.get(PREFIX + route + "?" + query)
    assert response.status_code == expected_code, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.get_data())


def reference_selection(states, lengths, sequence, start, end, threshold, off_before, off_after):
    """The units whose (value >= threshold) over the clipped window equals the signature."""
    offset = int(derived.offsets(lengths)[sequence])
    off_before = min(off_before, start)
    off_after = min(off_after, int(lengths[sequence]) - end)
    selected = []
    for unit in range(states.shape[1]):
        pattern = [float(states[offset + t, unit]) >= threshold
                   for t in range(start - off_before, end + off_after)]
        signature = [start <= t < end for t in range(start - off_before, end + off_after)]
        if pattern == signature:
            selected.append(unit)
    return selected, off_before, off_after


# -- /units ---------------------------------------------------------------------------------

def test_units_of_a_bracketed_range_are_the_planted_ones(client, logged):
    _, lengths, ranges = logged[1][2]
    sequence, start, end = max(ranges, key=lambda r: r[2] - r[1])
    body = answer(client, "/units", "%s&sequence=%d&start=%d&end=%d&off_after=1"
                  % (ADDRESS, sequence, start, end))
    assert body == dict(units=PLANTED, sequence=sequence, start=start, end=end, threshold=0.3,
                        off_before=min(1, start), off_after=min(1, int(lengths[sequence]) - end))


@pytest.mark.parametrize("step", [2, 5])
def test_units_are_the_references_with_clipped_extents(client, logged, step):
    states, lengths, _ = logged[1][step]
    rng = np.random.default_rng(step)
    for _ in range(12):
        sequence = int(rng.integers(len(lengths)))
        length = int(lengths[sequence])
        start = int(rng.integers(length))
        end = int(rng.integers(start + 1, length + 1))
        off_before, off_after = (int(v) for v in rng.integers(0, 5, size=2))
        threshold = float(rng.choice([0.3, 0.0, -0.25, 0.7]))
        body = answer(client, "/units",
                      "run=r&tag=lstm&step=%d&sequence=%d&start=%d&end=%d&threshold=%r"
                      "&off_before=%d&off_after=%d" % (step, sequence, start, end, threshold,
                                                       off_before, off_after))
        expected, before, after = reference_selection(states, lengths, sequence, start, end,
                                                      threshold, off_before, off_after)
        assert body["units"] == expected
        assert (body["off_before"], body["off_after"]) == (before, after)
        assert body["threshold"] == threshold


def test_units_default_to_lstmvis_extents_and_threshold(client, logged):
    states, lengths, _ = logged[1][5]
    body = answer(client, "/units", "run=r&tag=lstm&step=5&sequence=0&start=3&end=6")
    assert (body["threshold"], body["off_before"], body["off_after"]) == (0.3, 1, 0)
    assert body["units"] == reference_selection(states, lengths, 0, 3, 6, 0.3, 1, 0)[0]


# -- /matches -------------------------------------------------------------------------------

def test_matches_of_the_planted_units_are_the_bracketed_ranges_first(client, logged):
    states, lengths, ranges = logged[1][2]
    long_enough = sorted(r for r in ranges if r[2] - r[1] >= 2)
    body = answer(client, "/matches", "%s&units=11,3,7&limit=1000" % ADDRESS)
    assert body["units"] == PLANTED and body["threshold"] == 0.3
    assert body["steps"] == int(lengths.sum())
    top = body["matches"][: len(long_enough)]
    assert sorted((m["sequence"], m["start"], m["end"]) for m in top) == long_enough
    assert all(m["intersection"] == 3 and m["k"] == 3 for m in top)
    assert all(m["intersection"] < 3 for m in body["matches"][len(long_enough):])
    offsets = derived.offsets(lengths)
    for m in body["matches"]:
        assert m["point"] == offsets[m["sequence"]] + m["start"]
        assert m["length"] == m["end"] - m["start"] >= 2
        assert m["end"] <= lengths[m["sequence"]]
    quality = np.mean([m["intersection"] for m in body["matches"]]) / 3
    assert body["quality"] == pytest.approx(quality)
    best = answer(client, "/matches", "%s&units=3,7,11&limit=5" % ADDRESS)
    assert best["quality"] == 1.0 and best["matches"] == body["matches"][:5]


@pytest.mark.parametrize("options", ["", "&min_length=1&off_before=0&off_after=2",
                                     "&threshold=-0.1&off_before=3&limit=7"])
def test_matches_are_find_matches_over_the_valid_steps(client, logged, options):
    states, lengths, _ = logged[1][5]
    body = answer(client, "/matches", "run=r&tag=lstm&step=5&units=2,30,17,9" + options)
    query = dict(part.split("=") for part in options.split("&")[1:])
    threshold = float(query.get("threshold", 0.3))
    found = units_lib.find_matches(
        units_lib.pack_on(states, threshold), derived.offsets(lengths), [2, 9, 17, 30],
        min_length=int(query.get("min_length", 2)),
        off_before=int(query.get("off_before", 1)) > 0,
        off_after=int(query.get("off_after", 0)) > 0, limit=int(query.get("limit", 50)))
    assert [m["point"] for m in body["matches"]] == found.point.tolist()
    assert [m["union"] for m in body["matches"]] == found.union.tolist()
    assert [m["constraint"] for m in body["matches"]] == found.constraint.tolist()
    assert body["candidates"] == found.candidates and len(body["matches"]) == len(found.point)
    keys = [(-m["intersection"], m["union"], -m["length"]) for m in body["matches"]]
    assert keys == sorted(keys)


def test_the_on_off_matrix_is_computed_once_per_threshold(logged):
    checkpoint_reader = reader.CheckpointReader(make_data_provider(logged[0], {"rnn_hidden": 0}))
    ctx = context.RequestContext()
    first = checkpoint_reader.checkpoint(ctx, "", "r", "lstm", 2)
    again = checkpoint_reader.checkpoint(ctx, "", "r", "lstm", 2)
    assert first.on_units(0.3) is again.on_units(0.3)
    assert first.on_units(0.5) is not first.on_units(0.3)
    np.testing.assert_array_equal(first.on_units(0.5), units_lib.pack_on(logged[1][2][0], 0.5))


# -- errors ---------------------------------------------------------------------------------

UNITS_QUERY = ADDRESS + "&sequence=1&start=2&end=4"
BAD_UNITS = [
    ("run=r&tag=lstm&step=2&start=2&end=4", "missing query parameter 'sequence'"),
    (ADDRESS + "&sequence=1&end=4", "missing query parameter 'start'"),
    (ADDRESS + "&sequence=1&start=2", "missing query parameter 'end'"),
    (ADDRESS + "&sequence=x&start=2&end=4", "'sequence' is 'x'; expected an integer"),
    (ADDRESS + "&sequence=-1&start=2&end=4", "'sequence' is -1; expected an integer in [0, 29]"),
    (ADDRESS + "&sequence=30&start=2&end=4", "'sequence' is 30; expected an integer in [0, 29]"),
    (ADDRESS + "&sequence=1&start=-1&end=4", "'start' is -1; expected an integer in [0, "),
    (ADDRESS + "&sequence=1&start=99&end=100", "'start' is 99; expected an integer in [0, "),
    (ADDRESS + "&sequence=1&start=2&end=2", "'end' is 2; expected an integer in [3, "),
    (ADDRESS + "&sequence=1&start=2&end=1", "'end' is 1; expected an integer in [3, "),
    (ADDRESS + "&sequence=1&start=2&end=99", "'end' is 99; expected an integer in [3, "),
    (UNITS_QUERY + "&threshold=nan", "'threshold' is 'nan'; expected a finite number"),
    (UNITS_QUERY + "&threshold=-inf", "'threshold' is '-inf'; expected a finite number"),
    (UNITS_QUERY + "&threshold=high", "'threshold' is 'high'; expected a finite number"),
    (UNITS_QUERY + "&off_before=-1", "'off_before' is -1; expected an integer in [0, "),
    (UNITS_QUERY + "&off_after=1.5", "'off_after' is '1.5'; expected an integer"),
    (UNITS_QUERY + "&off_after=" + "9" * 40, "expected an integer in [0, 2147483647]"),
]
BAD_MATCHES = [
    (ADDRESS, "missing query parameter 'units'"),
    (ADDRESS + "&units=", "'units' is empty; expected distinct unit indices in [0, 48)"),
    (ADDRESS + "&units=1,,2", "'units' has '', not an integer"),
    (ADDRESS + "&units=a", "'units' has 'a', not an integer"),
    (ADDRESS + "&units=3,48", "'units' has unit 48, out of range; expected distinct unit "
                              "indices in [0, 48)"),
    (ADDRESS + "&units=-1", "'units' has unit -1, out of range"),
    (ADDRESS + "&units=3,7,3,7,1", "'units' has units [3, 7] more than once"),
    (ADDRESS + "&units=3&limit=0", "'limit' is 0; expected an integer in [1, 1000]"),
    (ADDRESS + "&units=3&limit=1001", "'limit' is 1001; expected an integer in [1, 1000]"),
    (ADDRESS + "&units=3&limit=all", "'limit' is 'all'; expected an integer"),
    (ADDRESS + "&units=3&threshold=inf", "'threshold' is 'inf'; expected a finite number"),
    (ADDRESS + "&units=3&min_length=0", "'min_length' is 0; expected an integer in [1, "),
    (ADDRESS + "&units=3&off_before=-2", "'off_before' is -2; expected an integer in [0, "),
    (ADDRESS + "&units=3&off_after=" + "9" * 40, "expected an integer in [0, 2147483647]"),
]


@pytest.mark.parametrize("route,query,message",
                         [("/units",) + case for case in BAD_UNITS]
                         + [("/matches",) + case for case in BAD_MATCHES])
def test_bad_parameters_are_400_naming_the_parameter(client, route, query, message):
    body = answer(client, route, query, expected_code=400)
    assert message in body["error"]


@pytest.mark.parametrize("route,query", [("/units", "sequence=0&start=0&end=2"),
                                         ("/matches", "units=3")])
def test_missing_checkpoints_are_404_and_other_methods_405(client, route, query):
    body = answer(client, route, "run=r&tag=lstm&step=3&" + query, expected_code=404)
    assert "no checkpoint at step 3 (steps: [2, 5])" in body["error"]
    body = answer(client, route, "run=r&tag=gru&step=2&" + query, expected_code=404)
    assert "no hidden states for run 'r', tag 'gru'" in body["error"]
    body = answer(client, route, "run=r&tag=lstm&" + query, expected_code=400)
    assert "missing query parameter 'step'" in body["error"]
    response = client.post(PREFIX + route + "?" + ADDRESS + "&" + query)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
