"""The linked views of the tab in a real browser, against a real `tensorboard`.

Logs are written with the real logging path (`HiddenStateWriter`); the page is
TensorBoard's own UI with the plugin tab open, driven by the system Chromium.
Every expectation is computed here from the logged arrays and the served
projection, never read back from the page it checks. Screenshots of every
view land in `test-artifacts/`.
"""

import json
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tb_rnn_hidden import writer
from tests.support.browser import (
    FLIP_THRESHOLD,
    TIMEOUT_MS,
    BrowserEvents,
    clear_box,
    flip_step,
    plugin_frame,
    screenshot,
    shift_drag,
)
from tests.support.checkpoints import make_checkpoint
from tests.support.tensorboard_process import http_get, running_tensorboard

N, T, H = 40, 12, 8
MANY = 3000
LONG = 600
STEPS = (0, 1, 2)
MARKUP_TOKEN = "<img src=x onerror=alert(1)>"
CLASS_NAMES = ["neg", "<b>bold</b>", "pos"]
# Views open on PCA (through the URL, as a shared link would): instant, so the
# tests wait for the browser, not for a t-SNE.
START_HASH = "#rnn_hidden&rh_p_method=pca"
expect.set_options(timeout=TIMEOUT_MS)


def _offsets(lengths):
    return np.concatenate([[0], np.cumsum(lengths)])


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("views") / "logs"
    written = {}
    with writer.HiddenStateWriter(str(logdir / "train")) as w:
        for step in STEPS:
            data = make_checkpoint(seed=10 + step, n=N, t=T, h=H)
            data["class_names"] = CLASS_NAMES
            w.add("lstm", step=step, **data)
            written["lstm", step] = data
            numeric = make_checkpoint(seed=50 + step, n=6, t=10, h=4, tokens=False)
            numeric["class_names"] = CLASS_NAMES
            w.add("numeric", step=step, **numeric)
            written["numeric", step] = numeric
        # Tags sorted after "lstm" (the one the tab opens on), last checkpoint only:
        # thousands of sequences, and data missing labels or probabilities.
        many = make_checkpoint(seed=70, n=MANY, t=3, h=4)
        many["class_names"] = CLASS_NAMES
        w.add("many", step=2, **many)
        written["many", 2] = many
        # Long sequences (the heat map scrolls sideways).
        series = make_checkpoint(seed=73, n=3, t=LONG, h=4)
        series["class_names"] = CLASS_NAMES
        w.add("series", step=2, **series)
        written["series", 2] = series
        unlabelled = make_checkpoint(seed=71, n=8, t=6, h=4)
        unlabelled["labels"] = None
        w.add("unlabelled", step=2, **unlabelled)
        written["unlabelled", 2] = unlabelled
        unscored = make_checkpoint(seed=72, n=8, t=6, h=4)
        unscored["probabilities"] = None
        del unscored["class_names"]
        w.add("unscored", step=2, **unscored)
        written["unscored", 2] = unscored
    return str(logdir), written


@pytest.fixture(scope="module")
def base(logged, tmp_path_factory):
    # Its own cache; no background projection: the layouts shown are the ones these tests ask for.
    cache = tmp_path_factory.mktemp("views_cache")
    with running_tensorboard(logged[0], "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache)) as url:
        yield url


class Tab:
    """TensorBoard's page with the plugin tab, and the plugin's frame."""

    def __init__(self, browser, base, hash_=START_HASH):
        self.base = base
        # A frame tall enough that the plot (under it the chart over training) leaves isolated points to
        # read pixels at; the fit at 1280x800 is test_browser_fit's.
        self.page = browser.new_page(viewport={"width": 1280, "height": 960})
        self.events = BrowserEvents(self.page)
        self.page.goto(base + "/" + hash_)
        self.frame = self.wait_frame()

    def wait_frame(self):
        return plugin_frame(self.page)

    def reload(self):
        self.page.reload()
        self.frame = self.wait_frame()

    def url_state(self):
        """The rh_* keys of TensorBoard's URL hash."""
        pairs = self.page.evaluate("() => location.hash").lstrip("#").split("&")[1:]
        return dict(urllib.parse.unquote(p).split("=", 1) for p in pairs if "=" in p)

    def wait_projection(self):
        expect(self.frame.locator("#projection-area")).to_have_attribute("data-state", "ready")
        expect(self.frame.locator("#projection-area")).to_have_attribute("data-animating", "false")

    def points(self, tag="lstm", step=2):
        status, headers, body = http_get(
            self.base + "/data/plugin/rnn_hidden/projection/points?run=train&tag=%s&step=%d"
            "&method=pca&align=neighbor" % (tag, step))
        assert status == 200, body
        return np.frombuffer(body, np.float32).reshape(-1, 2)

    def shown_points(self):
        """The layout the view shows: the projection parameters of the URL state (defaults left out)."""
        state = self.url_state()
        params = dict(method="tsne", perplexity=30, seed=0, iterations=750, n_neighbors=15, min_dist=0.1,
                      metric="euclidean", align="neighbor")
        params.update({k[len("rh_p_"):]: v for k, v in state.items() if k.startswith("rh_p_")})
        query = urllib.parse.urlencode(dict(run=state.get("rh_run", "train"), tag=state.get("rh_tag", "lstm"),
                                            step=state.get("rh_step", 2), **params))
        status, _, body = http_get(self.base + "/data/plugin/rnn_hidden/projection?" + query)
        assert status == 200 and json.loads(body)["state"] == "done", body
        status, _, body = http_get(self.base + "/data/plugin/rnn_hidden/projection/points?" + query)
        assert status == 200, body
        return np.frombuffer(body, np.float32).reshape(-1, 2)

    def screen(self, coords):
        """CSS px in the page for data coords, through the view's published transform."""
        area = self.frame.locator("#projection-area")
        t = json.loads(area.get_attribute("data-transform"))
        box = area.bounding_box()
        return np.stack([box["x"] + coords[:, 0] * t["k"] + t["tx"],
                         box["y"] + t["ty"] - coords[:, 1] * t["k"]], axis=1)

    def close(self):
        self.page.close()


@pytest.fixture(scope="module")
def tab(browser, base):
    tab = Tab(browser, base)
    yield tab
    tab.close()


def _select_row(frame, i):
    frame.locator("#sequence-table tbody tr[data-index='%d']" % i).click()
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % i)


