"""The paper's projection options and the brush, in a real browser on the demo's real logs.

The logs come from `demo/train.py --quick` (a real Keras LSTM); a real
`tensorboard` serves them under both loaders. Each option of the settings
panel is checked against expectations computed here from the served arrays
(`/sequences`, `/distances`, `/probabilities`, `/projection/points`): the
labelled steps for the jump and confidence thresholds, the markers of every
sequence, the per-step colours of trajectory segments and points, the disc
size of a point, the brush's capped trajectories and "only brushed steps";
and every option survives a reload through the URL. Pixels are read from the
view's own canvases (`toDataURL`), at device pixel ratio 1.
"""

import base64
import io
import json
import urllib.parse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.browser import TIMEOUT_MS, BrowserEvents, plugin_frame, screenshot, shift_drag
from tests.support.tensorboard_process import http_get, running_tensorboard

RUN, TAG = "generated", "lstm"
# The tab's palette (ui/colors.ts CLASS_PALETTE, Okabe-Ito) and the paper's label colours.
PALETTE = [(0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00), (0x00, 0x9E, 0x73), (0xCC, 0x79, 0xA7),
           (0x56, 0xB4, 0xE9), (0xD5, 0x5E, 0x00), (0xF0, 0xE4, 0x42), (0x99, 0x99, 0x99)]
AFTER, BEFORE = (0x8E, 0x24, 0xAA), (0x2E, 0x7D, 0x32)
WHITE = (255, 255, 255)  # the light theme's card, behind the canvases
CAUSES = ("jump", "confidence", "class")
MAX_BRUSH_TRAJECTORIES = 40
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module", params=["data_server", "python_loader"])
def base(request, demo_logdir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("paper_options_cache")
    extra = ["--load_fast=false"] if request.param == "python_loader" else []
    with running_tensorboard(demo_logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache),
                             *extra) as url:
        yield url


def _get(base, route, **query):
    status, headers, body = http_get("%s/data/plugin/rnn_hidden/%s?%s" % (base, route, urllib.parse.urlencode(query)))
    assert status == 200, body
    return headers, body


@pytest.fixture(scope="module")
def served(base):
    """The last checkpoint's arrays as the tab decodes them, and its PCA layout."""
    step = json.loads(_get(base, "tags")[1])[RUN][TAG]["steps"][-1]
    where = dict(run=RUN, tag=TAG, step=step)
    meta = json.loads(_get(base, "sequences", **where)[1])
    headers, body = _get(base, "distances", **where)
    # As the browser decodes them: float64 product stored as float32.
    distances = (np.frombuffer(body, "<f4").astype(np.float64) * (1.0 / float(headers["X-Max-Distance"]))).astype(np.float32)
    classes = meta["num_classes"]
    probabilities = np.frombuffer(_get(base, "probabilities", **where)[1], "<f4").reshape(-1, classes)
    lengths = np.asarray(meta["lengths"])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    change = np.zeros(len(probabilities), np.float32)
    for s in range(len(lengths)):
        a, b = offsets[s], offsets[s + 1]
        change[a + 1:b] = np.abs(probabilities[a + 1:b].astype(np.float64) - probabilities[a:b - 1]).max(axis=1)
    return dict(step=step, meta=meta, lengths=lengths, offsets=offsets, distances=distances,
                probabilities=probabilities, prediction=probabilities.argmax(axis=1),
                confidence=probabilities.max(axis=1), change=change)


def label_events(served, s, kinds, jump, confidence):
    """The paper's labels of sequence s as the spec says them: a change between steps t-1 and t is
    labelled "after" at t and "before" at t-1; by step, then cause, then side (before first)."""
    a, b = served["offsets"][s], served["offsets"][s + 1]
    changed = {
        "jump": lambda p: served["distances"][p - s - 1] >= jump,
        "confidence": lambda p: served["change"][p] >= confidence,
        "class": lambda p: served["prediction"][p] != served["prediction"][p - 1],
    }
    events = []
    for cause, letter in zip(CAUSES, "jcp"):
        for p in range(a + 1, b):
            if not changed[cause](p):
                continue
            if letter + "b" in kinds:
                events.append(dict(step=int(p - 1 - a), kind=cause, side="before"))
            if letter + "a" in kinds:
                events.append(dict(step=int(p - a), kind=cause, side="after"))
    order = {(c, side): i for i, (c, side) in enumerate((c, side) for c in CAUSES for side in ("before", "after"))}
    return sorted(events, key=lambda e: (e["step"], order[e["kind"], e["side"]]))


