"""LSTMVis in the tab, in a real browser against a real `tensorboard` (both loaders).

A bracket-language checkpoint is logged with the real writer at two steps: at
step 0 the planted units are noise, at step 1 they are on exactly inside each
bracketed range. The test brushes one bracketed range in the units view by
dragging on its canvas, checks the selected units against a plain loop over
the logged states, runs Match, checks that the other bracketed ranges are the
top hits, that the projection lights their steps, that clicking a hit
focuses its sequence, and that the query re-runs on step 0 (labelled stale
until then). Screenshots land in `test-artifacts/`.
"""

import contextlib
import json
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tb_rnn_hidden import writer
from tests.support.browser import TIMEOUT_MS, BrowserEvents, plugin_frame, screenshot
from tests.support.checkpoints import planted_bracket_checkpoint, selected_units
from tests.support.tensorboard_process import running_tensorboard

PLANTED = (2, 5, 9)
SEQUENCE = 0
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("lstmvis") / "logs"
    with writer.HiddenStateWriter(str(logdir / "train")) as w:
        untrained, _ = planted_bracket_checkpoint(seed=5, planted=PLANTED, trained=False)
        w.add("lstm", step=0, **untrained)
        trained, ranges = planted_bracket_checkpoint(seed=5, planted=PLANTED, trained=True)
        w.add("lstm", step=1, **trained)
    return str(logdir), trained, ranges


LOADERS = ["data_server", "python_loader"]


@contextlib.contextmanager
def _served(logdir, loader, tmp_path_factory):
    """A real tensorboard on `logdir` under `loader` (the Rust data server, or
    --load_fast=false), with its own projection cache: (url, loader)."""
    cache = tmp_path_factory.mktemp("lstmvis_cache")
    extra = ["--load_fast=false"] if loader == "python_loader" else []
    with running_tensorboard(logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache), *extra) as url:
        yield url, loader


@pytest.fixture(scope="module", params=LOADERS)
def base(request, logged, tmp_path_factory):
    with _served(logged[0], request.param, tmp_path_factory) as served:
        yield served


def _url_state(page):
    pairs = page.evaluate("() => location.hash").lstrip("#").split("&")[1:]
    return dict(urllib.parse.unquote(p).split("=", 1) for p in pairs if "=" in p)


def _brush(frame, page, start, end, sequence=SEQUENCE):
    """Drags along the units canvas from step `start` to step `end - 1`, low in the plot (away from θ)."""
    root = frame.locator("#units-root")
    expect(root).to_have_attribute("data-sequence", str(sequence))
    canvas = frame.locator("#units-canvas")
    canvas.scroll_into_view_if_needed()
    cell = float(root.get_attribute("data-cell"))
    left = float(root.get_attribute("data-label-width"))
    plot_height = float(root.get_attribute("data-plot-height"))
    box = canvas.bounding_box()
    y = box["y"] + plot_height - 10
    page.mouse.move(box["x"] + left + (start + 0.5) * cell, y)
    page.mouse.down()
    page.mouse.move(box["x"] + left + (start + 1.0) * cell, y, steps=3)
    page.mouse.move(box["x"] + left + (end - 0.5) * cell, y, steps=5)
    page.mouse.up()


def _expect_planted_selected(root, arrays, sequence, start, end):
    """The units view brushed [start, end) of `sequence`, selected exactly the planted
    units, and shades each token by how many are on: all inside the brush, none outside."""
    expect(root).to_have_attribute("data-brush", "%d:%d:%d" % (sequence, start, end))
    expect(root).to_have_attribute("data-units", ",".join(map(str, PLANTED)))
    expect(root).to_have_attribute("data-lines", str(len(PLANTED)))
    length = int(arrays["lengths"][sequence])
    shading = [len(PLANTED) if start <= t < end else 0 for t in range(length)]
    expect(root).to_have_attribute("data-shading", ",".join(map(str, shading)))


