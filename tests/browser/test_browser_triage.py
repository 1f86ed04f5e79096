"""Triage that reads well, in a real browser against a real `tensorboard` (both loaders) on real logs.

One log dir holds the demo's quick LSTM run (`demo/train.py --cells lstm`, a binary
sentiment LSTM, step 0 untrained) and the nesting demo's quick run (a character-level
language model over 7 classes). Every expected value is computed here from
the served arrays (`/sequences`, `/probabilities`, `/tokens`):

- the heat map's cells, read back as canvas pixels, are the colours of its
  published scale at the served probabilities; two classes get the summary
  row of p(class 1) on the diverging scale, more classes none;
- the overview's stacked class bars count what the served labels and
  predictions say, segment by segment;
- on the untrained checkpoint no flip is counted where the confidence never
  moves by the threshold, and lowering the threshold brings the flips back;
- a column's first click sorts the useful way; class names are not cut;
  single-character tokens are joined.

Screenshots at 1280x800 land in `test-artifacts/`.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    FLIP_THRESHOLD,
    TIMEOUT_MS,
    BrowserEvents,
    confidence_changes,
    flip_step,
    plugin_frame,
    screenshot,
)
from tests.support.nesting import train_nesting
from tests.support.paths import DEMO
from tests.support.tensorboard_process import http_get, running_tensorboard

BINARY, NESTING, TAG = "generated", "nesting", "lstm"
LOADERS = ["data_server", "python_loader"]
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("triage") / "logs"
    result = subprocess.run([sys.executable, DEMO, "--quick", "--cells", "lstm", "--no-serve", "--logdir", str(logdir)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    train_nesting(logdir)
    return str(logdir)


@pytest.fixture(scope="module", params=LOADERS)
def base(request, logdir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("triage_cache")
    extra = ["--load_fast=false"] if request.param == "python_loader" else []
    with running_tensorboard(logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache), *extra) as url:
        yield url, request.param


def _served(url, route, run, step):
    status, _, body = http_get(url + "/data/plugin/rnn_hidden/%s?run=%s&tag=%s&step=%d" % (route, run, TAG, step))
    assert status == 200, body[:300]
    return body


class Checkpoint:
    """What the tab reads of one checkpoint, from its routes."""

    def __init__(self, url, run, step):
        self.meta = json.loads(_served(url, "sequences", run, step))
        self.lengths = np.asarray(self.meta["lengths"])
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)])
        classes = self.meta["num_classes"]
        self.probabilities = np.frombuffer(_served(url, "probabilities", run, step), "<f4").reshape(-1, classes)
        self.tokens = np.frombuffer(_served(url, "tokens", run, step), "<i4")
        self.names = self.meta["class_names"]

    def sequence(self, i):
        return self.probabilities[self.offsets[i]:self.offsets[i + 1]]

    def flip(self, i, threshold):
        p = self.sequence(i)
        return flip_step(p.argmax(axis=1), p, threshold)

    def flips(self, threshold):
        return [self.flip(i, threshold) for i in range(len(self.lengths))]


@pytest.fixture(scope="module")
def steps(base):
    url, _ = base
    tags = json.loads(http_get(url + "/data/plugin/rnn_hidden/tags")[2])
    return {run: tags[run][TAG]["steps"] for run in (BINARY, NESTING)}


def _open(browser, url, run, step):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    events = BrowserEvents(page)
    page.goto(url + "/#rnn_hidden")
    frame = plugin_frame(page)
    expect(frame.locator("#step-label")).to_contain_text("step")
    if frame.locator("#run-select").input_value() != run:
        frame.locator("#run-select").select_option(run)
    expect(frame.locator("#run-select")).to_have_value(run)
    expect(frame.locator("#step-label")).to_contain_text("step")
    slider = frame.locator("#step-slider")
    slider.press("Home")
    for _ in range(int(slider.get_attribute("max") or 0)):
        if frame.locator("#step-label").text_content().startswith("step %d " % step):
            break
        slider.press("ArrowRight")
    expect(frame.locator("#step-label")).to_contain_text("step %d " % step)
    expect(frame.locator("#overview-facts")).to_have_attribute("data-checkpoint", json.dumps([run, TAG, step], separators=(",", ":")))
    return page, frame, events


def _row_order(frame):
    return [int(v) for v in frame.locator("#sequence-table tbody tr[data-index]").evaluate_all(
        "rs => rs.map(r => r.dataset.index)")]


def _sort(frame, key):
    frame.locator("#sequence-table th button[data-sort='%s']" % key).click()


def _pixel(frame, x, y):
    """The heat map canvas's colour at CSS position (x, y), as [r, g, b]."""
    return frame.locator("#heatmap-canvas").evaluate(
        """(c, [x, y]) => {
          const ratio = c.width / c.getBoundingClientRect().width;
          return Array.from(c.getContext("2d").getImageData(Math.floor(x * ratio), Math.floor(y * ratio), 1, 1).data).slice(0, 3);
        }""", [x, y])