def _round(x):
    """JavaScript's Math.round."""
    return np.floor(np.asarray(x, np.float64) + 0.5).astype(int)


def prediction_colour(c, confidence, classes, bg=WHITE):
    """ui/colors.ts predictionLightness: the class hue towards the background as confidence falls to chance."""
    chance = 1.0 / classes
    strength = min(1.0, max(0.0, (confidence - chance) / max(1e-6, 1 - chance)))
    base = np.asarray(PALETTE[c % len(PALETTE)], np.float64)
    return base + (np.asarray(bg, np.float64) - base) * 0.8 * (1 - strength)


class Tab:
    def __init__(self, browser, base, served, extra=""):
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.events = BrowserEvents(self.page)
        self.served = served
        # PCA without alignment: the layout is the checkpoint's own, whatever else has been laid out.
        self.page.goto("%s/#rnn_hidden&rh_p_method=pca&rh_p_align=none&rh_run=%s&rh_tag=%s&rh_step=%d%s"
                       % (base, RUN, TAG, served["step"], extra))
        self.frame = plugin_frame(self.page)
        self.area = self.frame.locator("#projection-area")
        self.wait()
        # The layout shown, once the tab has asked for it (`/projection/points` never starts a job).
        _, body = _get(base, "projection/points", method="pca", align="none", run=RUN, tag=TAG, step=served["step"])
        self.coords = np.frombuffer(body, "<f4").reshape(-1, 2)

    def wait(self):
        expect(self.area).to_have_attribute("data-state", "ready")
        expect(self.area).to_have_attribute("data-animating", "false")
        expect(self.area).to_have_attribute("data-points", str(int(np.sum(self.served["lengths"]))))

    def url_state(self):
        pairs = self.page.evaluate("() => location.hash").lstrip("#").split("&")[1:]
        return dict(urllib.parse.unquote(p).split("=", 1) for p in pairs if "=" in p)

    def canvas(self, element_id):
        """The canvas' pixels, [H, W, 4] uint8 (un-premultiplied RGBA)."""
        url = self.frame.evaluate("id => document.getElementById(id).toDataURL('image/png')", element_id)
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))

    def screen(self):
        """Canvas CSS px (= device px at ratio 1) of every point, through the published transform."""
        t = json.loads(self.area.get_attribute("data-transform"))
        xy = self.coords.astype(np.float64)
        return np.stack([xy[:, 0] * t["k"] + t["tx"], t["ty"] - xy[:, 1] * t["k"]], axis=1)

    def open_settings(self):
        details = self.frame.locator("#projection-settings")
        if details.get_attribute("open") is None:
            self.frame.locator("#projection-settings-toggle").click()
        expect(self.frame.locator("#projection-settings-panel")).to_be_visible()

    def close_settings(self):
        if self.frame.locator("#projection-settings").get_attribute("open") is not None:
            self.frame.locator("#projection-settings-toggle").click()

    def slide(self, element_id, value):
        """Moves a range input as a drag does (`input` events)."""
        self.frame.evaluate("([id, v]) => { const s = document.getElementById(id); s.value = String(v);"
                            " s.dispatchEvent(new Event('input', { bubbles: true })); }", [element_id, value])

    def labels(self):
        return json.loads(self.area.get_attribute("data-labels"))

    def close(self):
        self.events.assert_clean()
        self.page.close()


def _rich_sequence(served):
    """The sequence with the most labels of all six kinds at the paper's thresholds."""
    counts = [len(label_events(served, s, {"ja", "jb", "ca", "cb", "pa", "pb"}, 0.4, 0.3))
              for s in range(len(served["lengths"]))]
    return int(np.argmax(counts))


def _colour_count(pixels, rgb, tolerance=2):
    opaque = pixels[..., 3] == 255
    close = np.all(np.abs(pixels[..., :3].astype(int) - np.asarray(rgb)) <= tolerance, axis=-1)
    return int(np.sum(opaque & close))