def _fnv1a(indices):
    """FNV-1a over 32-bit values, one round per index, as the projection publishes its ringed points."""
    h = 0x811C9DC5
    for p in indices:
        h = ((h ^ int(p)) * 0x01000193) & 0xFFFFFFFF
    return "%x" % h


def _points_in_distance_range(base, lengths, lo, hi, tag="lstm", step=2):
    """The points whose arriving transition's normalised distance is in [lo, hi], from the served /distances."""
    status, headers, body = http_get(
        base + "/data/plugin/rnn_hidden/distances?run=train&tag=%s&step=%d" % (tag, step))
    assert status == 200, body
    assert headers["X-Array-Dtype"] == "float32"
    raw = np.frombuffer(body, np.float32)
    largest = float(headers["X-Max-Distance"])
    # As the browser decodes them: float64 product stored as float32, compared as float64.
    normalised = (raw.astype(np.float64) * (1.0 / largest)).astype(np.float32).astype(np.float64)
    offsets = _offsets(lengths)
    assert len(raw) == offsets[-1] - len(lengths)
    return [int(offsets[i] + t) for i in range(len(lengths)) for t in range(1, int(lengths[i]))
            if lo <= normalised[offsets[i] - i + t - 1] <= hi]


def _assert_ringed(tab, lengths, expected_range=None, pixels=False):
    """The projection rings exactly the points computed here from the served distances and the shown range."""
    frame = tab.frame
    raw_range = frame.locator("#distance-range").get_attribute("data-range")
    lo, hi = (float(v) for v in raw_range.split(","))
    if expected_range is not None:
        assert (lo, hi) == pytest.approx(expected_range, abs=1e-12)
    expected = _points_in_distance_range(tab.base, lengths, lo, hi)
    area = frame.locator("#projection-area")
    total = int(np.sum(lengths))
    expect(area).to_have_attribute("data-points", str(total))  # all drawn, so all ringed ones are too
    expect(area).to_have_attribute("data-highlighted", str(len(expected)))
    expect(area).to_have_attribute("data-highlighted-hash", _fnv1a(expected) if expected else "")
    if pixels:
        _assert_ring_pixels(tab, expected, total)
    return expected


RING_PIXELS = """([points]) => {
  const ctx = document.querySelector('#projection-canvas').getContext('2d');
  const probe = document.createElement('canvas').getContext('2d');
  probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--rh-highlight').trim();
  probe.fillRect(0, 0, 1, 1);
  const colour = (c, x, y) => Array.from(c.getImageData(x, y, 1, 1).data.slice(0, 3));
  return {highlight: colour(probe, 0, 0),
          rings: points.map(([x, y]) => [[x + 4, y], [x - 4, y], [x, y + 4], [x, y - 4]].map(([u, v]) => colour(ctx, u, v)))};
}"""


def _assert_ring_pixels(tab, ringed, total):
    """On the canvas itself: isolated ringed points have the highlight ring, isolated others do not.

    At the fitted zoom 239 points are discs of radius 3 px; a ringed one sits
    on a highlight disc of radius 4 (device pixel ratio 1), so the pixels 4 px
    from its centre are the highlight colour. Only points with no other point
    within 9 px are checked.
    """
    tab.frame.locator("#projection-reset").dispatch_event("click")  # fitted zoom; the focus stays where it is
    tab.page.wait_for_timeout(100)
    t = json.loads(tab.frame.locator("#projection-area").get_attribute("data-transform"))
    coords = tab.shown_points()
    assert len(coords) == total
    centres = np.stack([np.round(coords[:, 0] * t["k"] + t["tx"]), np.round(t["ty"] - coords[:, 1] * t["k"])], axis=1)
    gaps = np.array([np.sort(np.abs(centres - c).max(axis=1))[1] for c in centres])
    isolated = np.flatnonzero(gaps > 9)
    is_ringed = np.zeros(total, bool)
    is_ringed[ringed] = True
    result = tab.frame.evaluate(RING_PIXELS, [centres[isolated].astype(int).tolist()])
    highlight = result["highlight"]
    checked = {True: 0, False: 0}
    for p, rings in zip(isolated, result["rings"]):
        want = bool(is_ringed[p])
        assert all((ring == highlight) is want for ring in rings), (int(p), want, rings, highlight)
        checked[want] += 1
    assert checked[True] > 0 and checked[False] > 0, checked


def _predicted(data, i):
    probabilities = data["probabilities"][i, : data["lengths"][i]]
    return probabilities.argmax(axis=1)