def _lut(frame, kind):
    lut = frame.locator(".scale-legend[data-scale='%s']" % kind).get_attribute("data-lut").split(",")
    assert len(lut) == 257
    return [[int(h[k:k + 2], 16) for k in (1, 3, 5)] for h in lut]


def _at(lut, p):
    return lut[int(round(min(1.0, max(0.0, float(p))) * 256))]


def _lab(rgb):
    """sRGB (0..255) to CIELAB (D65), to judge visible differences independently of the tab's code."""
    c = np.asarray(rgb, dtype=float) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]]) @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _delta_e(a, b):
    return float(np.linalg.norm(_lab(a) - _lab(b)))


def _heatmap_cells(frame, data, i):
    """Checks every cell of sequence i's heat map against the scales at the served probabilities."""
    root = frame.locator("#heatmap-root")
    expect(root).to_have_attribute("data-cell", re.compile(r"^\d"))
    cell = float(root.get_attribute("data-cell"))
    left = float(root.get_attribute("data-label-width"))
    row = float(root.get_attribute("data-row-height"))
    class_top = float(root.get_attribute("data-class-top"))
    summary_top = root.get_attribute("data-summary-top")
    assert frame.locator("#heatmap-scroll").evaluate("s => s.scrollLeft") == 0
    probabilities = data.sequence(i)
    classes = probabilities.shape[1]
    sequential = _lut(frame, "sequential")
    diverging = _lut(frame, "diverging") if classes == 2 else None
    for t in range(len(probabilities)):
        x = left + (t + 0.5) * cell
        for k in range(classes):
            shown = _pixel(frame, x, class_top + k * row + row / 2)
            expected = _at(sequential, probabilities[t, k])
            assert max(abs(a - b) for a, b in zip(shown, expected)) <= 1, (t, k, shown, expected)
        if diverging is not None:
            shown = _pixel(frame, x, float(summary_top) + row / 2)
            expected = _at(diverging, probabilities[t, 1])
            assert max(abs(a - b) for a, b in zip(shown, expected)) <= 1, (t, "summary", shown, expected)
    return sequential, diverging


def test_binary_heatmap_summary_row_and_scales(browser, base, steps):
    """Step 1 of the demo: its flips hover near 0.5 and show as a change of hue in the summary row."""
    url, loader = base
    step = steps[BINARY][1]
    data = Checkpoint(url, BINARY, step)
    assert data.probabilities.shape[1] == 2
    flips = data.flips(FLIP_THRESHOLD)
    page, frame, events = _open(browser, url, BINARY, step)
    # The latest flip first: the first click on the flip column sorts descending.
    _sort(frame, "flip")
    expect(frame.locator("#sequence-table th[aria-sort='descending'] button[data-sort='flip']")).to_have_count(1)
    order = sorted(range(len(flips)), key=lambda j: (-flips[j], j))
    rows = _row_order(frame)
    assert rows == order[:len(rows)]
    i = order[0]
    assert flips[i] > 0, "no flip at the demo's step %d" % step
    frame.locator("#sequence-table tbody tr[data-index='%d']" % i).click()
    root = frame.locator("#heatmap-root")
    expect(root).to_have_attribute("data-flip-step", str(flips[i]))
    expect(root).to_have_attribute("data-summary-top", "0")
    expect(frame.locator(".scale-legend")).to_have_count(2)
    sequential, diverging = _heatmap_cells(frame, data, i)
    # The legends are labelled 0, 0.25, 0.5, 0.75, 1.
    for kind in ("diverging", "sequential"):
        expect(frame.locator(".scale-legend[data-scale='%s'] .tick" % kind)).to_have_text(["0", "0.25", "0.5", "0.75", "1"])
    expect(frame.locator(".scale-legend[data-scale='diverging'] .scale-end")).to_have_text(data.names)
    # Neighbouring probabilities differ visibly (ΔE*ab, computed here): a just noticeable difference is ~2.3.
    for p in np.arange(0, 0.91, 0.1):
        assert _delta_e(_at(sequential, p), _at(sequential, p + 0.1)) > 10, p
        assert _delta_e(_at(diverging, p), _at(diverging, p + 0.1)) > 5, p
    assert _delta_e(_at(diverging, 0.45), _at(diverging, 0.55)) > 25
    # Either side of the flip the summary row leans to the predicted class's end of the scale.
    p = data.sequence(i)
    before, after = p[flips[i] - 1], p[flips[i]]
    for probs in (before, after):
        colour = _at(diverging, probs[1])
        towards = int(probs.argmax())
        assert _delta_e(colour, diverging[256 * towards]) < _delta_e(colour, diverging[256 * (1 - towards)])
    screenshot(frame.locator("#heatmap-panel"), "triage_heatmap_binary_step%d_%s.png" % (step, loader))
    screenshot(page, "triage_binary_step%d_%s.png" % (step, loader))
    events.assert_clean()
    page.close()


