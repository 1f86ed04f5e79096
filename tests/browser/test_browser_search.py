"""Annotation tracks, token search and nearest neighbours in the tab, in a real browser.

Logs are written with the real logging path (`HiddenStateWriter`, tokens as
strings through the vocabulary, categorical and numeric annotations); the page
is TensorBoard's own UI with the plugin tab, against a real `tensorboard`
under both loaders, driven by the system Chromium. Every expectation is
computed here from the logged arrays (search hits, filter counts, neighbours
and their distances), never read back from the page it checks. Screenshots
land in `test-artifacts/search_*.png`.
"""

import json
import re
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tb_rnn_hidden import writer
from tests.support.browser import TIMEOUT_MS, BrowserEvents, plugin_frame, screenshot
from tests.support.tensorboard_process import http_get, running_tensorboard

N, T, H, C = 14, 10, 6, 3
STEP = 3
HOSTILE = "<img src=x onerror=alert(1)>"
WORDS = ["(", ")", "a", "ab", "abc", "b", HOSTILE]
# Okabe-Ito as ui/colors.ts CLASS_PALETTE; categories take it shifted by 3 (ui/annotation_cells.ts).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
START_HASH = "#rnn_hidden&rh_p_method=pca"
expect.set_options(timeout=TIMEOUT_MS)


def _nesting_depth(tokens):
    """Per step, the bracket depth after the token (never below 0)."""
    depth = np.zeros(tokens.shape, np.float32)
    for i, row in enumerate(tokens):
        level = 0
        for t, token in enumerate(row):
            level = level + 1 if token == "(" else max(0, level - 1) if token == ")" else level
            depth[i, t] = level
    return depth


def _checkpoint():
    rng = np.random.default_rng(5)
    tokens = rng.choice(np.array(WORDS, dtype=object), size=(N, T))
    lengths = rng.integers(4, T + 1, size=N)
    lengths[0] = T
    logits = rng.standard_normal((N, T, C)).astype(np.float32)
    pos = np.where(tokens == "(", "OPEN", np.where(tokens == ")", "CLOSE",
                   np.where(tokens == HOSTILE, HOSTILE, "WORD"))).astype(object)
    return dict(
        states=np.tanh(rng.standard_normal((N, T, H))).astype(np.float32),
        probabilities=np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True),
        tokens=tokens,
        lengths=lengths,
        labels=rng.integers(0, C, size=N),
        class_names=["neg", "mid", "pos"],
        annotations={"pos": pos, "depth": _nesting_depth(tokens)},
    )


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("search") / "logs"
    data = _checkpoint()
    with writer.HiddenStateWriter(str(logdir / "train")) as w:
        w.add("lstm", step=STEP, **data)
        numeric = dict(data, tokens=None, annotations=None)
        w.add("numeric", step=STEP, **numeric)
    return str(logdir), data


@pytest.fixture(scope="module", params=[(), ("--load_fast=false",)], ids=["rust-loader", "python-loader"])
def base(request, logged, tmp_path_factory):
    cache = tmp_path_factory.mktemp("search_cache")
    flags = ("--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache), *request.param)
    with running_tensorboard(logged[0], *flags) as url:
        yield url


@pytest.fixture(scope="module")
def tab(browser, base):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    events = BrowserEvents(page)
    page.goto(base + "/" + START_HASH)
    frame = plugin_frame(page)
    expect(frame.locator("#projection-area")).to_have_attribute("data-state", "ready")
    # Search, neighbours and the filter are in LSTMVis' row, closed at first.
    expect(frame.locator("#search-panel")).to_be_hidden()
    frame.locator("#lstmvis-toggle").click()
    expect(frame.locator("#search-panel")).to_be_visible()
    yield page, frame, events
    page.close()


def _points(data):
    """(sequence, step) of every point, in point order."""
    return [(i, t) for i in range(N) for t in range(int(data["lengths"][i]))]


def _focus(frame, i):
    frame.locator("#sequence-table tbody tr[data-index='%d']" % i).click()
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % i)