def test_every_view_renders_the_checkpoint(tab, logged):
    _, written = logged
    frame = tab.frame
    data = written["lstm", 2]
    lengths = data["lengths"]
    expect(frame.locator("#step-label")).to_have_text("step 2 (3 of 3)")
    tab.wait_projection()
    assert tab.url_state().get("rh_p_method") == "pca"
    expect(frame.locator("#projection-method")).to_have_value("pca")
    expect(frame.locator("#projection-area")).to_have_attribute("data-points", str(lengths.sum()))
    # The canvas has drawn points: not a blank bitmap.
    painted = frame.locator("#projection-canvas").evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }")
    assert painted > 200

    # Overview: per-class bars and the confusion matrix, from the logged arrays.
    final = data["probabilities"][np.arange(N), lengths - 1]
    predictions = final.argmax(axis=1)
    labels = data["labels"]
    for k in range(3):
        expect(frame.locator(".bar-count[data-class='%d']" % k)).to_have_text(
            "%d/%d" % (((labels == k) & (predictions == k)).sum(), (labels == k).sum()))
        for p in range(3):
            expect(frame.locator("#confusion-matrix button[data-true='%d'][data-predicted='%d']"
                                 % (k, p))).to_have_text(str(((labels == k) & (predictions == p)).sum()))

    # Input, heat map and distances of one sequence.
    i = int(np.argmax(lengths))
    _select_row(frame, i)
    tokens = frame.locator("#input-tokens .token")
    expect(tokens).to_have_count(int(lengths[i]))
    assert tokens.all_text_contents() == [str(w) for w in data["tokens"][i, : lengths[i]]]
    flip = flip_step(_predicted(data, i), data["probabilities"][i, : lengths[i]], FLIP_THRESHOLD)
    if flip > 0:
        expect(frame.locator("#input-tokens .token.flip")).to_have_attribute("data-step", str(flip))
    expect(frame.locator("#heatmap-canvas")).to_be_visible()
    bars = frame.locator("#distance-bars .dist-bar")
    expect(bars).to_have_count(int(lengths[i]) - 1)
    states = data["states"][i, : lengths[i]].astype(np.float16).astype(np.float32)
    distances = np.linalg.norm(np.diff(states, axis=0), axis=1)
    shown = [float(v) for v in bars.evaluate_all("bs => bs.map(b => b.dataset.distance)")]
    # Normalised by the largest transition of the whole checkpoint.
    all_states = [data["states"][j, : lengths[j]].astype(np.float16).astype(np.float32) for j in range(N)]
    largest = max(np.linalg.norm(np.diff(s, axis=0), axis=1).max() for s in all_states if len(s) > 1)
    np.testing.assert_allclose(shown, distances / largest, atol=2e-3)
    # The selected sequence is drawn as a trajectory: its colour differs from the bare points.
    screenshot(tab.page, "views_all.png")
    for panel in ("overview-panel", "table-panel", "projection-panel", "input-panel",
                  "heatmap-panel", "distance-panel"):
        screenshot(frame.locator("#" + panel), "view_%s.png" % panel)


def test_hover_links_every_view(tab, logged):
    _, written = logged
    frame = tab.frame
    data = written["lstm", 2]
    lengths = data["lengths"]
    i = int(np.argmax(lengths))
    _select_row(frame, i)
    tab.wait_projection()
    heatmap = frame.locator("#heatmap-root")
    token = lambda t: frame.locator("#input-tokens .token[data-step='%d']" % t)  # noqa: E731
    bar = lambda t: frame.locator("#distance-bars .dist-bar[data-step='%d']" % t)  # noqa: E731

    # Token -> heat-map column, distance bar; tooltip names the step.
    token(4).hover()
    expect(heatmap).to_have_attribute("data-hover-step", "4")
    expect(bar(4)).to_have_class("dist-bar hovered")
    expect(frame.locator("#tooltip")).to_contain_text("sequence %d, step 4" % i)

    # Heat-map column -> token and bar.
    canvas = frame.locator("#heatmap-canvas")
    box = canvas.bounding_box()
    cell = (box["width"] - 72) / lengths[i]
    canvas.hover(position={"x": 72 + cell * 6.5, "y": 8})
    expect(token(6)).to_have_class("token hovered")
    expect(bar(6)).to_have_class("dist-bar hovered")
    expect(heatmap).to_have_attribute("data-hover-step", "6")

    # Distance bar -> token and heat-map column.
    bar(2).hover()
    expect(token(2)).to_have_class("token hovered")
    expect(heatmap).to_have_attribute("data-hover-step", "2")

    # Projection point -> token, heat map, bar. Pick this sequence's most isolated
    # point on screen, so the nearest point under the pointer is unambiguous.
    coords = tab.points()
    screen = tab.screen(coords)
    start = _offsets(lengths)[i]
    own = screen[start: start + lengths[i]]
    gaps = [np.sort(np.linalg.norm(screen - p, axis=1))[1] for p in own]
    t = int(np.argmax(gaps))
    assert gaps[t] > 2, "points overlap on screen"
    tab.page.mouse.move(float(own[t][0]), float(own[t][1]))
    expect(frame.locator("#tooltip")).to_contain_text("sequence %d, step %d" % (i, t))
    expect(token(t)).to_have_class("token hovered")
    expect(heatmap).to_have_attribute("data-hover-step", str(t))
    screenshot(tab.page, "views_hover_point.png")

    # Leaving clears the hover everywhere.
    frame.locator("#overview-panel h2").hover()
    expect(heatmap).to_have_attribute("data-hover-step", "")
    expect(frame.locator("#input-tokens .token.hovered")).to_have_count(0)


def test_box_brush_selects_exactly_the_covered_sequences(tab, logged):
    _, written = logged
    frame = tab.frame
    data = written["lstm", 2]
    tab.wait_projection()
    coords = tab.points()
    screen = tab.screen(coords)
    (x0, y0, x1, y1), inside = clear_box(frame.locator("#projection-area").bounding_box(), screen)
    sequence_of = np.repeat(np.arange(N), data["lengths"])
    expected = sorted(set(sequence_of[inside].tolist()))
    assert 0 < len(expected) < N

    page = tab.page
    shift_drag(page, x0, y0, x1, y1)
    expect(frame.locator("#projection-brush-count")).to_have_text("%d points brushed" % inside.sum())
    selected = [int(s) for s in tab.url_state()["rh_sel"].split(",")]
    assert selected == expected
    # The table marks them; the input view underlines the brushed steps of the focus.
    rendered = frame.locator("#sequence-table tbody tr[aria-selected='true']")
    marked = [int(v) for v in rendered.evaluate_all("rs => rs.map(r => r.dataset.index)")]
    assert marked and set(marked) <= set(expected)
    focus = int(tab.url_state()["rh_focus"])
    start = _offsets(data["lengths"])[focus]
    steps = [p - start for p in np.flatnonzero(inside) if start <= p < start + data["lengths"][focus]]
    brushed = frame.locator("#input-tokens .token.brushed")
    assert [int(s) for s in brushed.evaluate_all("ts => ts.map(t => t.dataset.step)")] == steps
    screenshot(page, "views_box_brush.png")
    frame.locator("#projection-clear-brush").click()
    expect(frame.locator("#projection-brush-count")).to_have_count(0)


