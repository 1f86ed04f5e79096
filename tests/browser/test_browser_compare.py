"""Compare mode in a real browser against a real `tensorboard` (both loaders) on real logs.

The log dir holds the README's demo (`demo/train.py --quick`): an LSTM (run
"generated") and a GRU (run "generated-gru") trained on the same probe set,
each logged from the untrained step 0; and a third run logged on another
probe set (100 sequences, not 300). Layouts are PCA without alignment, so
each is its checkpoint's own and the expectations below are computed here
from the served arrays:

- a transition-matrix cell holds, and selects, exactly the sequences whose
  final prediction is wrong or correct in A and in B as the served
  probabilities and labels say;
- B's layout is drawn moved onto A's by the similarity that fits them best
  (computed here with numpy's SVD): hovering a step in B rings the same step
  in A, a box brushed in B brushes the same points in A, and after training
  each class sits on the same side in both;
- clicking a checkpoint in the chart over training moves the slider, and the
  chart draws B's run beside A's;
- a run of another probe set is refused with a message saying what differs;
- at 1280x800 compare mode scrolls neither the page nor the frame, and each
  column has at most one scroll area.

Screenshots at 1280x800 land in `test-artifacts/`.
"""

import json
import re
import shutil
import subprocess
import sys
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    TIMEOUT_MS,
    BrowserEvents,
    assert_no_page_scroll,
    plugin_frame,
    screenshot,
    shift_drag,
)
from tests.support.paths import DEMO
from tests.support.tensorboard_process import http_get, running_tensorboard