def test_brush_match_light_focus_and_rerun(browser, base, logged):
    url, loader = base
    _, arrays, ranges = logged
    page = browser.new_page(viewport={"width": 1280, "height": 1024})
    events = BrowserEvents(page)
    page.goto(url + "/#rnn_hidden&rh_p_method=pca&rh_sel=%d&rh_focus=%d" % (SEQUENCE, SEQUENCE))
    frame = plugin_frame(page)
    expect(frame.locator("#projection-area")).to_have_attribute("data-state", "ready")
    # The row opens from its bar (closed at first, so the columns keep their height).
    toggle = frame.locator("#lstmvis-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(frame.locator("#units-panel")).to_be_hidden()
    toggle.click()
    expect(frame.locator("#units-panel")).to_be_visible()
    expect(frame.locator("#units-root")).to_have_attribute("data-sequence", str(SEQUENCE))

    # Brush the bracketed range of sequence 0: the planted units, as a plain loop says.
    _, start, end = ranges[SEQUENCE]
    expected = selected_units(arrays["states"][SEQUENCE, :arrays["lengths"][SEQUENCE]], start, end)
    assert expected == list(PLANTED)
    _brush(frame, page, start, end)
    root = frame.locator("#units-root")
    _expect_planted_selected(root, arrays, SEQUENCE, start, end)
    assert _url_state(page)["rh_units"] == ",".join(map(str, PLANTED))
    link = page.evaluate("() => location.hash")
    screenshot(frame.locator("#units-panel"), "lstmvis_units_%s.png" % loader)

    # Match: the bracketed ranges are the top hits, lit in the projection.
    frame.locator("#matches-run").click()
    matches = frame.locator("#matches-root")
    expect(matches).to_have_attribute("data-status", "done")
    expect(matches).to_have_attribute("data-stale", "false")
    hits = frame.locator("#matches-list .hit")
    top = {
        (int(hits.nth(k).get_attribute("data-sequence")), int(hits.nth(k).get_attribute("data-start")),
         int(hits.nth(k).get_attribute("data-end")))
        for k in range(len(ranges))
    }
    assert top == set(ranges)
    lit = sum(e - s for _, s, e in ranges)
    expect(frame.locator("#projection-area")).to_have_attribute("data-lit", str(lit))
    expect(frame.locator("#projection-lit")).to_contain_text("%d match steps lit" % lit)
    screenshot(page, "lstmvis_matches_%s.png" % loader)
    # On demand, the trajectories of the matched sequences (the focused one last).
    frame.locator("#projection-lit-trajectories").click()
    area = frame.locator("#projection-area")
    expect(area).to_have_attribute("data-trajectories", ",".join(
        str(i) for i in sorted({i for i, _, _ in ranges} - {SEQUENCE})) + ",%d" % SEQUENCE)
    screenshot(page, "lstmvis_projection_%s.png" % loader)
    frame.locator("#projection-lit-trajectories").click()

    # Clicking a hit of another sequence focuses it everywhere.
    other = next(k for k in range(len(ranges)) if int(hits.nth(k).get_attribute("data-sequence")) != SEQUENCE)
    sequence = int(hits.nth(other).get_attribute("data-sequence"))
    hit_start = int(hits.nth(other).get_attribute("data-start"))
    hits.nth(other).click()
    expect(root).to_have_attribute("data-sequence", str(sequence))
    expect(root).to_have_attribute("data-hover-step", str(hit_start))
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % sequence)
    assert _url_state(page)["rh_focus"] == str(sequence)

    # Step 0 (untrained): the result is labelled stale until re-run there; then its quality is lower.
    frame.locator("#step-slider").fill("0")
    expect(matches).to_have_attribute("data-stale", "true")
    expect(frame.locator("#matches-status")).to_contain_text("matches of step 1 (step 0 shown)", ignore_case=True)
    expect(frame.locator("#projection-lit")).to_be_hidden()
    frame.locator("#matches-rerun").click()
    expect(matches).to_have_attribute("data-step", "0")
    expect(matches).to_have_attribute("data-status", "done")
    expect(matches).to_have_attribute("data-stale", "false")
    quality = dict(_quality(matches))
    assert quality[1] == pytest.approx(1.0)
    assert quality[0] < 1.0
    screenshot(page, "lstmvis_step0_%s.png" % loader)
    # Kept, the query follows the slider: back on step 1 its hits are current and lit again.
    frame.locator("#matches-keep").click()
    expect(frame.locator("#matches-keep")).to_have_attribute("aria-pressed", "true")
    frame.locator("#step-slider").fill("1")
    expect(matches).to_have_attribute("data-step", "1")
    expect(matches).to_have_attribute("data-status", "done")
    expect(matches).to_have_attribute("data-stale", "false")
    expect(frame.locator("#projection-lit")).to_contain_text("%d match steps lit" % lit)
    events.assert_clean()
    page.close()

    # The link reopens the hypothesis: the row open, the brush and the units as they were.
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    events = BrowserEvents(page)
    page.goto(url + "/" + link)
    frame = plugin_frame(page)
    expect(frame.locator("#lstmvis-toggle")).to_have_attribute("aria-expanded", "true")
    root = frame.locator("#units-root")
    expect(root).to_have_attribute("data-brush", "%d:%d:%d" % (SEQUENCE, start, end))
    expect(root).to_have_attribute("data-units", ",".join(map(str, PLANTED)))
    expect(root).to_have_attribute("data-lines", str(len(PLANTED)))
    # Brushing by keyboard: one step later, the planted units are on just before it, so none fits.
    expect(frame.locator("#units-brush-from")).to_have_value(str(start))
    expect(frame.locator("#units-brush-to")).to_have_value(str(end - 1))
    frame.locator("#units-brush-from").fill(str(start + 1))
    frame.locator("#units-brush-from").press("Tab")
    expect(root).to_have_attribute("data-brush", "%d:%d:%d" % (SEQUENCE, start + 1, end))
    states = arrays["states"][SEQUENCE, :arrays["lengths"][SEQUENCE]]
    expect(root).to_have_attribute("data-units", ",".join(map(str, selected_units(states, start + 1, end))))
    assert not set(PLANTED) & set(selected_units(states, start + 1, end))
    events.assert_clean()
    page.close()