def _point_in_polygon(polygon, x, y):
    inside = False
    j = len(polygon) - 1
    for i in range(len(polygon)):
        (xi, yi), (xj, yj) = polygon[i], polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def test_lasso_brush_zoom_and_pan(tab, logged):
    _, written = logged
    frame = tab.frame
    data = written["lstm", 2]
    tab.wait_projection()
    area_locator = frame.locator("#projection-area")
    area = area_locator.bounding_box()
    cx, cy = area["x"] + area["width"] / 2, area["y"] + area["height"] / 2

    # Wheel zooms about the pointer, drag pans: the published transform follows.
    before = json.loads(area_locator.get_attribute("data-transform"))
    tab.page.mouse.move(cx, cy)
    tab.page.mouse.wheel(0, -300)
    expect(area_locator).not_to_have_attribute("data-transform", json.dumps(before))
    zoomed = json.loads(area_locator.get_attribute("data-transform"))
    assert zoomed["k"] > before["k"]
    tab.page.mouse.down()
    tab.page.mouse.move(cx + 40, cy + 25, steps=5)
    tab.page.mouse.up()
    panned = json.loads(area_locator.get_attribute("data-transform"))
    assert panned["k"] == zoomed["k"]
    assert abs(panned["tx"] - zoomed["tx"] - 40) < 1 and abs(panned["ty"] - zoomed["ty"] - 25) < 1
    frame.locator("#projection-reset").click()

    # Lasso: a polygon around the middle selects the sequences of the points inside it.
    frame.locator("#projection-tool").select_option(value="lasso")
    tab.wait_projection()
    screen = tab.screen(tab.points())
    r = min(area["width"], area["height"]) * 0.3
    polygon = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 7)[:-1]]
    inside = np.array([_point_in_polygon(polygon, x, y) for x, y in screen])
    sequence_of = np.repeat(np.arange(N), data["lengths"])
    tab.page.mouse.move(*polygon[0])
    tab.page.mouse.down()
    for x, y in polygon[1:] + polygon[:1]:
        tab.page.mouse.move(x, y, steps=3)
    tab.page.mouse.up()
    count = frame.locator("#projection-brush-count")
    # Points within a pixel of the drawn outline may go either way.
    assert abs(int(count.text_content().split()[0]) - int(inside.sum())) <= 2
    selected = {int(v) for v in tab.url_state()["rh_sel"].split(",")}
    sure = set(sequence_of[inside].tolist())
    assert len(selected ^ sure) <= 2 and selected
    screenshot(tab.page, "views_lasso.png")
    frame.locator("#projection-clear-brush").click()
    frame.locator("#projection-tool").select_option(value="pan")


def test_confusion_cell_sort_filter_and_keys(tab, logged):
    _, written = logged
    frame = tab.frame
    data = written["lstm", 2]
    lengths, labels = data["lengths"], data["labels"]
    final = data["probabilities"][np.arange(N), lengths - 1]
    predictions, confidences = final.argmax(axis=1), final.max(axis=1)

    # A confusion cell selects exactly its sequences and filters the table by true class.
    t, p = max(((a, b) for a in range(3) for b in range(3) if a != b),
               key=lambda ab: ((labels == ab[0]) & (predictions == ab[1])).sum())
    members = np.flatnonzero((labels == t) & (predictions == p)).tolist()
    assert members
    frame.locator("#confusion-matrix button[data-true='%d'][data-predicted='%d']" % (t, p)).click()
    expect(frame.locator("#filter-label")).to_have_value(str(t))
    assert [int(s) for s in tab.url_state()["rh_sel"].split(",")] == members
    expect(frame.locator("#table-count")).to_have_text("%d of %d" % ((labels == t).sum(), N))
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % members[0])
    screenshot(frame.locator("#table-panel"), "view_table_filtered.png")

    # Misclassified only, all classes.
    frame.locator("#filter-label").select_option(value="")
    frame.locator("#filter-wrong").check()
    wrong = np.flatnonzero(labels != predictions)
    expect(frame.locator("#table-count")).to_have_text("%d of %d" % (len(wrong), N))
    rows = frame.locator("#sequence-table tbody tr[data-index]")
    assert [int(v) for v in rows.evaluate_all("rs => rs.map(r => r.dataset.index)")] == wrong.tolist()[:rows.count()]
    frame.locator("#filter-wrong").uncheck()

    # Sort by confidence: least confident first, then descending (ties by index).
    header = frame.locator("#sequence-table th button[data-sort='confidence']")
    header.click()
    order = sorted(range(N), key=lambda j: (float(confidences[j]), j))
    expect(frame.locator("#sequence-table th[aria-sort='ascending']")).to_have_count(1)
    first = [int(v) for v in rows.evaluate_all("rs => rs.map(r => r.dataset.index)")][:10]
    assert first == order[:10]
    header.click()
    expect(frame.locator("#sequence-table th[aria-sort='descending']")).to_have_count(1)
    order = sorted(range(N), key=lambda j: (-float(confidences[j]), j))
    first = [int(v) for v in rows.evaluate_all("rs => rs.map(r => r.dataset.index)")][:10]
    assert first == order[:10]

    # Up/down keys step the focus through the rows in table order.
    _select_row(frame, order[0])
    frame.locator("#sequence-scroll").press("ArrowDown")
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % order[1])
    frame.locator("#sequence-scroll").press("ArrowDown")
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % order[2])
    frame.locator("#sequence-scroll").press("ArrowUp")
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % order[1])
    frame.locator("#sequence-table th button[data-sort='index']").click()


