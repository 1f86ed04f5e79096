"""The issue's "Done when" story on the real nesting model, in Chromium, as a new user would.

`nesting_logdir` (tests/conftest.py) is the nesting demo's quick run: a
character-level Keras LSTM trained on bracket strings, logged with a `depth`
annotation track for the untrained model (step 0) and after epochs 1-4. A
real `tensorboard` serves it under both loaders. On the last checkpoint the
test opens the tab and the LSTMVis row, focuses the first string, brushes its
4-deep bracket `(caa` by dragging on the units canvas, runs Match, reads the
depth track under the input and under the hits, scrubs to the untrained model
and back, searches "((((" and asks for the neighbours of a 4-deep step.
Every expectation comes from the logs (states read through TensorBoard's data
provider, depths from the seeded generator) or from the routes, never from
the page it checks. Screenshots land in `test-artifacts/nesting_story_*.png`.
"""

import json
import re
import time
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.support import nesting
from tests.support.browser import TIMEOUT_MS, BrowserEvents, plugin_frame, screenshot
from tests.support.plugin_client import make_client
from tests.support.tensorboard_process import http_get, running_tensorboard

THRESHOLD = 0.3  # the units view's default θ
FIRST, LAST = 0, nesting.QUICK_EPOCHS
SEQUENCE = 0  # the README's first string, whose 4-deep bracket is "(caa"
TOP = 50  # the match view's limit
NEIGHBOURS = 20
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def logged(nesting_logdir):
    """What the logs say, per checkpoint: states in point order, tokens, depths, the 4-deep ranges."""
    client = make_client(nesting_logdir)
    arrays = {step: nesting.checkpoint_arrays(client, step) for step in (FIRST, LAST)}
    lengths = arrays[LAST].info["lengths"]
    depth = nesting.valid_steps(nesting.nesting_data().test_annotations["depth"], lengths).astype(int)
    return arrays, depth, nesting.bracketed_ranges(depth, lengths, 4)