LSTM, GRU, SMALL = "generated", "generated-gru", "generated-small"
TAGS = {LSTM: "lstm", GRU: "gru", SMALL: "lstm"}
LOADERS = ["data_server", "python_loader"]
PCA = {"method": "pca", "align": "none"}
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def logdir(demo_logdir, tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    logs = root / "logs"
    shutil.copytree(demo_logdir, logs)
    other = root / "other"
    result = subprocess.run([sys.executable, DEMO, "--quick", "--no-serve", "--cells", "lstm", "--probe", "100",
                             "--epochs", "1", "--logdir", str(other)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    shutil.copytree(other / LSTM, logs / SMALL)
    return str(logs)


@pytest.fixture(scope="module", params=LOADERS)
def base(request, logdir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("compare_cache")
    extra = ["--load_fast=false"] if request.param == "python_loader" else []
    with running_tensorboard(logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache), *extra) as url:
        yield url


def _get(base, route, **query):
    status, _, body = http_get("%s/data/plugin/rnn_hidden/%s?%s" % (base, route, urllib.parse.urlencode(query)))
    assert status == 200, (route, query, body[:300])
    return body


@pytest.fixture(scope="module")
def steps(base):
    tags = json.loads(_get(base, "tags"))
    return {run: tags[run][tag]["steps"] for run, tag in TAGS.items()}


class Served:
    """One checkpoint as the tab reads it: lengths, labels, final predictions."""

    def __init__(self, base, run, step):
        query = {"run": run, "tag": TAGS[run], "step": step}
        self.meta = json.loads(_get(base, "sequences", **query))
        self.lengths = np.asarray(self.meta["lengths"])
        probabilities = np.frombuffer(_get(base, "probabilities", **query), "<f4").reshape(-1, self.meta["num_classes"])
        last = np.cumsum(self.lengths) - 1
        self.prediction = probabilities[last].argmax(axis=1)
        self.labels = np.asarray(self.meta["labels"])
        self.query = query

    def layout(self, base):
        """The PCA layout the tab asked for (`/projection/points` never starts a job)."""
        return np.frombuffer(_get(base, "projection/points", **self.query, **PCA), "<f4").reshape(-1, 2).astype(np.float64)


def similarity(fixed, moving):
    """`moving` (P x 2) moved onto `fixed` by the least-squares rotation or reflection, scale and shift."""
    f0, m0 = fixed - fixed.mean(axis=0), moving - moving.mean(axis=0)
    u, s, vt = np.linalg.svd(m0.T @ f0)
    rotation = u @ vt
    scale = s.sum() / (m0 ** 2).sum()
    return scale * m0 @ rotation + fixed.mean(axis=0)


def _box_counts(area, screen, fraction=0.3):
    """A box over the middle of a plot, as page px, and how many points lie inside it: at least `sure` (more
    than a pixel inside every side) and at most `possible` (within a pixel outside): the two plots of compare
    mode are small and dense, so points on a side cannot be avoided and could go either way."""
    cx, cy = area["x"] + area["width"] / 2, area["y"] + area["height"] / 2
    half_w, half_h = area["width"] * fraction / 2, area["height"] * fraction / 2
    box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)

    def inside(margin):
        return ((screen[:, 0] >= box[0] + margin) & (screen[:, 0] <= box[2] - margin)
                & (screen[:, 1] >= box[1] + margin) & (screen[:, 1] <= box[3] - margin))

    return box, int(inside(1).sum()), int(inside(-1).sum())


def _table_sequences(tab):
    """Every row of the change table, scrolled through (it keeps only the rows in sight in the DOM)."""
    scroll = tab.frame.locator("#change-scroll")
    seen = set()
    top = 0
    while True:
        scroll.evaluate("(s, top) => { s.scrollTop = top; s.dispatchEvent(new Event('scroll')); }", top)
        tab.page.wait_for_timeout(80)
        seen.update(int(v) for v in tab.frame.locator("#change-table tbody tr[data-sequence]").evaluate_all(
            "rs => rs.map(r => r.dataset.sequence)"))
        height, client = scroll.evaluate("s => [s.scrollHeight, s.clientHeight]")
        if top + client >= height:
            return sorted(seen)
        top += max(1, client // 2)


class CompareTab:
    def __init__(self, browser, base, a, b):
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.events = BrowserEvents(self.page)
        (run_a, step_a), (run_b, step_b) = a, b
        self.page.goto("%s/#rnn_hidden&rh_p_method=pca&rh_p_align=none&rh_run=%s&rh_tag=%s&rh_step=%d"
                       "&rh_cmp=1&rh_brun=%s&rh_btag=%s&rh_bstep=%d"
                       % (base, run_a, TAGS[run_a], step_a, run_b, TAGS[run_b], step_b))
        self.frame = plugin_frame(self.page)
        self.area_a = self.frame.locator("#projection-area")
        self.area_b = self.frame.locator("#projection-area-b")

    def wait(self, points):
        for area in (self.area_a, self.area_b):
            expect(area).to_have_attribute("data-state", "ready")
            expect(area).to_have_attribute("data-animating", "false")
            expect(area).to_have_attribute("data-points", str(points))

    def url_state(self):
        pairs = self.page.evaluate("() => location.hash").lstrip("#").split("&")[1:]
        return dict(urllib.parse.unquote(p).split("=", 1) for p in pairs if "=" in p)

    def screen(self, area, coords):
        """Page px of `coords` in `area`, through its published transform."""
        t = json.loads(area.get_attribute("data-transform"))
        box = area.bounding_box()
        return np.stack([box["x"] + coords[:, 0] * t["k"] + t["tx"], box["y"] + t["ty"] - coords[:, 1] * t["k"]], axis=1)

    def close(self):
        self.events.assert_clean()
        self.page.close()


def test_transition_cell_selects_exactly_its_sequences(browser, base, steps):
    """Epoch 1 → epoch 2 of the LSTM: the cells count and select what the served arrays say."""
    step_a, step_b = steps[LSTM][1], steps[LSTM][2]
    a, b = Served(base, LSTM, step_a), Served(base, LSTM, step_b)
    correct_a, correct_b = a.prediction == a.labels, b.prediction == b.labels
    tab = CompareTab(browser, base, (LSTM, step_a), (LSTM, step_b))
    tab.wait(int(a.lengths.sum()))
    for ca in (0, 1):
        for cb in (0, 1):
            members = np.flatnonzero((correct_a == bool(ca)) & (correct_b == bool(cb)))
            cell = tab.frame.locator("#transition-matrix button[data-a='%d'][data-b='%d']" % (ca, cb))
            expect(cell).to_have_attribute("data-count", str(len(members)))
    learned = np.flatnonzero(~correct_a & correct_b)
    assert len(learned) > 0, "the demo learns some sequences between epochs 1 and 2"
    tab.frame.locator("#transition-matrix button[data-a='0'][data-b='1']").click()
    expect(tab.frame.locator("#transition-matrix button[data-a='0'][data-b='1']")).to_have_attribute("aria-pressed", "true")
    expect(tab.frame.locator("#change-count")).to_have_text("%d of %d" % (len(learned), len(a.lengths)))
    assert _table_sequences(tab) == learned.tolist()
    assert [int(v) for v in tab.url_state()["rh_sel"].split(",")] == learned.tolist()
    kinds = tab.frame.locator("#change-table tbody tr[data-sequence] td.kind")
    assert set(kinds.all_text_contents()) == {"became correct"}
    # Their trajectories are drawn on both sides.
    for area in (tab.area_a, tab.area_b):
        drawn = sorted(int(v) for v in area.get_attribute("data-trajectories").split(","))
        assert drawn == learned.tolist()
    expect(tab.frame.locator("#compare-message")).to_contain_text("%d became correct" % len(learned))
    # At 1280x800 with a sequence focused, nothing scrolls but one area per column.
    expect(tab.frame.locator("#input-caption")).to_contain_text("Sequence %d:" % learned[0])
    columns = assert_no_page_scroll(tab.page, tab.frame)
    assert all(len(c["scrollers"]) <= 1 for c in columns), columns
    screenshot(tab.page, "compare_transition_cell.png")
    tab.close()


def test_hover_and_brush_are_linked_across_runs(browser, base, steps):
    """LSTM (A) and GRU (B) after training: B moved onto A, one hover and one brush for both."""
    step_a, step_b = steps[LSTM][-1], steps[GRU][-1]
    a, b = Served(base, LSTM, step_a), Served(base, GRU, step_b)
    assert np.array_equal(a.lengths, b.lengths)
    tab = CompareTab(browser, base, (LSTM, step_a), (GRU, step_b))
    points = int(a.lengths.sum())
    tab.wait(points)
    coords_a = a.layout(base)
    coords_b = similarity(coords_a, b.layout(base))
    screen_a, screen_b = tab.screen(tab.area_a, coords_a), tab.screen(tab.area_b, coords_b)
    # Each class on the same side: its centroid in B nearer A's centroid of the class than any other's.
    sequence_of = np.repeat(np.arange(len(a.lengths)), a.lengths)
    label_of = a.labels[sequence_of]
    classes = np.unique(label_of)
    centroids_a = np.array([coords_a[label_of == c].mean(axis=0) for c in classes])
    centroids_b = np.array([coords_b[label_of == c].mean(axis=0) for c in classes])
    for k in range(len(classes)):
        assert np.argmin(np.linalg.norm(centroids_a - centroids_b[k], axis=1)) == k

    # Hover a point of B far from its neighbours: both sides ring it.
    gaps = np.linalg.norm(screen_b[:, None, :] - screen_b[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    box_b = tab.area_b.bounding_box()
    inside = ((screen_b[:, 0] > box_b["x"] + 10) & (screen_b[:, 0] < box_b["x"] + box_b["width"] - 10)
              & (screen_b[:, 1] > box_b["y"] + 10) & (screen_b[:, 1] < box_b["y"] + box_b["height"] - 10))
    p = int(np.argmax(np.where(inside, gaps.min(axis=1), -1)))
    tab.page.mouse.move(*screen_b[p])
    expect(tab.area_b).to_have_attribute("data-hover", str(p))
    expect(tab.area_a).to_have_attribute("data-hover", str(p))
    screenshot(tab.page, "compare_hover_linked.png")
    tab.page.mouse.move(box_b["x"] + box_b["width"] + 40, box_b["y"] - 40)
    expect(tab.area_a).to_have_attribute("data-hover", "")

    # A box brushed in B brushes the same points in A.
    tab.frame.locator("#projection-tool-b").select_option("box")
    (x0, y0, x1, y1), sure, possible = _box_counts(box_b, screen_b)
    assert sure > 0
    shift_drag(tab.page, x0, y0, x1, y1)
    count_b = tab.frame.locator("#projection-brush-count-b")
    expect(count_b).to_have_text(re.compile(r"^\d+ points brushed$"))
    brushed = int(count_b.text_content().split()[0])
    assert sure <= brushed <= possible
    # The same brush on A's side: the same count, the same sequences' trajectories.
    expect(tab.frame.locator("#projection-brush-count")).to_have_text("%d points brushed" % brushed)
    expect(tab.area_a).to_have_attribute("data-trajectories", tab.area_b.get_attribute("data-trajectories"))
    assert tab.area_a.get_attribute("data-trajectories") != ""
    screenshot(tab.page, "compare_brush_linked.png")
    tab.close()


def test_chart_moves_the_slider_and_draws_both_runs(browser, base, steps):
    step_a = steps[LSTM][-1]
    tab = CompareTab(browser, base, (LSTM, step_a), (GRU, steps[GRU][-1]))
    chart = tab.frame.locator("#training-chart")
    expect(chart).to_have_attribute("data-steps", ",".join(map(str, steps[LSTM])))
    # Accuracy on the probe set per checkpoint, as the served arrays say, for both runs.
    for run, side in ((LSTM, "a"), (GRU, "b")):
        training = json.loads(_get(base, "training", run=run, tag=TAGS[run]))
        expected = [float(np.mean(s.prediction == s.labels)) for s in (Served(base, run, step) for step in steps[run])]
        assert np.allclose(training["accuracy"], expected)
        expect(chart.locator("circle[data-series='accuracy'][data-side='%s']" % side)).to_have_count(len(steps[run]))
    target = steps[LSTM][1]
    chart.locator("rect.hit[data-step='%d']" % target).click()
    expect(tab.frame.locator("#step-label")).to_contain_text("step %d " % target)
    assert tab.url_state()["rh_step"] == str(target)
    expect(chart.locator("line[data-mark='a']")).to_have_attribute("data-step", str(target))
    screenshot(tab.page, "compare_chart.png")
    tab.close()


def test_mismatched_probe_sets_say_what_differs(browser, base, steps):
    tab = CompareTab(browser, base, (LSTM, steps[LSTM][-1]), (SMALL, steps[SMALL][-1]))
    message = tab.frame.locator("#compare-message")
    expect(message).to_contain_text("the probe sets differ")
    expect(message).to_contain_text("300 sequences")
    expect(message).to_contain_text("has 100")
    expect(message).to_have_attribute("data-kind", "error")
    expect(tab.frame.locator("#compare-blocked")).to_be_visible()
    expect(tab.area_b).to_be_hidden()
    expect(tab.frame.locator("#change-table tbody tr[data-sequence]")).to_have_count(0)
    screenshot(tab.page, "compare_mismatch.png")
    # The 409 is the answer expected here, not an error of the page.
    tab.events.assert_clean(ignore_urls=[u for _, u in tab.events.bad_responses if "/compare?" in u])
    tab.page.close()