def test_markup_token_is_text_and_numeric_sequences_are_strips(tab, logged):
    _, written = logged
    frame = tab.frame
    data = written["lstm", 2]
    # make_checkpoint cycles 7 words, one of them markup: sequence 4 has it at step 3.
    i = next(j for j in range(N) if MARKUP_TOKEN in data["tokens"][j, : data["lengths"][j]].tolist())
    _select_row(frame, i)
    expect(frame.locator("#input-tokens .token", has_text=MARKUP_TOKEN).first).to_be_visible()
    assert frame.locator("#input-tokens img, #sequence-table img").count() == 0
    assert tab.events.dialogs == []

    frame.locator("#tag-select").select_option(value="numeric")
    numeric = written["numeric", 2]
    expect(frame.locator("#overview-sequences")).to_have_text("6 sequences")
    _select_row(frame, 1)
    expect(frame.locator("#input-tokens")).to_have_class("numeric")
    expect(frame.locator("#input-tokens .token")).to_have_count(int(numeric["lengths"][1]))
    expect(frame.locator("#sequence-table tbody tr[data-index='1'] td").nth(1)).to_have_text(
        "numeric, %d steps" % numeric["lengths"][1])
    screenshot(frame.locator("#input-panel"), "view_input_numeric.png")
    frame.locator("#tag-select").select_option(value="lstm")
    expect(frame.locator("#overview-sequences")).to_have_text("%d sequences" % N)


def test_slider_and_play_change_the_checkpoint(tab, logged):
    frame = tab.frame
    label = frame.locator("#step-label")
    slider = frame.locator("#step-slider")
    slider.press("Home")
    expect(label).to_have_text("step 0 (1 of 3)")
    tab.wait_projection()
    frame.locator("#play-button").click()
    expect(frame.locator("#play-button")).to_have_attribute("aria-pressed", "true")
    expect(label).to_have_text("step 1 (2 of 3)", timeout=30_000)
    expect(label).to_have_text("step 2 (3 of 3)", timeout=30_000)
    # It stops at the last checkpoint.
    expect(frame.locator("#play-button")).to_have_attribute("aria-pressed", "false", timeout=30_000)
    expect(label).to_have_text("step 2 (3 of 3)")
    tab.wait_projection()
    # Consecutive layouts were aligned: the served step 2 layout started from step 1's.
    status, _, body = http_get(
        tab.base + "/data/plugin/rnn_hidden/projection?run=train&tag=lstm&step=2&method=pca&align=neighbor")
    assert json.loads(body)["state"] == "done"
    expect(frame.locator("#projection-job-status")).to_contain_text("done")


def test_reprojection_url_state_and_dark_theme(tab, browser, base, logged):
    frame = tab.frame
    _select_row(frame, 5)
    frame.locator("#projection-color-by").select_option(value="label")
    state = tab.url_state()
    assert state["rh_focus"] == "5" and state["rh_color"] == "label" and state["rh_step"] == "2"

    # A reload (or the shared link) restores the view.
    other = Tab(browser, base, "#" + tab.page.evaluate("() => location.hash").lstrip("#"))
    try:
        f = other.frame
        expect(f.locator("#input-caption")).to_contain_text("Sequence 5:")
        expect(f.locator("#projection-color-by")).to_have_value("label")
        expect(f.locator("#step-label")).to_have_text("step 2 (3 of 3)")
        expect(f.locator("#projection-method")).to_have_value("pca")
        other.events.assert_clean()
    finally:
        other.close()

    # Re-projection from the form: t-SNE, with its progress shown until done.
    frame.locator("#projection-method").select_option(value="tsne")
    frame.locator("#projection-perplexity").fill("10")
    frame.locator("#projection-apply").click()
    expect(frame.locator("#projection-job-status")).to_contain_text("done", timeout=120_000)
    tab.wait_projection()
    state = tab.url_state()
    assert "rh_p_method" not in state and state["rh_p_perplexity"] == "10"  # t-SNE is the default

    # TensorBoard's dark mode reaches the tab.
    tab.page.evaluate("() => document.body.classList.add('dark-mode')")
    expect(frame.locator("html")).to_have_attribute("data-theme", "dark")
    background = frame.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(32, 33, 36)"
    tab.page.wait_for_timeout(300)
    screenshot(tab.page, "views_dark.png")
    tab.page.evaluate("() => document.body.classList.remove('dark-mode')")
    expect(frame.locator("html")).to_have_attribute("data-theme", "light")


def _rgba(text):
    """[r, g, b, a] of a computed `rgb(...)`/`rgba(...)` colour."""
    values = [float(v) for v in text[text.index("(") + 1: text.index(")")].split(",")]
    return values + [1.0] * (4 - len(values))


def _hex(colour):
    return [int(colour[k: k + 2], 16) for k in (1, 3, 5)]


# colors.ts's Okabe-Ito order; confidenceColor's strength: chance level -> 0.12, certain -> 1.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]