def test_labels_after_and_before_jumps_confidence_and_class_changes(browser, base, served):
    s = _rich_sequence(served)
    tab = Tab(browser, base, served, "&rh_sel=%d&rh_focus=%d&rh_lab=ja,jb,ca,cb,pa,pb" % (s, s))
    expect(tab.area).to_have_attribute("data-trajectories", str(s))
    everything = label_events(served, s, {"ja", "jb", "ca", "cb", "pa", "pb"}, 0.4, 0.3)
    assert {e["kind"] for e in everything} >= {"jump", "class"}, everything
    assert tab.labels() == everything
    expect(tab.frame.locator("#projection-label-key")).to_contain_text("after / before")

    # The thresholds' sliders: the labelled steps follow, as computed here.
    tab.open_settings()
    expect(tab.frame.locator("#projection-jump-threshold-value")).to_have_text("0.40")
    tab.slide("projection-jump-threshold", 0.25)
    tab.slide("projection-confidence-threshold", 0.15)
    expect(tab.frame.locator("#projection-confidence-threshold-value")).to_have_text("0.15")
    lower = label_events(served, s, {"ja", "jb", "ca", "cb", "pa", "pb"}, 0.25, 0.15)
    assert len(lower) >= len(everything)
    assert tab.labels() == lower
    assert tab.url_state()["rh_jump"] == "0.25" and tab.url_state()["rh_conf"] == "0.15"
    screenshot(tab.page, "paper_options_labels.png")

    # "After" labels only: purple text on the trails canvas, no green; "before" only: the reverse.
    for box in ("jb", "cb", "pb"):
        tab.frame.locator("#projection-label-" + box).click()
    after = label_events(served, s, {"ja", "ca", "pa"}, 0.25, 0.15)
    assert tab.labels() == after and after
    assert tab.url_state()["rh_lab"] == "ja,ca,pa"
    tab.close_settings()
    pixels = tab.canvas("projection-trails")
    assert _colour_count(pixels, AFTER) > 0 and _colour_count(pixels, BEFORE) == 0
    tab.open_settings()
    for box in ("ja", "ca", "pa", "jb", "cb", "pb"):
        tab.frame.locator("#projection-label-" + box).click()
    before = label_events(served, s, {"jb", "cb", "pb"}, 0.25, 0.15)
    assert tab.labels() == before and before
    tab.close_settings()
    pixels = tab.canvas("projection-trails")
    assert _colour_count(pixels, BEFORE) > 0 and _colour_count(pixels, AFTER) == 0
    tab.close()


def test_markers_of_all_sequences(browser, base, served):
    tab = Tab(browser, base, served)
    assert not tab.area.get_attribute("data-trajectories")
    assert tab.canvas("projection-trails")[..., 3].max() == 0  # nothing selected: nothing drawn
    tab.open_settings()
    tab.frame.locator("#projection-markers-all").check()
    tab.close_settings()
    expect(tab.area).to_have_attribute("data-markers-all", str(int(np.sum(served["lengths"] > 0))))
    assert tab.url_state()["rh_mka"] == "1"
    # A ring at every start, a square at every end: each sequence's last point is covered.
    pixels = tab.canvas("projection-trails")
    xy = tab.screen()
    ends = served["offsets"][1:] - 1
    h, w = pixels.shape[:2]
    inside = [p for p in ends if 0 <= xy[p, 0] < w and 0 <= xy[p, 1] < h]
    assert len(inside) > 0.9 * len(ends)
    covered = [pixels[int(xy[p, 1]), int(xy[p, 0]), 3] > 0 for p in inside]
    assert all(covered), sum(not c for c in covered)
    screenshot(tab.page, "paper_options_all_markers.png")
    tab.close()


def _isolated(xy, candidates, radius):
    """Of `candidates`, the points with no other point within `radius` px."""
    out = []
    for p in candidates:
        d = np.hypot(xy[:, 0] - xy[p, 0], xy[:, 1] - xy[p, 1])
        d[p] = np.inf
        if d.min() > radius:
            out.append(p)
    return out


def _segment_distance(px, py, x0, y0, x1, y1):
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
    return np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))