def test_untrained_checkpoint_has_no_flips_until_the_threshold_drops(browser, base, steps):
    url, loader = base
    step = steps[BINARY][0]
    data = Checkpoint(url, BINARY, step)
    changes = np.concatenate([confidence_changes(data.sequence(i)) for i in range(len(data.lengths))])
    wandering = [i for i in range(len(data.lengths)) if data.flip(i, 0.0) > 0]
    assert changes.max() < FLIP_THRESHOLD and wandering, (changes.max(), len(wandering))
    page, frame, events = _open(browser, url, BINARY, step)
    expect(frame.locator("#flip-threshold")).to_have_value(str(FLIP_THRESHOLD))
    expect(frame.locator("#flip-count")).to_have_text("0 with a flip")
    _sort(frame, "flip")
    cells = frame.locator("#sequence-table tbody tr[data-index] td[data-flip]")
    assert set(cells.evaluate_all("cs => cs.map(c => c.textContent)")) == {""}
    # A sequence whose argmax wanders: no flip marked anywhere.
    i = wandering[0]
    frame.locator("#sequence-table tbody tr[data-index='%d']" % i).click()
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % i)
    expect(frame.locator("#heatmap-root")).to_have_attribute("data-flip-step", "")
    expect(frame.locator("#input-tokens .token.flip")).to_have_count(0)
    expect(frame.locator("#input-caption")).to_contain_text("no flip")
    screenshot(page, "triage_untrained_%s.png" % loader)
    # Lowering the threshold below the noise brings the flips back, counted as the served arrays say.
    low = float(np.float32(np.quantile(changes[changes > 0], 0.5)))
    threshold = float("%.4f" % low)
    frame.locator("#flip-threshold").fill(str(threshold))
    flips = data.flips(threshold)
    expected = sum(1 for f in flips if f > 0)
    assert 0 < expected
    expect(frame.locator("#flip-count")).to_have_text("%d with a flip" % expected)
    expect(frame.locator("#heatmap-root")).to_have_attribute("data-flip-step", str(flips[i]) if flips[i] else "")
    order = sorted(range(len(flips)), key=lambda j: (-flips[j], j))
    expect(frame.locator("#sequence-table tbody tr[data-index]").first).to_have_attribute("data-index", str(order[0]))
    assert _row_order(frame) == order[:len(_row_order(frame))]
    shown = frame.locator("#sequence-table tbody tr[data-index] td[data-flip]").evaluate_all("cs => cs.map(c => c.textContent)")
    assert shown == [str(flips[j]) if flips[j] else "" for j in order[:len(shown)]]
    if flips[i]:
        expect(frame.locator("#input-tokens .token.flip")).to_have_attribute("data-step", str(flips[i]))
    # Malformed input is ignored: the threshold stays, and the field shows it again once left.
    frame.locator("#flip-threshold").fill("2")
    expect(frame.locator("#flip-threshold")).to_have_attribute("aria-invalid", "true")
    frame.locator("#flip-threshold").press("Tab")
    expect(frame.locator("#flip-threshold")).to_have_attribute("aria-invalid", "false")
    assert float(frame.locator("#flip-threshold").input_value()) == threshold
    expect(frame.locator("#flip-count")).to_have_text("%d with a flip" % expected)
    events.assert_clean()
    page.close()