def test_overview_numbers_token_colours_and_tooltips(tab, logged):
    _, written = logged
    frame = tab.frame
    data = written["lstm", 2]
    lengths, labels = data["lengths"], data["labels"]
    final = data["probabilities"][np.arange(N), lengths - 1]
    predictions = final.argmax(axis=1)
    correct = int((predictions == labels).sum())
    expect(frame.locator("#overview-accuracy")).to_have_text("accuracy %.1f%%" % (100 * correct / N))
    expect(frame.locator("#overview-sequences")).to_have_text("%d sequences" % N)
    expect(frame.locator("#overview-correct")).to_have_text("%d correct" % correct)

    # Each token: hue of the class predicted after it, strength from its confidence.
    i = int(np.argmax(lengths))
    _select_row(frame, i)
    probabilities = data["probabilities"][i, : lengths[i]]
    shown = frame.locator("#input-tokens .token").evaluate_all(
        "ts => ts.map(t => getComputedStyle(t).backgroundColor)")
    assert len(shown) == lengths[i]
    for t, colour in enumerate(shown):
        k = int(probabilities[t].argmax())
        strength = np.clip((probabilities[t].max() - 1 / 3) / (1 - 1 / 3), 0, 1)
        r, g, b, a = _rgba(colour)
        assert [r, g, b] == _hex(PALETTE[k]), (t, colour)
        assert abs(a - (0.12 + 0.88 * strength)) < 0.01, (t, colour)
    flip = flip_step(probabilities.argmax(axis=1), probabilities, FLIP_THRESHOLD)
    expect(frame.locator("#heatmap-root")).to_have_attribute("data-flip-step", str(flip) if flip else "")
    # The table's flip column and confidence agree with the logged arrays.
    cells = frame.locator("#sequence-table tbody tr[data-index='%d'] td" % i)
    expect(cells.nth(5)).to_have_text("%.2f" % final[i].max())
    expect(cells.nth(6)).to_have_text(str(flip) if flip else "")

    # Tooltips on a heat-map cell and a distance bar name the step and the prediction.
    canvas = frame.locator("#heatmap-canvas")
    box = canvas.bounding_box()
    left = float(frame.locator("#heatmap-root").get_attribute("data-label-width"))
    cell = (box["width"] - left) / lengths[i]
    canvas.hover(position={"x": left + cell * 3.5, "y": 8})
    tooltip = frame.locator("#tooltip")
    expect(tooltip).to_contain_text("sequence %d, step 3" % i)
    expect(tooltip).to_contain_text("%s: %.1f%%" % (CLASS_NAMES[int(probabilities[3].argmax())],
                                                   100 * probabilities[3].max()))
    frame.locator("#distance-bars .dist-bar[data-step='5']").hover()
    expect(tooltip).to_contain_text("sequence %d, step 5" % i)
    expect(tooltip).to_contain_text("distance from step 4")


def test_ctrl_and_shift_click_add_to_the_selection(tab):
    frame = tab.frame
    row = lambda j: frame.locator("#sequence-table tbody tr[data-index='%d']" % j)  # noqa: E731
    selected = lambda: [int(v) for v in frame.locator(  # noqa: E731
        "#sequence-table tbody tr[aria-selected='true']").evaluate_all("rs => rs.map(r => r.dataset.index)")]
    # Table in index order (the confusion test leaves it so).
    expect(frame.locator("#sequence-table th[aria-sort='ascending'] button[data-sort='index']")).to_have_count(1)
    _select_row(frame, 2)
    row(5).click(modifiers=["Shift"])
    expect(row(5)).to_have_attribute("aria-selected", "true")
    assert selected() == [2, 3, 4, 5]
    expect(frame.locator("#input-caption")).to_contain_text("Sequence 5:")
    row(8).click(modifiers=["Control"])
    expect(row(8)).to_have_attribute("aria-selected", "true")
    assert selected() == [2, 3, 4, 5, 8]
    assert tab.url_state()["rh_sel"] == "2,3,4,5,8" and tab.url_state()["rh_focus"] == "8"
    row(3).click(modifiers=["Control"])  # toggles off
    expect(row(3)).to_have_attribute("aria-selected", "false")
    assert selected() == [2, 4, 5, 8]
    row(6).click()  # a plain click selects one
    expect(row(8)).to_have_attribute("aria-selected", "false")
    assert selected() == [6]


def test_many_trajectories_are_drawn_thin(tab):
    """A brush's (or above 16 selected sequences') trajectories are thin lines (fast to rasterise); the focus keeps its width."""
    frame = tab.frame
    tab.wait_projection()
    area = frame.locator("#projection-area")
    box = area.bounding_box()
    trails = frame.locator("#projection-trails")
    inked = "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; " \
            "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"
    _select_row(frame, 0)
    one = trails.evaluate(inked)
    page = tab.page
    shift_drag(page, box["x"] + 2, box["y"] + 2, box["x"] + box["width"] - 2, box["y"] + box["height"] - 2)  # a box over the whole plot: every sequence
    legend = frame.locator("#projection-legend")
    expect(legend).to_contain_text("thin lines but the focused one")
    assert len(tab.url_state()["rh_sel"].split(",")) == N
    # At most 40 besides the focused one: all of these 40.
    expect(frame.locator("#projection-brush-trajectories")).to_have_text("trajectories of %d brushed sequences" % N)
    page.wait_for_timeout(100)
    assert trails.evaluate(inked) > 2 * one  # the others are drawn too
    screenshot(area, "view_projection_thin_trajectories.png")
    area.press("Escape")
    _select_row(frame, 0)
    expect(legend).not_to_contain_text("thin lines")


