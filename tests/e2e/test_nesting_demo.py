"""The nesting demo (LSTMVis' first case) trains a real LSTM whose units come to track depth.

One quick run of demo/nesting.py per session (the `nesting_logdir` fixture),
read back through TensorBoard's real data provider and, for the annotation
bytes, a real `tensorboard` process under both loaders.
"""

import json

import numpy as np
import pytest

from tests.support import nesting
from tests.support.plugin_client import PREFIX, get_json, make_client
from tests.support.tensorboard_process import http_get, running_tensorboard

STEPS = list(range(nesting.QUICK_EPOCHS + 1))
LOADERS = [  # TensorBoard's default (its Rust data server where installed) and its Python loader
    pytest.param((), id="default-loader"),
    pytest.param(("--load_fast=false",), id="python-loader"),
]


@pytest.fixture(scope="module")
def client(nesting_logdir):
    return make_client(nesting_logdir)


@pytest.fixture(scope="module")
def probe():
    """The generated probe strings the demo logged, as characters and depths."""
    return nesting.nesting_data()


def query(step, extra=""):
    return "run=%s&tag=%s&step=%d%s" % (nesting.RUN, nesting.TAG, step, extra)


def expected_depth(probe, lengths):
    return nesting.valid_steps(probe.test_annotations["depth"], lengths)


def test_every_epoch_is_logged_from_the_untrained_model_on(client):
    listed = get_json(client, PREFIX + "/tags")
    assert listed[nesting.RUN][nesting.TAG]["steps"] == STEPS


@pytest.mark.parametrize("step", STEPS)
def test_tokens_are_the_generated_strings_and_depth_is_annotated(client, probe, step):
    arrays = nesting.checkpoint_arrays(client, step)
    lengths = arrays.info["lengths"]
    strings = ["".join(probe.vocabulary[i] for i in row if i) for row in probe.x_test]
    assert lengths == [len(s) for s in strings]
    assert "".join(arrays.tokens) == "".join(strings)
    assert arrays.info["class_names"] == ["(", ")", "a", "b", "c", "d", "<end>"]

    depth = expected_depth(probe, lengths)
    assert arrays.info["annotations"] == [
        {"name": "depth", "kind": "numeric", "min": 0.0, "max": float(depth.max())}
    ]
    response = client.get(PREFIX + "/annotations?" + query(step, "&name=depth"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Annotation-Kind"] == "numeric"
    served = np.frombuffer(response.get_data(), dtype="<f4")
    np.testing.assert_array_equal(served, depth.astype(np.float32))
    # The depth is what the brackets say: +1 at "(", -1 at ")", from 0 in every string.
    change = np.array([{"(": 1, ")": -1}.get(t, 0) for t in arrays.tokens])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    np.testing.assert_array_equal(
        served, np.cumsum(change) - np.repeat(np.cumsum(change)[starts] - change[starts], lengths))
    assert depth.max() == 4 and (np.bincount(depth.astype(int)) > 0.1 * len(depth)).all()


def test_trained_checkpoint_has_depth_units_the_untrained_one_lacks(nesting_logdir):
    """Some unit is on (>= 0.3) nearly exactly while depth >= d, only after training."""
    untrained = nesting.logged_depth_units(nesting_logdir, STEPS[0])
    trained = nesting.logged_depth_units(nesting_logdir, STEPS[-1])
    assert max(u.balanced_accuracy for u in untrained) < 0.7, untrained
    best = max(trained, key=lambda u: u.balanced_accuracy)
    assert best.balanced_accuracy >= 0.9 and best.agreement >= 0.9, trained


def test_lstmvis_story_brush_a_depth_4_range_match_and_scrub(client, probe):
    """/units of a 4-deep bracketed range, then /matches of those units, trained and untrained."""
    lengths = get_json(client, PREFIX + "/sequences?" + query(STEPS[-1]))["lengths"]
    deepest = nesting.bracketed_ranges(expected_depth(probe, lengths), lengths, 4)
    sequence, start, end = next(r for r in deepest if r[2] - r[1] >= 3)
    brush = "&sequence=%d&start=%d&end=%d" % (sequence, start, end)

    units = get_json(client, PREFIX + "/units?" + query(STEPS[-1], brush))["units"]
    assert units, "no unit is on exactly over the brushed range %s" % (deepest[0],)
    found = get_json(client, PREFIX + "/matches?" + query(
        STEPS[-1], "&units=%s&limit=1000" % ",".join(map(str, units))))["matches"]
    hits = [(m["sequence"], m["start"], m["end"]) for m in found]
    assert (sequence, start, end) in hits
    top = hits[:50]  # the top hits are the other 4-deep ranges
    assert len(top) == 50 and sum(h in set(deepest) for h in top) >= 40, top

    # Scrubbed back to the untrained model, the same brush selects nothing and the
    # same units are on nowhere: they appeared during training.
    assert get_json(client, PREFIX + "/units?" + query(STEPS[0], brush))["units"] == []
    before = get_json(client, PREFIX + "/matches?" + query(
        STEPS[0], "&units=%s&limit=50" % ",".join(map(str, units))))
    assert before["matches"] == [] and before["quality"] == 0


def test_trained_predictions_follow_the_grammar(client, probe):
    """The per-step probabilities are the next character: no ")" at depth 0, no end inside."""
    for step, bound in ((STEPS[0], None), (STEPS[-1], 0.05)):
        info = get_json(client, PREFIX + "/sequences?" + query(step))
        probabilities = np.frombuffer(
            client.get(PREFIX + "/probabilities?" + query(step)).get_data(), dtype="<f4"
        ).reshape(info["num_steps"], len(info["class_names"]))
        depth = expected_depth(probe, info["lengths"])
        close = probabilities[depth == 0, info["class_names"].index(")")].mean()
        end = probabilities[depth > 0, info["class_names"].index("<end>")].mean()
        if bound is None:  # untrained: about uniform over the 7 classes
            assert close > 0.1 and end > 0.1
        else:
            assert close < bound and end < bound


@pytest.mark.parametrize("loader_flags", LOADERS)
def test_real_tensorboard_serves_the_depth_track(nesting_logdir, probe, loader_flags):
    with running_tensorboard(nesting_logdir, *loader_flags) as base:
        url = "%s%s/%%s?%s" % (base, PREFIX, query(STEPS[-1]))
        status, _, body = http_get(url % "sequences")
        assert status == 200, body
        lengths = json.loads(body)["lengths"]
        status, headers, body = http_get(url % "annotations" + "&name=depth")
        assert status == 200, body
        assert headers["X-Annotation-Kind"] == "numeric"
        np.testing.assert_array_equal(np.frombuffer(body, dtype="<f4"),
                                      expected_depth(probe, lengths).astype(np.float32))