def _quality(matches):
    """The quality chart's [[step, quality], ...] once both checkpoints are in."""
    expect(matches).to_have_attribute("data-total", "2")
    for _ in range(100):
        series = matches.get_attribute("data-quality")
        values = json.loads(series or "[]")
        if len(values) == 2:
            return [(int(s), q) for s, q in values]
        matches.page.wait_for_timeout(100)
    raise AssertionError("the quality chart did not fill: %s" % series)


# -- A checkpoint past the old whole-checkpoint cap (16M values): 1024 units x ~21k steps ------

LARGE = dict(n=1000, t=24, h=1024)  # lengths 18-24: about 21k steps, 21.5M values (float16)


@pytest.fixture(scope="module")
def logged_large(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("lstmvis_large") / "logs"
    arrays, ranges = planted_bracket_checkpoint(seed=7, planted=PLANTED, trained=True, **LARGE)
    with writer.HiddenStateWriter(str(logdir / "train")) as w:
        w.add("lstm", step=1, precision="float16", **arrays)
    assert int(arrays["lengths"].sum()) * LARGE["h"] > 16_000_000
    # A sequence whose bracketed range is long enough that no noise unit fits it by chance.
    for sequence, start, end in ranges:
        states = arrays["states"][sequence, :arrays["lengths"][sequence]].astype(np.float16)
        if end - start >= 5 and selected_units(states, start, end) == list(PLANTED):
            return str(logdir), arrays, (sequence, start, end)
    raise AssertionError("no sequence with a long bracketed range")


@pytest.fixture(scope="module", params=LOADERS)
def large_base(request, logged_large, tmp_path_factory):
    with _served(logged_large[0], request.param, tmp_path_factory) as served:
        yield served


def test_a_checkpoint_past_the_old_cap_draws_the_focused_sequence_and_selects_the_planted_units(browser, large_base, logged_large):
    """1024 units x ~21k steps (float16): the units view reads only the focused sequence's
    rows (`/states?sequence=`, never the whole checkpoint), draws them, a brush there selects
    the planted units, and Match's hits get their heat maps (their sequences read one by one)."""
    url, loader = large_base
    _, arrays, (sequence, start, end) = logged_large
    page = browser.new_page(viewport={"width": 1280, "height": 1024})
    events = BrowserEvents(page)
    states_requests = []
    page.on("request", lambda r: states_requests.append(r.url) if "/states?" in r.url else None)
    page.goto(url + "/#rnn_hidden&rh_p_method=pca&rh_sel=%d&rh_focus=%d" % (sequence, sequence))
    frame = plugin_frame(page)
    frame.locator("#lstmvis-toggle").click()
    root = frame.locator("#units-root")
    expect(root).to_have_attribute("data-sequence", str(sequence))
    expect(frame.locator("#units-status")).not_to_have_attribute("data-kind", "error")
    expect(frame.locator("#units-canvas")).to_be_visible()

    _brush(frame, page, start, end, sequence)
    _expect_planted_selected(root, arrays, sequence, start, end)
    screenshot(frame.locator("#units-panel"), "lstmvis_units_large_%s.png" % loader)

    # Match: 50 hits over many sequences, each with its heat map once its sequence is read.
    frame.locator("#matches-run").click()
    matches = frame.locator("#matches-root")
    expect(matches).to_have_attribute("data-status", "done")
    expect(matches).to_have_attribute("data-hits", "50")
    expect(frame.locator("#matches-list .hit .hit-heat")).to_have_count(50)
    hit_sequences = {int(frame.locator("#matches-list .hit").nth(k).get_attribute("data-sequence")) for k in range(50)}

    asked = [urllib.parse.parse_qs(urllib.parse.urlsplit(u).query) for u in states_requests]
    assert asked and all("sequence" in q for q in asked), states_requests  # never the whole checkpoint
    assert {int(q["sequence"][0]) for q in asked} == hit_sequences | {sequence}
    events.assert_clean()
    page.close()