def test_distance_range_brush_and_clear(tab, logged):
    _, written = logged
    frame = tab.frame
    data = written["lstm", 2]
    lengths = data["lengths"]
    tab.wait_projection()
    i = int(np.argmax(lengths))
    _select_row(frame, i)
    states = [data["states"][j, : lengths[j]].astype(np.float16).astype(np.float32) for j in range(N)]
    steps = [np.linalg.norm(np.diff(s, axis=0), axis=1) for s in states]
    largest = max(d.max() for d in steps if len(d))
    everything = np.concatenate(steps) / largest
    # The distribution's 40 bins, counted here from the logged states.
    expected = np.histogram(np.minimum(everything, 1 - 1e-9), bins=40, range=(0, 1))[0]
    hist = frame.locator("#distance-hist")
    counts = [int(c) for c in hist.get_attribute("data-counts").split(",")]
    assert np.abs(np.array(counts) - expected).sum() <= 2  # float16 rounding at bin edges
    assert sum(counts) == len(everything)

    hist.scroll_into_view_if_needed()
    box = hist.bounding_box()
    x0, x1 = box["x"] + 0.3 * box["width"], box["x"] + 0.7 * box["width"]
    y = box["y"] + box["height"] / 2
    tab.page.mouse.move(x0, y)
    tab.page.mouse.down()
    tab.page.mouse.move(x1, y, steps=5)
    tab.page.mouse.up()
    label = frame.locator("#distance-range")
    expect(label).to_contain_text("range 0.")
    lo, hi = (float(v) for v in label.get_attribute("data-range").split(","))
    assert abs(lo - 0.3) < 0.01 and abs(hi - 0.7) < 0.01
    # Bars of the focus sequence inside the range are marked; the projection says what it rings.
    own = steps[i] / largest
    marked = frame.locator("#distance-bars .dist-bar.in-range").evaluate_all(
        "bs => bs.map(b => Number(b.dataset.step))")
    assert marked == [t + 1 for t, d in enumerate(own) if lo <= d <= hi]
    expect(frame.locator("#projection-panel")).to_contain_text("ringed: arriving step distance %.2f" % lo)
    ringed = _assert_ringed(tab, lengths, pixels=True)
    assert 0 < len(ringed) < int(lengths.sum()) - N  # a real subset of the points with a transition
    screenshot(frame.locator("#distance-panel"), "view_distance_range.png")
    screenshot(frame.locator("#projection-area"), "view_distance_range_projection.png")

    frame.locator("#distance-clear").click()
    expect(label).to_have_text("no range")
    expect(frame.locator("#distance-bars .dist-bar.in-range")).to_have_count(0)
    expect(frame.locator("#projection-panel")).not_to_contain_text("ringed")
    expect(frame.locator("#projection-area")).to_have_attribute("data-highlighted", "0")


def test_distance_range_by_keyboard(tab, logged):
    """The histogram's range brush without a mouse: Tab to it, arrows move, shift+arrows resize, Escape clears."""
    _, written = logged
    frame = tab.frame
    lengths = written["lstm", 2]["lengths"]
    tab.wait_projection()
    hist = frame.locator("#distance-hist")
    label = frame.locator("#distance-range")
    expect(label).to_have_text("no range")
    expect(hist).to_have_attribute("role", "slider")
    expect(hist).to_have_accessible_name("Distance range to highlight in the projection")
    expect(hist).to_have_attribute("aria-valuetext", "no range")
    # Reached with the Tab key: a click on the caption above it sets where Tab starts.
    frame.locator("#distance-hist-caption").click()
    tab.page.keyboard.press("Tab")
    expect(hist).to_be_focused()
    assert hist.evaluate("h => getComputedStyle(h).outlineStyle") != "none"  # a visible focus ring

    tab.page.keyboard.press("ArrowRight")  # the first press: the first of 40 bins
    expect(label).to_have_text("range 0.00–0.03")
    _assert_ringed(tab, lengths, (0, 1 / 40))
    for _ in range(11):
        tab.page.keyboard.press("ArrowRight")  # moves: bins 11..12
    for _ in range(9):
        tab.page.keyboard.press("Shift+ArrowRight")  # upper end: bins 11..21
    tab.page.keyboard.press("Shift+ArrowLeft")  # bins 11..20
    expect(hist).to_have_attribute("aria-valuetext", "from 0.275 to 0.500 of the largest distance")
    ringed = _assert_ringed(tab, lengths, (11 / 40, 20 / 40), pixels=True)
    assert len(ringed) > 0
    screenshot(frame.locator("#distance-panel"), "view_distance_range_keyboard.png")
    tab.page.keyboard.press("End")  # same width, at the top
    _assert_ringed(tab, lengths, (31 / 40, 1.0))
    tab.page.keyboard.press("Home")
    _assert_ringed(tab, lengths, (0.0, 9 / 40))
    tab.page.keyboard.press("Escape")
    expect(label).to_have_text("no range")
    expect(frame.locator("#projection-area")).to_have_attribute("data-highlighted", "0")
    expect(hist).to_be_focused()


def test_thousands_of_sequences_scroll_virtually(browser, base, logged):
    _, written = logged
    data = written["many", 2]
    final = data["probabilities"][np.arange(MANY), data["lengths"] - 1].max(axis=1)
    other = Tab(browser, base, START_HASH + "&rh_tag=many")
    try:
        f = other.frame
        expect(f.locator("#overview-sequences")).to_have_text("%d sequences" % MANY)
        expect(f.locator("#table-count")).to_have_text("%d of %d" % (MANY, MANY))
        rows = f.locator("#sequence-table tbody tr[data-index]")
        assert 0 < rows.count() < 60  # only the visible rows are in the DOM
        # Sorted by confidence (least confident first); the last row is reachable by scrolling.
        f.locator("#sequence-table th button[data-sort='confidence']").click()
        order = sorted(range(MANY), key=lambda j: (float(final[j]), j))
        scroll = f.locator("#sequence-scroll")
        scroll.evaluate("s => { s.scrollTop = s.scrollHeight; }")
        expect(f.locator("#sequence-table tbody tr[data-index='%d']" % order[-1])).to_be_visible()
        assert rows.count() < 60
        scroll.evaluate("s => { s.scrollTop = 0; }")
        _select_row(f, order[0])
        # Forty steps down: the focus row follows, scrolled into view, the table still small.
        for _ in range(40):
            scroll.press("ArrowDown")
        expect(f.locator("#input-caption")).to_contain_text("Sequence %d:" % order[40])
        focus = f.locator("#sequence-table tbody tr[data-index='%d']" % order[40])
        expect(focus).to_have_attribute("aria-selected", "true")
        row_box, view_box = focus.bounding_box(), scroll.bounding_box()
        assert view_box["y"] <= row_box["y"] and row_box["y"] + row_box["height"] <= view_box["y"] + view_box["height"] + 1
        assert rows.count() < 60
        screenshot(f.locator("#table-panel"), "view_table_many.png")
        other.events.assert_clean()
    finally:
        other.close()