def _listed(frame, selector):
    return frame.locator(selector).evaluate_all(
        "items => items.map(li => [+li.dataset.sequence, +li.dataset.start, +li.dataset.end])")


def _token_hits(data, query, prefix):
    """Runs of consecutive tokens equal to (prefix: starting with) the query's tokens, in point order."""
    words = query.split()
    hits = []
    for i in range(N):
        row = list(data["tokens"][i, : data["lengths"][i]])
        for t in range(len(row) - len(words) + 1):
            if all(row[t + j].startswith(w) if prefix else row[t + j] == w for j, w in enumerate(words)):
                hits.append([i, t, t + len(words)])
    return hits


def _regex_hits(data, pattern):
    """Matches over each sequence's tokens joined by " " (multi-character vocabulary), as token ranges."""
    hits = []
    for i in range(N):
        row = list(data["tokens"][i, : data["lengths"][i]])
        starts = np.cumsum([0] + [len(w) + 1 for w in row[:-1]])
        text = " ".join(row)
        for m in re.finditer(pattern, text):
            covered = [t for t, s in enumerate(starts) if s < m.end() and s + len(row[t]) > m.start()]
            hits.append([i, covered[0], covered[-1] + 1])
    return hits


def _assert_lit(frame, source, count):
    """The projection draws `count` points lit, from `source` (all points are drawn at the fitted zoom)."""
    expect(frame.locator("#projection-lit")).to_have_attribute("data-source", source)
    expect(frame.locator("#projection-area")).to_have_attribute("data-lit", str(count))


def _covered(data, hits):
    offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
    return len({int(offsets[i] + t) for i, s, e in hits for t in range(s, e)})


def test_annotation_tracks_show_under_the_input(tab, logged):
    _, frame, _ = tab
    _, data = logged
    i = next(i for i in range(N) if HOSTILE in list(data["tokens"][i, : data["lengths"][i]]))
    _focus(frame, i)
    length = int(data["lengths"][i])
    pos = frame.locator("#input-tokens .annotation-cell[data-track='pos']")
    depth = frame.locator("#input-tokens .annotation-cell[data-track='depth']")
    expect(pos).to_have_count(length)
    assert pos.evaluate_all("cells => cells.map(c => c.textContent)") == list(data["annotations"]["pos"][i, :length])
    want_depth = ["%d" % v for v in data["annotations"]["depth"][i, :length]]
    assert depth.evaluate_all("cells => cells.map(c => c.dataset.value)") == want_depth
    # Each cell sits under its token (same column).
    columns = frame.locator("#input-tokens .step").evaluate_all(
        "steps => steps.map(s => [s.querySelector('.token').dataset.step, ...[...s.querySelectorAll('.annotation-cell')].map(c => c.dataset.step)])")
    assert all(len(set(c)) == 1 for c in columns) and len(columns) == length
    # The hostile category and token are text, never markup.
    hostile = pos.filter(has_text=HOSTILE).first
    expect(hostile).to_have_text(HOSTILE)
    assert frame.locator("#rnn-hidden-app img").count() == 0
    # The tooltip of a cell says what each track says there.
    t = list(data["tokens"][i, :length]).index(HOSTILE)
    depth.nth(t).hover()
    expect(frame.locator("#tooltip")).to_contain_text("pos: " + HOSTILE)
    expect(frame.locator("#tooltip")).to_contain_text("depth: %d" % data["annotations"]["depth"][i, t])
    screenshot(frame.locator("#input-panel"), "search_annotation_tracks.png")
    # Unticking a track hides its row.
    frame.locator("#input-tracks input[data-track='depth']").uncheck()
    expect(depth).to_have_count(0)
    expect(pos).to_have_count(length)
    frame.locator("#input-tracks input[data-track='depth']").check()
    expect(depth).to_have_count(length)