def test_segments_and_points_coloured_by_prediction_and_confidence(browser, base, served):
    s = _rich_sequence(served)
    tab = Tab(browser, base, served, "&rh_sel=%d&rh_focus=%d&rh_lab=none&rh_mk=0&rh_tc=prediction&rh_color=confidence"
              % (s, s))
    expect(tab.area).to_have_attribute("data-trajectories", str(s))
    classes = served["meta"]["num_classes"]
    xy = tab.screen()
    a, b = served["offsets"][s], served["offsets"][s + 1]
    trails = tab.canvas("projection-trails")
    segments = [(xy[p - 1, 0], xy[p - 1, 1], xy[p, 0], xy[p, 1]) for p in range(a + 1, b)]
    checked = 0
    for i, p in enumerate(range(a + 1, b)):
        x0, y0, x1, y1 = segments[i]
        if np.hypot(x1 - x0, y1 - y0) < 10:
            continue
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        # Only where no other segment of the trajectory passes near (a later one would cover it).
        if any(_segment_distance(mx, my, *other) < 5 for j, other in enumerate(segments) if j != i):
            continue
        level = np.floor(float(served["confidence"][p]) * 20 + 0.5) / 20
        want = _round(prediction_colour(int(served["prediction"][p]), level, classes))
        got = trails[int(np.floor(my)), int(np.floor(mx))]
        assert got[3] == 255 and np.all(np.abs(got[:3].astype(int) - want) <= 1), (p, got, want)
        checked += 1
    assert checked >= 3, checked

    # Points: the predicted class's hue, lighter where less confident, on the points canvas.
    base_pixels = tab.canvas("projection-canvas")
    radius = 2  # 2 000 to 20 000 points, not zoomed, ratio 1
    lonely = _isolated(xy, range(len(xy)), 2 * radius + 3)[:40]
    assert len(lonely) >= 5
    for p in lonely:
        want = _round(prediction_colour(int(served["prediction"][p]), float(served["confidence"][p]), classes))
        got = base_pixels[int(_round(xy[p, 1])), int(_round(xy[p, 0]))]
        assert np.all(np.abs(got[:3].astype(int) - want) <= 1), (p, got, want)
    screenshot(tab.page, "paper_options_prediction_colours.png")
    tab.close()


def _disc_pixels(r):
    return sum(1 for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dx * dx + dy * dy <= r * r + r)


def test_point_size_and_line_width(browser, base, served):
    s = _rich_sequence(served)
    tab = Tab(browser, base, served, "&rh_sel=%d&rh_focus=%d&rh_lab=none&rh_mk=0&rh_grad=0" % (s, s))
    xy = tab.screen()
    # No other disc within the circle looked at (radius 4 at 2x, and 2 px around).
    lonely = _isolated(xy, range(len(xy)), 12)[:10]
    assert lonely
    area = {}
    for size in (1, 2):
        tab.open_settings()
        tab.slide("projection-point-size", size)
        tab.close_settings()
        expect(tab.frame.locator("#projection-point-size-value")).to_have_text(str(size))
        pixels = tab.canvas("projection-canvas")
        r = max(1, int(_round(2 * size)))
        for p in lonely:
            cx, cy = int(_round(xy[p, 0])), int(_round(xy[p, 1]))
            window = pixels[cy - r - 2:cy + r + 3, cx - r - 2:cx + r + 3]
            dy, dx = np.mgrid[-r - 2:r + 3, -r - 2:r + 3]
            same = np.all(window == pixels[cy, cx], axis=-1) & (dx * dx + dy * dy <= (r + 2) ** 2)
            assert int(same.sum()) == _disc_pixels(r), (size, p, int(same.sum()))
        area[size] = r
    assert area[2] == 2 * area[1]
    assert tab.url_state()["rh_ps"] == "2"
    # Line width: the focused trajectory (its class's colour, no gradient) 1.75 x option + 1 px wide;
    # the pixels it covers fully grow with the width less one (anti-aliased edges).
    colour = PALETTE[served["meta"]["labels"][s]]
    covered = {}
    for width in (1, 3):
        tab.open_settings()
        tab.slide("projection-line-width", width)
        tab.close_settings()
        covered[width] = _colour_count(tab.canvas("projection-trails"), colour, tolerance=0)
    assert covered[3] > 2 * covered[1] > 0, covered
    assert tab.url_state()["rh_lw"] == "3"
    tab.close()