def test_stacked_class_bars_count_the_served_predictions(browser, base, steps):
    url, loader = base
    step = steps[BINARY][1]
    data = Checkpoint(url, BINARY, step)
    labels, predictions = np.asarray(data.meta["labels"]), np.asarray(data.meta["predictions"])
    page, frame, events = _open(browser, url, BINARY, step)
    classes = len(data.names)
    for t in range(classes):
        track = frame.locator("#class-bars .bar-track[data-class='%d']" % t)
        segments = track.locator(".segment")
        # The correct part first, then the wrong ones by predicted class; empty parts are left out.
        expected = [p for p in [t] + [q for q in range(classes) if q != t] if ((labels == t) & (predictions == p)).sum() > 0]
        assert [int(v) for v in segments.evaluate_all("ss => ss.map(s => s.dataset.predicted)")] == expected
        for p in expected:
            count = int(((labels == t) & (predictions == p)).sum())
            segment = track.locator(".segment[data-predicted='%d']" % p)
            expect(segment).to_have_attribute("data-count", str(count))
            title = segment.get_attribute("title")
            assert data.names[t] in title and str(count) in title and (p == t or data.names[p] in title), title
    # A wrong segment selects its sequences and filters the table to its true class.
    t, p = next((t, p) for t in range(classes) for p in range(classes) if t != p and ((labels == t) & (predictions == p)).any())
    frame.locator("#class-bars .segment[data-true='%d'][data-predicted='%d']" % (t, p)).click()
    members = np.flatnonzero((labels == t) & (predictions == p)).tolist()
    expect(frame.locator("#filter-label")).to_have_value(str(t))
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % members[0])
    expect(frame.locator("#class-bars .segment[aria-pressed='true']")).to_have_attribute("data-predicted", str(p))
    selected = frame.locator("#sequence-table tbody tr[aria-selected='true']")
    assert set(int(v) for v in selected.evaluate_all("rs => rs.map(r => r.dataset.index)")) <= set(members)
    screenshot(frame.locator("#overview-panel"), "triage_overview_%s.png" % loader)
    events.assert_clean()
    page.close()


def test_first_sort_directions_and_full_class_names(browser, base, steps):
    url, loader = base
    step = steps[BINARY][-1]
    data = Checkpoint(url, BINARY, step)
    meta = data.meta
    page, frame, events = _open(browser, url, BINARY, step)
    n = meta["num_sequences"]
    confidences = meta["confidences"]
    wrong = [int(meta["labels"][j] != meta["predictions"][j]) for j in range(n)]
    flips = data.flips(FLIP_THRESHOLD)
    first = {
        "confidence": ("ascending", sorted(range(n), key=lambda j: (confidences[j], j))),
        "correct": ("ascending", sorted(range(n), key=lambda j: (1 - wrong[j], j))),
        "flip": ("descending", sorted(range(n), key=lambda j: (-flips[j], j))),
        "length": ("descending", sorted(range(n), key=lambda j: (-data.lengths[j], j))),
        "label": ("ascending", sorted(range(n), key=lambda j: (meta["labels"][j], j))),
        "prediction": ("ascending", sorted(range(n), key=lambda j: (meta["predictions"][j], j))),
    }
    for key, (direction, order) in first.items():
        _sort(frame, key)
        expect(frame.locator("#sequence-table th[aria-sort='%s'] button[data-sort='%s']" % (direction, key))).to_have_count(1)
        rows = _row_order(frame)
        assert rows == order[:len(rows)], key
    # Class names in full: no class cell is cut.
    cut = frame.locator("#sequence-table tbody tr[data-index] td[title]").evaluate_all(
        "cs => cs.filter(c => c.cellIndex >= 2 && c.scrollWidth > c.clientWidth).map(c => c.textContent)")
    assert cut == []
    shown = set(frame.locator("#sequence-table tbody tr[data-index] td:nth-child(3)").all_text_contents())
    assert shown <= set(data.names) and shown
    screenshot(frame.locator("#table-panel"), "triage_table_%s.png" % loader)
    events.assert_clean()
    page.close()


def test_many_classes_and_character_tokens(browser, base, steps):
    url, loader = base
    step = steps[NESTING][-1]
    data = Checkpoint(url, NESTING, step)
    vocabulary = data.meta["vocabulary"]
    assert len(data.names) > 2
    page, frame, events = _open(browser, url, NESTING, step)
    # Character tokens read as text: the first 48 characters, joined.
    for i in _row_order(frame)[:6]:
        chars = [vocabulary[t] for t in data.tokens[data.offsets[i]:data.offsets[i + 1]]]
        assert all(len(c) == 1 for c in chars)
        text = "".join(chars[:48]) + (" …" if len(chars) > 48 else "")
        expect(frame.locator("#sequence-table tbody tr[data-index='%d'] td:nth-child(2)" % i)).to_have_text(text)
    i = _row_order(frame)[0]
    frame.locator("#sequence-table tbody tr[data-index='%d']" % i).click()
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % i)
    # No summary row for more than two classes; one sequential scale, the cells on it.
    expect(frame.locator("#heatmap-root")).to_have_attribute("data-summary-top", "")
    expect(frame.locator(".scale-legend")).to_have_count(1)
    expect(frame.locator(".scale-legend[data-scale='sequential'] .tick")).to_have_text(["0", "0.25", "0.5", "0.75", "1"])
    _heatmap_cells(frame, data, i)
    flip = data.flip(i, FLIP_THRESHOLD)
    expect(frame.locator("#heatmap-root")).to_have_attribute("data-flip-step", str(flip) if flip else "")
    screenshot(page, "triage_nesting_%s.png" % loader)
    events.assert_clean()
    page.close()