PIXELS = """([points]) => {
  const ctx = document.querySelector('#projection-canvas').getContext('2d');
  return points.map(([x, y]) => Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3)));
}"""


def test_colour_by_annotation(tab, logged, base):
    page, frame, _ = tab
    _, data = logged
    frame.locator("#projection-color-by").select_option("annotation:pos")
    legend = frame.locator("#projection-legend")
    status, _, body = http_get(base + "/data/plugin/rnn_hidden/sequences?run=train&tag=lstm&step=%d" % STEP)
    categories = next(a for a in json.loads(body)["annotations"] if a["name"] == "pos")["categories"]
    assert sorted(categories) == sorted({"OPEN", "CLOSE", "WORD", HOSTILE})
    for name in categories:
        expect(legend).to_contain_text(name)
    hash_ = urllib.parse.unquote(page.evaluate("() => location.hash"))
    assert "rh_color=annotation:pos" in hash_
    # Isolated points on the canvas have their category's colour.
    frame.locator("#projection-reset").dispatch_event("click")
    page.wait_for_timeout(100)
    area = frame.locator("#projection-area")
    t = json.loads(area.get_attribute("data-transform"))
    status, _, body = http_get(base + "/data/plugin/rnn_hidden/projection/points?run=train&tag=lstm&step=%d"
                               "&method=pca&align=neighbor" % STEP)
    assert status == 200, body
    coords = np.frombuffer(body, np.float32).reshape(-1, 2)
    centres = np.stack([np.round(coords[:, 0] * t["k"] + t["tx"]), np.round(t["ty"] - coords[:, 1] * t["k"])], axis=1)
    gaps = np.array([np.sort(np.abs(centres - c).max(axis=1))[1] for c in centres])
    isolated = np.flatnonzero(gaps > 9)
    assert len(isolated) > 5
    pixels = frame.evaluate(PIXELS, [centres[isolated].astype(int).tolist()])
    points = _points(data)
    for p, pixel in zip(isolated, pixels):
        i, step = points[p]
        code = categories.index(data["annotations"]["pos"][i, step])
        hexa = PALETTE[(code + 3) % len(PALETTE)]
        assert pixel == [int(hexa[k:k + 2], 16) for k in (1, 3, 5)], (int(p), pixel, hexa)
    screenshot(frame.locator("#projection-panel"), "search_colour_by_pos.png")
    # Numeric: the ramp with the track's range; back to the prediction.
    frame.locator("#projection-color-by").select_option("annotation:depth")
    depth = data["annotations"]["depth"]
    valid = np.concatenate([depth[i, : data["lengths"][i]] for i in range(N)])
    expect(legend.locator(".legend-item[data-track='depth']")).to_have_text(
        "depth %d%d" % (valid.min(), valid.max()))
    screenshot(frame.locator("#projection-panel"), "search_colour_by_depth.png")
    frame.locator("#projection-color-by").select_option("prediction")


def test_annotation_filter_lights_its_steps(tab, logged):
    _, frame, _ = tab
    _, data = logged
    pos = np.concatenate([data["annotations"]["pos"][i, : data["lengths"][i]] for i in range(N)])
    depth = np.concatenate([data["annotations"]["depth"][i, : data["lengths"][i]] for i in range(N)])
    status = frame.locator("#filter-status")
    frame.locator("#filter-track").select_option("pos")
    frame.locator("#filter-category").select_option("OPEN")
    frame.locator("#filter-apply").click()
    expect(status).to_have_attribute("data-lit-count", str(int((pos == "OPEN").sum())))
    expect(status).to_contain_text("pos = OPEN: %d steps" % (pos == "OPEN").sum())
    frame.locator("#projection-reset").dispatch_event("click")
    _assert_lit(frame, "filter", int((pos == "OPEN").sum()))
    frame.locator("#filter-category").select_option(HOSTILE)
    frame.locator("#filter-apply").click()
    expect(status).to_have_attribute("data-lit-count", str(int((pos == HOSTILE).sum())))
    frame.locator("#filter-track").select_option("depth")
    frame.locator("#filter-low").fill("1")
    frame.locator("#filter-high").fill("2")
    frame.locator("#filter-apply").click()
    expect(status).to_have_attribute("data-lit-count", str(int(((depth >= 1) & (depth <= 2)).sum())))
    _assert_lit(frame, "filter", int(((depth >= 1) & (depth <= 2)).sum()))
    screenshot(frame.locator("#annotation-filter-panel"), "search_filter.png")
    frame.locator("#filter-clear").click()
    expect(status).to_have_attribute("data-lit", "false")