def _clean_edge(along, across, lo, hi, start, stop):
    """The first coordinate from `start` towards `stop` (0.5 px steps) with no point within 1.5 px
    of it among those whose other coordinate is within [lo, hi] (give or take 1.5 px), or None."""
    near = (across >= lo - 1.5) & (across <= hi + 1.5)
    values = along[near]
    for c in np.arange(start, stop, 0.5 if stop > start else -0.5):
        if not np.any(np.abs(values - c) < 1.5):
            return float(c)
    return None


def _brush_box(tab, served):
    """A box over most of the plot whose edges pass within no point's 1.5 px (those could go either
    way): its edges in page px, and the points inside."""
    box = tab.area.bounding_box()
    # Page px of the canvas: the canvas sits inside the area's 1 px border.
    page = tab.screen() + np.asarray([box["x"] + 1, box["y"] + 1])
    x, y = page[:, 0], page[:, 1]
    top, bottom = box["y"] + 4, box["y"] + box["height"] - 4
    x0 = _clean_edge(x, y, top, bottom, box["x"] + box["width"] * 0.35, box["x"] + 4)
    x1 = _clean_edge(x, y, top, bottom, box["x"] + box["width"] * 0.65, box["x"] + box["width"] - 4)
    assert x0 is not None and x1 is not None
    y0 = _clean_edge(y, x, x0, x1, box["y"] + box["height"] * 0.35, top)
    y1 = _clean_edge(y, x, x0, x1, box["y"] + box["height"] * 0.65, bottom)
    assert y0 is not None and y1 is not None
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return (x0, y0, x1, y1), np.flatnonzero(inside)


def test_brush_caps_trajectories_and_shows_only_brushed_steps(browser, base, served):
    tab = Tab(browser, base, served)
    (x0, y0, x1, y1), inside = _brush_box(tab, served)
    sequence_of = np.repeat(np.arange(len(served["lengths"])), served["lengths"])
    counts = np.bincount(sequence_of[inside], minlength=len(served["lengths"]))
    brushed = [int(s) for s in np.flatnonzero(counts)]
    assert len(brushed) > MAX_BRUSH_TRAJECTORIES + 1, len(brushed)
    page = tab.page
    shift_drag(page, x0, y0, x1, y1)
    line = tab.frame.locator("#projection-brush")
    expect(tab.frame.locator("#projection-brush-count")).to_have_text("%d points brushed" % len(inside))
    # The summary is above the plot, in view.
    expect(line).to_be_in_viewport()
    assert line.bounding_box()["y"] + line.bounding_box()["height"] <= tab.area.bounding_box()["y"] + 1
    focus = int(tab.url_state()["rh_focus"])
    assert focus == brushed[0]  # the first brushed sequence, as brushing focuses
    # The sequences with the most brushed steps (ties by index), at most 40 besides the focus.
    ranked = sorted((s for s in brushed if s != focus), key=lambda s: (-counts[s], s))
    expected = sorted(ranked[:MAX_BRUSH_TRAJECTORIES]) + [focus]
    expect(tab.area).to_have_attribute("data-trajectories", ",".join(map(str, expected)))
    expect(tab.frame.locator("#projection-brush-trajectories")).to_have_text(
        "trajectories of %d of %d brushed sequences" % (len(expected), len(brushed)))
    screenshot(page, "paper_options_brush.png")

    # Only the brushed steps: no trajectories at all, the others faded further.
    before = tab.canvas("projection-canvas")
    tab.frame.locator("#projection-brush-only").click()
    expect(tab.frame.locator("#projection-brush-only")).to_have_attribute("aria-pressed", "true")
    expect(tab.area).to_have_attribute("data-trajectories", "")
    expect(tab.frame.locator("#projection-brush-trajectories")).to_have_text("no trajectories of the %d brushed sequences" % len(brushed))
    assert tab.canvas("projection-trails")[..., 3].max() == 0
    assert tab.url_state()["rh_bonly"] == "1"
    xy = tab.screen()
    outside = np.setdiff1d(np.arange(len(xy)), inside)
    lonely = _isolated(xy, outside, 7)[:20]
    assert lonely
    after = tab.canvas("projection-canvas")
    for p in lonely:
        c = np.asarray(PALETTE[int(served["prediction"][p])], np.float64)
        want = _round(c + (np.asarray(WHITE) - c) * 0.94)
        cx, cy = int(_round(xy[p, 0])), int(_round(xy[p, 1]))
        assert np.all(np.abs(after[cy, cx, :3].astype(int) - want) <= 1), (p, after[cy, cx], want)
        assert after[cy, cx, :3].astype(int).sum() > before[cy, cx, :3].astype(int).sum()
    screenshot(page, "paper_options_brush_only.png")
    tab.frame.locator("#projection-brush-clear").click()
    expect(line).to_be_hidden()
    tab.close()