@pytest.fixture(scope="module", params=[(), ("--load_fast=false",)], ids=["default-loader", "python-loader"])
def base(request, nesting_logdir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("nesting_story_cache")
    flags = ("--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache), *request.param)
    with running_tensorboard(nesting_logdir, *flags) as url:
        yield url


def _route(url, route, step, **query):
    params = dict(run=nesting.RUN, tag=nesting.TAG, step=step, **query)
    status, _, body = http_get("%s/data/plugin/rnn_hidden/%s?%s" % (url, route, urllib.parse.urlencode(params)))
    assert status == 200, body
    return json.loads(body)


def _selected_units(states, start, end, threshold=THRESHOLD):
    """LSTMVis' rule in NumPy on one sequence's [T, H] states: on (>= θ) inside
    [start, end) and off at the step before it (off_before 1, off_after 0)."""
    window = states[max(0, start - 1):end] >= threshold
    signature = np.arange(max(0, start - 1), end) >= start
    return np.flatnonzero((window == signature[:, None]).all(axis=0)).tolist()


def _brush_by_drag(frame, page, start, end):
    """Drags along the units canvas from step `start` to step `end - 1`, low in the plot (away from θ)."""
    root = frame.locator("#units-root")
    canvas = frame.locator("#units-canvas")
    canvas.scroll_into_view_if_needed()
    cell = float(root.get_attribute("data-cell"))
    left = float(root.get_attribute("data-label-width"))
    y = canvas.bounding_box()["y"] + float(root.get_attribute("data-plot-height")) - 10
    x0 = canvas.bounding_box()["x"] + left
    page.mouse.move(x0 + (start + 0.5) * cell, y)
    page.mouse.down()
    page.mouse.move(x0 + (start + 1.0) * cell, y, steps=3)
    page.mouse.move(x0 + (end - 0.5) * cell, y, steps=5)
    page.mouse.up()


def _hits(frame, selector):
    return [tuple(h) for h in frame.locator(selector).evaluate_all(
        "items => items.map(e => [+e.dataset.sequence, +e.dataset.start, +e.dataset.end])")]


def _points(ranges, offsets):
    """The points covered by (sequence, start, end) ranges."""
    return sorted({int(offsets[i] + t) for i, s, e in ranges for t in range(s, e)})


# The lit canvas' painted pixels, when it is drawn above the trajectories' canvas (else -1).
LIT_ABOVE_TRAILS = """area => {
  const canvases = [...area.querySelectorAll('canvas')].map(c => c.id);
  if (canvases.indexOf('projection-lit-points') < canvases.indexOf('projection-trails')) return -1;
  const lit = area.querySelector('#projection-lit-points');
  const pixels = lit.getContext('2d').getImageData(0, 0, lit.width, lit.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  return painted;
}"""


def _assert_in_column(frame, *selectors):
    """Each element lies inside the centre column as shown, the column not scrolled."""
    column = frame.locator(".column-centre")
    assert column.evaluate("c => c.scrollTop") == 0
    box = column.bounding_box()
    for selector in selectors:
        inner = frame.locator(selector).bounding_box()
        assert box["y"] <= inner["y"] and inner["y"] + inner["height"] <= box["y"] + box["height"], (selector, inner, box)


def _quality_series(matches, total):
    """The quality chart's {step: quality} once every checkpoint is in."""
    expect(matches).to_have_attribute("data-total", str(total))
    deadline = time.time() + 2 * TIMEOUT_MS / 1000  # a route per checkpoint, each read cold
    series = []
    while time.time() < deadline:
        series = json.loads(matches.get_attribute("data-quality") or "[]")
        if len(series) == total:
            return {int(s): q for s, q in series}
        matches.page.wait_for_timeout(100)
    raise AssertionError("the quality chart did not fill: %s" % series)


def test_nesting_story(browser, base, logged, request):
    url, loader = base, request.node.callspec.id
    arrays, depth, deepest = logged
    trained = arrays[LAST]
    lengths = trained.info["lengths"]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    shot = lambda target, stage: screenshot(target, "nesting_story_%s_%s.png" % (stage, loader))  # noqa: E731

    page = browser.new_page(viewport={"width": 1280, "height": 1024})
    events = BrowserEvents(page)
    page.goto(url + "/#rnn_hidden")
    frame = plugin_frame(page)
    expect(frame.locator("#run-select")).to_have_value(nesting.RUN)
    expect(frame.locator("#step-slider")).to_have_value(str(LAST))
    # The default projection: drawn at once (provisional) while the final layout is computed.
    expect(frame.locator("#projection-area")).to_have_attribute("data-state", re.compile("^(provisional|ready)$"))
    shot(page, "0_opened")

    # 1. Focus the first string, open the LSTMVis row, brush its 4-deep "(caa" by dragging.
    frame.locator("#sequence-table tbody tr[data-index='%d']" % SEQUENCE).click()
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % SEQUENCE)
    # A language model logs no labels: the caption names the prediction only, no "true —".
    expect(frame.locator("#input-caption")).to_contain_text("at its last step")
    expect(frame.locator("#input-caption")).not_to_contain_text("true")
    frame.locator("#lstmvis-toggle").click()
    expect(frame.locator("#units-panel")).to_be_visible()
    root = frame.locator("#units-root")
    expect(root).to_have_attribute("data-sequence", str(SEQUENCE))
    _, start, end = next(r for r in deepest if r[0] == SEQUENCE and r[2] - r[1] >= 3)
    assert "".join(trained.tokens[offsets[SEQUENCE] + start:offsets[SEQUENCE] + end]) == "(caa"
    states = trained.states[offsets[SEQUENCE]:offsets[SEQUENCE + 1]]
    expected = _selected_units(states, start, end)
    served = _route(url, "units", LAST, sequence=SEQUENCE, start=start, end=end, threshold=THRESHOLD)
    assert served["units"] == expected and expected, (served, expected)
    _brush_by_drag(frame, page, start, end)
    expect(root).to_have_attribute("data-brush", "%d:%d:%d" % (SEQUENCE, start, end))
    expect(root).to_have_attribute("data-units", ",".join(map(str, expected)))
    on = (states[:, expected] >= THRESHOLD).sum(axis=1)
    expect(root).to_have_attribute("data-shading", ",".join(map(str, on)))
    shot(frame.locator("#units-panel"), "1_units")

    # 2. Match: the top hits are exactly 4-deep ranges, and their steps are lit.
    frame.locator("#matches-run").click()
    matches = frame.locator("#matches-root")
    expect(matches).to_have_attribute("data-status", "done")
    expect(matches).to_have_attribute("data-step", str(LAST))
    answer = _route(url, "matches", LAST, units=",".join(map(str, expected)), threshold=THRESHOLD, limit=TOP)
    listed = _hits(frame, "#matches-list .hit")
    assert listed == [(m["sequence"], m["start"], m["end"]) for m in answer["matches"]]
    four_deep = sum(hit in set(deepest) for hit in listed)
    assert len(listed) == TOP and four_deep >= 40, (four_deep, listed)
    lit = _points(listed, offsets)
    expect(frame.locator("#projection-area")).to_have_attribute("data-lit", str(len(lit)))
    expect(frame.locator("#projection-lit")).to_contain_text("%d match steps lit" % len(lit))
    # No true classes logged (a language model): the head line leaves classes out, and counts units in words.
    head = frame.locator("#matches-list .hit .hit-head").first
    expect(head).to_contain_text(re.compile(r"\d+ of %d units? on" % len(expected)))
    expect(head).not_to_contain_text("true")
    expect(head).not_to_contain_text("predicted")
    # The hit's rows are named at their left: the query's units, then each track.
    expect(frame.locator("#matches-list .hit").first.locator(".hit-row-label")).to_have_text("units")
    expect(frame.locator("#matches-list .hit").first.locator(".annotation-name")).to_have_text(["depth"])
    # The lit steps are drawn above the focused sequence's trajectory, and the plot, its lit line
    # and legend fit the centre column with the row open, unscrolled.
    assert frame.locator("#projection-area").evaluate(LIT_ABOVE_TRAILS) > 0
    _assert_in_column(frame, "#projection-lit", "#projection-legend")
    shot(page, "2_matches")
    shot(page, "2_matches_projection")
    shot(frame.locator("#matches-panel"), "2_matches_panel")

    # 3. The depth track under the input view and under each hit says what the generator made.
    # The numeric track's scale beside its tick: the ramp from its least to its largest value.
    scale = frame.locator("#input-tracks .annotation-scale[data-track='depth']")
    expect(scale).to_have_text("%d%d" % (depth.min(), depth.max()))
    cells = frame.locator("#input-tokens .annotation-cell[data-track='depth']")
    expect(cells).to_have_count(lengths[SEQUENCE])
    generated = depth[offsets[SEQUENCE]:offsets[SEQUENCE + 1]].tolist()
    assert cells.evaluate_all("cs => cs.map(c => +c.dataset.value)") == generated
    units_track = frame.locator("#units-panel .annotation-row[data-track='depth'] .annotation-cell")
    assert units_track.evaluate_all("cs => cs.map(c => +c.dataset.value)") == generated
    for k in range(3):
        hit = frame.locator("#matches-list .hit").nth(k)
        i, s, e = listed[k]
        first = int(hit.locator(".hit-tokens span").first.get_attribute("title").split()[-1])
        row = hit.locator(".annotation-row[data-track='depth'] .annotation-cell")
        values = row.evaluate_all("cs => cs.map(c => +c.dataset.value)")
        assert len(values) == hit.locator(".hit-tokens span").count() > e - s
        assert values == depth[offsets[i] + first:offsets[i] + first + len(values)].tolist()
        assert values[s - first:e - first] == [4] * (e - s)
    shot(frame.locator("#input-panel"), "3_input_depth")

    # 4. Scrub to the untrained model: the result says it is step LAST's until re-run; then nothing.
    frame.locator("#step-slider").fill(str(FIRST))
    expect(matches).to_have_attribute("data-stale", "true")
    expect(frame.locator("#matches-status")).to_contain_text(
        "matches of step %d (step %d shown)" % (LAST, FIRST), ignore_case=True)
    rerun = frame.locator("#matches-rerun")
    expect(rerun).to_have_text("Run on step %d" % FIRST)
    expect(frame.locator("#projection-area")).to_have_attribute("data-checkpoint-step", str(FIRST))
    expect(rerun).to_be_enabled()  # (disabled while step FIRST's data loads: it would run on step LAST's)
    expect(head).not_to_contain_text("predicted")  # step FIRST's prediction is not the hit's
    shot(page, "4_step0_stale")
    rerun.click()
    expect(matches).to_have_attribute("data-step", str(FIRST))
    expect(matches).to_have_attribute("data-status", "done")
    expect(matches).to_have_attribute("data-stale", "false")
    expect(matches).to_have_attribute("data-hits", "0")
    expect(frame.locator("#matches-status")).to_contain_text("quality 0.00")
    quality = _quality_series(matches, LAST - FIRST + 1)
    for step, value in quality.items():
        assert value == pytest.approx(_route(url, "matches", step, units=",".join(map(str, expected)),
                                             threshold=THRESHOLD, limit=TOP)["quality"])
    assert quality[FIRST] == 0 and quality[LAST] >= 0.9, quality
    shot(page, "4_step0_rerun")
    shot(frame.locator("#matches-panel"), "4_quality_chart")

    # 5. Back on the last checkpoint: search "((((" and the neighbours of a 4-deep step.
    frame.locator("#step-slider").fill(str(LAST))
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % SEQUENCE)
    text = ["".join(trained.tokens[offsets[i]:offsets[i + 1]]) for i in range(len(lengths))]
    openings = [(i, t, t + 4) for i, row in enumerate(text) for t in range(len(row) - 3) if row[t:t + 4] == "(((("]
    assert openings and all(depth[offsets[i] + s:offsets[i] + e].tolist() == [1, 2, 3, 4] for i, s, e in openings)
    frame.locator("#search-mode").select_option("exact")
    frame.locator("#search-query").fill("((((")
    search = frame.locator("#search-status")
    expect(search).to_have_attribute("data-total", str(len(openings)))
    expect(frame.locator("#search-hits li")).to_have_count(len(openings))
    assert _hits(frame, "#search-hits li") == openings
    expect(search).to_have_attribute("data-lit-count", str(len(_points(openings, offsets))))
    expect(frame.locator("#projection-area")).to_have_attribute("data-lit", str(len(_points(openings, offsets))))
    shot(page, "5_search")
    frame.locator("#projection-lit").scroll_into_view_if_needed()
    shot(page, "5_search_projection")

    inside = offsets[SEQUENCE] + (start + end) // 2
    assert depth[inside] == 4
    frame.locator("#neighbors-k").fill(str(NEIGHBOURS))
    frame.locator("#neighbors-k").dispatch_event("change")
    frame.locator("#neighbors-follow").check()
    frame.locator("#input-tokens .token[data-step='%d']" % (inside - offsets[SEQUENCE])).hover()
    expect(frame.locator("#neighbors-query")).to_have_attribute("data-point", str(inside))
    expect(frame.locator("#neighbors-list li")).to_have_count(NEIGHBOURS)
    frame.locator("#neighbors-pin").click()
    neighbours = frame.locator("#neighbors-list li").evaluate_all("ls => ls.map(l => +l.dataset.point)")
    answer = _route(url, "neighbors", LAST, point=inside, k=NEIGHBOURS)
    assert neighbours == [n["point"] for n in answer["neighbors"]]
    share = float(np.mean(depth[neighbours] == 4))
    print("nesting story (%s): %d units %s; %d of the top %d hits exactly 4-deep; quality %s; "
          "%d '((((' hits; %.0f%% of %d neighbours of a 4-deep step are 4-deep"
          % (loader, len(expected), expected, four_deep, len(listed), quality, len(openings),
             100 * share, NEIGHBOURS))
    assert share > 0.5, (share, depth[neighbours].tolist())
    expect(frame.locator("#neighbors-query")).to_have_attribute("data-lit-count", str(NEIGHBOURS + 1))
    shot(page, "5_neighbours")

    # 6. Nothing went wrong on the way.
    events.assert_clean()
    page.close()