def test_heatmap_of_a_long_sequence_scrolls_and_hovers_exactly(browser, base, logged):
    """600 steps: columns stay readable (>= 3 px), the map scrolls, a step hovered elsewhere is scrolled into view."""
    _, written = logged
    data = written["series", 2]
    probabilities = data["probabilities"][0]
    other = Tab(browser, base, START_HASH + "&rh_tag=series")
    try:
        f = other.frame
        _select_row(f, 0)
        root = f.locator("#heatmap-root")
        scroller = f.locator("#heatmap-scroll")
        canvas = f.locator("#heatmap-canvas")
        token = lambda t: f.locator("#input-tokens .token[data-step='%d']" % t)  # noqa: E731
        expect(f.locator("#heatmap-caption")).to_contain_text("(%d steps; scroll sideways for more)" % LONG)
        cell = float(root.get_attribute("data-cell"))
        label = float(root.get_attribute("data-label-width"))
        assert cell >= 3
        width, client = scroller.evaluate("s => [s.scrollWidth, s.clientWidth]")
        assert width == pytest.approx(label + cell * LONG, abs=1)
        assert width > 3 * client  # it does scroll
        assert scroller.evaluate("s => s.scrollLeft") == 0

        def column_x(t):
            """Page x of the centre of step t's column, and whether it is inside the visible window."""
            box = canvas.bounding_box()
            x = box["x"] + label + (t + 0.5) * cell - scroller.evaluate("s => s.scrollLeft")
            return x, box["x"] + label <= x <= box["x"] + box["width"]

        # A token far to the right, hovered in the input view: the map scrolls to its column.
        token(550).scroll_into_view_if_needed()
        token(550).hover()
        expect(root).to_have_attribute("data-hover-step", "550")
        x, visible = column_x(550)
        assert visible
        screenshot(f.locator("#heatmap-panel"), "view_heatmap_long_scrolled.png")

        # Hovering columns of the scrolled map hovers exactly those steps everywhere, with their probabilities.
        box = canvas.bounding_box()
        for t in (545, 551, 556):
            x, visible = column_x(t)
            assert visible
            other.page.mouse.move(x, box["y"] + 8)
            expect(root).to_have_attribute("data-hover-step", str(t))
            expect(token(t)).to_have_class("token hovered")
            expect(f.locator("#tooltip")).to_contain_text("sequence 0, step %d" % t)
            k = int(probabilities[t].argmax())
            expect(f.locator("#tooltip")).to_contain_text("%s: %.1f%%" % (CLASS_NAMES[k], 100 * probabilities[t, k]))
        # The pointer on the map does not scroll it.
        left = scroller.evaluate("s => s.scrollLeft")
        other.page.mouse.move(column_x(556)[0] + cell / 4, box["y"] + 8)
        assert scroller.evaluate("s => s.scrollLeft") == left

        # Scrolled to the end by the user: the last column is the last step.
        scroller.evaluate("s => { s.scrollLeft = s.scrollWidth; }")
        x, visible = column_x(LONG - 1)
        assert visible
        other.page.mouse.move(x, box["y"] + 8)
        expect(root).to_have_attribute("data-hover-step", str(LONG - 1))
        # Back to a token near the start: scrolled back.
        token(3).scroll_into_view_if_needed()
        token(3).hover()
        expect(root).to_have_attribute("data-hover-step", "3")
        assert column_x(3)[1]
        screenshot(f.locator("#heatmap-panel"), "view_heatmap_long_start.png")
        other.events.assert_clean()
    finally:
        other.close()


def test_missing_labels_or_probabilities_are_said(browser, base, logged):
    _, written = logged
    other = Tab(browser, base, START_HASH + "&rh_tag=unlabelled")
    try:
        f = other.frame
        expect(f.locator("#overview-note")).to_have_text(
            "Logged without true labels: accuracy and confusion need them.")
        expect(f.locator("#overview-accuracy")).to_have_count(0)
        expect(f.locator("#confusion-matrix button")).to_have_count(0)
        expect(f.locator("#filter-wrong")).to_be_disabled()
        _select_row(f, 0)
        expect(f.locator("#sequence-table tbody tr[data-index='0'] td").nth(2)).to_have_text("—")
        expect(f.locator("#heatmap-canvas")).to_be_visible()
        screenshot(f.locator("#overview-panel"), "view_overview_unlabelled.png")

        f.locator("#tag-select").select_option(value="unscored")
        data = written["unscored", 2]
        expect(f.locator("#overview-note")).to_have_text(
            "Logged without class probabilities: no predictions to summarise.")
        _select_row(f, 0)
        expect(f.locator("#heatmap-caption")).to_have_text("Logged without class probabilities.")
        expect(f.locator("#heatmap-canvas")).to_be_hidden()
        tokens = f.locator("#input-tokens .token")
        expect(tokens).to_have_count(int(data["lengths"][0]))
        # Uncoloured: there is no prediction to colour by.
        assert set(tokens.evaluate_all("ts => ts.map(t => getComputedStyle(t).backgroundColor)")) == {
            "rgba(0, 0, 0, 0)"}
        expect(f.locator("#distance-bars .dist-bar")).to_have_count(int(data["lengths"][0]) - 1)
        other.events.assert_clean()
    finally:
        other.close()


def test_no_console_errors(tab):
    tab.page.wait_for_timeout(300)
    tab.events.assert_clean()


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