def test_every_option_survives_a_reload(browser, base, served):
    s = _rich_sequence(served)
    tab = Tab(browser, base, served, "&rh_sel=%d&rh_focus=%d&rh_flip=0.25" % (s, s))
    f = tab.frame
    f.locator("#projection-color-by").select_option("confidence")
    tab.open_settings()
    for box in ("ja", "cb", "pa"):  # pa was on: now off
        f.locator("#projection-label-" + box).click()
    tab.slide("projection-jump-threshold", 0.3)
    tab.slide("projection-confidence-threshold", 0.2)
    tab.slide("projection-point-size", 1.5)
    tab.slide("projection-line-width", 2)
    f.locator("#projection-gradient").uncheck()
    f.locator("#projection-trajectory-color").select_option("prediction")
    expect(f.locator("#projection-gradient")).to_be_disabled()
    f.locator("#projection-markers").uncheck()
    f.locator("#projection-markers-all").check()
    f.locator("#projection-fade").select_option("wrong")
    f.locator("#projection-thickness").select_option("distance")
    screenshot(tab.page, "paper_options_settings.png")
    tab.close_settings()
    wanted = dict(rh_color="confidence", rh_lab="ja,cb", rh_jump="0.3", rh_conf="0.2", rh_ps="1.5", rh_lw="2",
                  rh_tc="prediction", rh_mk="0", rh_mka="1", rh_fade="wrong", rh_grad="0", rh_thick="distance",
                  rh_flip="0.25")
    state = tab.url_state()
    assert {k: state.get(k) for k in wanted} == wanted
    labels = tab.labels()
    assert labels == label_events(served, s, {"ja", "cb"}, 0.3, 0.2)

    tab.page.reload()
    tab.frame = f = plugin_frame(tab.page)
    tab.area = f.locator("#projection-area")
    tab.wait()
    state = tab.url_state()
    assert {k: state.get(k) for k in wanted} == wanted
    expect(f.locator("#projection-color-by")).to_have_value("confidence")
    for box, on in (("ja", True), ("jb", False), ("ca", False), ("cb", True), ("pa", False), ("pb", False)):
        assert f.locator("#projection-label-" + box).is_checked() == on, box
    for slider, value in (("jump-threshold", "0.3"), ("confidence-threshold", "0.2"), ("point-size", "1.5"),
                          ("line-width", "2")):
        expect(f.locator("#projection-" + slider)).to_have_value(value)
    assert not f.locator("#projection-markers").is_checked() and f.locator("#projection-markers-all").is_checked()
    assert not f.locator("#projection-gradient").is_checked()
    expect(f.locator("#projection-trajectory-color")).to_have_value("prediction")
    expect(f.locator("#projection-fade")).to_have_value("wrong")
    expect(f.locator("#projection-thickness")).to_have_value("distance")
    assert tab.labels() == labels
    expect(tab.area).to_have_attribute("data-markers-all", str(int(np.sum(served["lengths"] > 0))))
    # The flip threshold went through the store: a later change rewrites the URL with it.
    f.locator("#projection-color-by").select_option("prediction")
    expect(f.locator("#projection-color-by")).to_have_value("prediction")
    state = tab.url_state()
    assert "rh_color" not in state and state["rh_flip"] == "0.25"
    tab.close()