@pytest.mark.parametrize("query, mode, shot", [("( a", "exact", "exact"), ("( a", "prefix", "prefix"), ("ab+c", "regex", "regex"),
                                               (r"\) \(", "regex", "regex_across"), ("<img", "prefix", "prefix_markup")])
def test_search_lists_and_lights_the_hits(tab, logged, query, mode, shot):
    _, frame, _ = tab
    _, data = logged
    expected = _regex_hits(data, query) if mode == "regex" else _token_hits(data, query, mode == "prefix")
    assert expected, "the data has no hit for %r" % query
    frame.locator("#search-mode").select_option(mode)
    frame.locator("#search-query").fill(query)
    status = frame.locator("#search-status")
    expect(status).to_have_attribute("data-total", str(len(expected)))
    expect(frame.locator("#search-hits li")).to_have_count(len(expected))
    assert _listed(frame, "#search-hits li") == expected
    expect(status).to_have_attribute("data-lit-count", str(_covered(data, expected)))
    expect(status).to_have_attribute("data-truncated", "false")
    _assert_lit(frame, "search", _covered(data, expected))
    # The hit's own tokens are marked in its window.
    i, s, e = expected[0]
    inside = frame.locator("#search-hits li").first.locator(".tw-inside")
    assert inside.evaluate_all("ts => ts.map(t => t.textContent)") == list(data["tokens"][i, s:e])
    # Clicking a hit focuses its sequence.
    frame.locator("#search-hits li").nth(len(expected) - 1).click()
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % expected[-1][0])
    # And Enter on one, from the keyboard.
    frame.locator("#search-hits li").first.focus()
    frame.locator("#search-hits li").first.press("Enter")
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % expected[0][0])
    # Pointing at a hit hovers its first step in every view (here the focused input's token).
    frame.locator("#search-hits li").first.hover()
    expect(frame.locator("#tooltip")).to_contain_text("sequence %d, step %d" % (i, s))
    expect(frame.locator("#input-tokens .token[data-step='%d']" % s)).to_have_class(re.compile(r"\bhovered\b"))
    screenshot(frame.locator("#search-panel"), "search_%s.png" % shot)
    # Logged strings stay text in the list.
    assert frame.locator("#rnn-hidden-app img").count() == 0


def test_invalid_regex_shows_the_routes_message(tab, base):
    _, frame, _ = tab
    frame.locator("#search-mode").select_option("regex")
    frame.locator("#search-query").fill("(")
    status, _, body = http_get(base + "/data/plugin/rnn_hidden/search?" + urllib.parse.urlencode(
        dict(run="train", tag="lstm", step=STEP, q="(", mode="regex", limit=5000)))
    assert status == 400, body
    message = json.loads(body)["error"]
    expect(frame.locator("#search-error")).to_have_text(message)
    expect(frame.locator("#search-hits li")).to_have_count(0)
    screenshot(frame.locator("#search-panel"), "search_invalid_regex.png")
    frame.locator("#search-query").fill("")
    expect(frame.locator("#search-error")).to_be_hidden()


def test_neighbours_of_the_hovered_step(tab, logged, base):
    _, frame, _ = tab
    _, data = logged
    k = 5
    i = 2
    _focus(frame, i)
    frame.locator("#neighbors-k").fill(str(k))
    frame.locator("#neighbors-k").dispatch_event("change")
    frame.locator("#neighbors-follow").check()
    step = 3
    frame.locator("#input-tokens .token[data-step='%d']" % step).hover()
    points = _points(data)
    # As stored: the record says in which precision (the writer may keep float16).
    _, _, body = http_get(base + "/data/plugin/rnn_hidden/sequences?run=train&tag=lstm&step=%d" % STEP)
    stored = np.dtype(json.loads(body)["states_dtype"])
    states = np.concatenate([data["states"][j, : data["lengths"][j]] for j in range(N)]).astype(stored).astype(np.float64)
    query = points.index((i, step))
    distances = np.linalg.norm(states - states[query], axis=1)
    distances[query] = np.inf
    nearest = np.argsort(distances, kind="stable")[:k]
    items = frame.locator("#neighbors-list li")
    expect(items).to_have_count(k)
    expect(frame.locator("#neighbors-query")).to_have_attribute("data-point", str(query))
    listed = items.evaluate_all("ls => ls.map(l => [+l.dataset.point, +l.dataset.sequence, +l.dataset.step, +l.dataset.distance])")
    assert [p for p, *_ in listed] == nearest.tolist()
    assert [(s, t) for _, s, t, _ in listed] == [points[p] for p in nearest]
    np.testing.assert_allclose([d for *_, d in listed], distances[nearest], rtol=1e-4)
    expect(frame.locator("#neighbors-query")).to_have_attribute("data-lit-count", str(k + 1))
    _assert_lit(frame, "neighbors", k + 1)
    # Leaving keeps the answer; pinning keeps it while other steps are hovered.
    frame.locator("#neighbors-pin").click()
    frame.locator("#input-tokens .token[data-step='0']").hover()
    frame.page.wait_for_timeout(400)
    expect(frame.locator("#neighbors-query")).to_have_attribute("data-point", str(query))
    screenshot(frame.locator("#neighbors-panel"), "search_neighbors.png")
    # Clicking a neighbour focuses its sequence.
    items.nth(0).click()
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % points[nearest[0]][0])
    frame.locator("#neighbors-pin").click()
    frame.locator("#neighbors-follow").uncheck()


def test_search_is_disabled_without_tokens_and_lit_again_on_return(tab, logged):
    _, frame, _ = tab
    _, data = logged
    expected = _token_hits(data, "(", False)
    frame.locator("#search-mode").select_option("exact")
    frame.locator("#search-query").fill("(")
    status = frame.locator("#search-status")
    expect(status).to_have_attribute("data-lit-count", str(_covered(data, expected)))
    frame.locator("#tag-select").select_option("numeric")
    expect(frame.locator("#search-query")).to_be_disabled()
    expect(status).to_contain_text("without tokens")
    expect(status).to_have_attribute("data-lit", "false")
    expect(frame.locator("#annotation-filter-panel")).to_be_hidden()
    expect(frame.locator("#input-tracks input")).to_have_count(0)
    # Back on a checkpoint with tokens, the query runs again and its hits are lit again.
    frame.locator("#tag-select").select_option("lstm")
    expect(frame.locator("#search-query")).to_be_enabled()
    expect(status).to_have_attribute("data-lit-count", str(_covered(data, expected)))
    expect(frame.locator("#search-hits li")).to_have_count(len(expected))


def test_no_console_errors(tab):
    page, frame, events = tab
    page.wait_for_timeout(300)
    screenshot(page, "search_page.png")
    # The one 4xx the tests caused on purpose: the invalid regex.
    invalid = [u for s, u in events.bad_responses if s == 400 and "/search?" in u and "mode=regex" in u and "q=%28&" in u]
    events.assert_clean(ignore_urls=tuple(invalid))
    assert frame.locator("#rnn-hidden-app img").count() == 0


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
