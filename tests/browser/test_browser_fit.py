"""The tab fits TensorBoard's page: no page scroll, one scroll area per column, tooltips that do not linger.

On the demo's real logs (`demo/train.py --quick`), a real `tensorboard` and
Chromium at the sizes a laptop and a desktop show (1280x800, 1280x1024,
1920x1080), light and dark: neither TensorBoard's page nor the tab's frame
scrolls; in each column at most one element has content that overflows and
can scroll (the sequence table in the left one); with a sequence selected
the "all transitions" histogram is inside the window. With LSTMVis' row open
the frame still does not scroll. The tooltip hides when what it points at
moves (a scroll in the frame, a resize). The distance bars draw the jump
threshold (`display.jumpThreshold`) as a line and mark the bars at or above
it, computed here from the served distances. Screenshots land in
`test-artifacts/fit_*.png`.
"""

import json
import sys
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.support.browser import TIMEOUT_MS, BrowserEvents, assert_no_page_scroll, plugin_frame, screenshot
from tests.support.tensorboard_process import http_get, running_tensorboard

RUN, TAG, STEP = "generated", "lstm", 4
START_HASH = "#rnn_hidden&rh_p_method=pca"
# The paper's jump threshold, the tab's default (domain/model.ts DEFAULT_DISPLAY).
DEFAULT_JUMP = 0.4
# The projection settings' URL key for the jump threshold (state/url_state.ts).
JUMP_KEY = "rh_jump"
expect.set_options(timeout=TIMEOUT_MS)

@pytest.fixture(scope="module")
def base(demo_logdir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("fit_cache")
    with running_tensorboard(demo_logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache)) as url:
        yield url


@pytest.fixture(scope="module")
def served(base):
    """The checkpoint's lengths and its step distances normalised to the largest, as the routes serve them."""
    query = "run=%s&tag=%s&step=%d" % (RUN, TAG, STEP)
    status, _, body = http_get(base + "/data/plugin/rnn_hidden/sequences?" + query)
    assert status == 200, body
    lengths = np.array(json.loads(body)["lengths"])
    status, headers, body = http_get(base + "/data/plugin/rnn_hidden/distances?" + query)
    assert status == 200, body
    distances = np.frombuffer(body, "<f4") / float(headers["X-Max-Distance"])
    assert len(distances) == lengths.sum() - len(lengths)
    return lengths, distances


def sequence_distances(served, i):
    """Sequence i's transitions: rows start - i .. start - i + length - 2 of the served distances."""
    lengths, distances = served
    first = int(lengths[:i].sum()) - i
    return distances[first:first + int(lengths[i]) - 1]


@pytest.fixture(scope="module")
def sequence(served):
    """A sequence in the table's first rows with bars on both sides of the default jump threshold (the longest such)."""
    lengths, _ = served
    jumps = [sequence_distances(served, i) >= DEFAULT_JUMP for i in range(8)]
    both = [i for i, jump in enumerate(jumps) if jump.any() and not jump.all()]
    assert both, "no sequence of the first rows has jumps and steps below the threshold"
    return max(both, key=lambda i: lengths[i])


@pytest.fixture
def open_tab(browser, base):
    pages = []

    def open_(width, height, hash_=START_HASH, dark=False):
        page = browser.new_page(viewport={"width": width, "height": height})
        events = BrowserEvents(page)
        page.goto(base + "/" + hash_)
        frame = plugin_frame(page)
        if dark:  # TensorBoard's dark mode, which the tab follows
            page.evaluate("() => document.body.classList.add('dark-mode')")
        expect(frame.locator("html")).to_have_attribute("data-theme", "dark" if dark else "light")
        expect(frame.locator("#sequence-table tbody tr[data-index]").first).to_be_visible()
        pages.append((page, events))
        return page, frame

    yield open_
    for page, events in pages:
        events.assert_clean()
        page.close()


def select(frame, served, i):
    frame.locator("#sequence-table tbody tr[data-index='%d']" % i).click()
    expect(frame.locator("#input-caption")).to_contain_text("Sequence %d:" % i)
    expect(frame.locator("#distance-bars .dist-bar")).to_have_count(int(served[0][i]) - 1)


def assert_inside_window(page, locator):
    box = locator.bounding_box()  # in the page's coordinates, the frame's offset included
    viewport = page.viewport_size
    assert box is not None and box["height"] > 0
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], (box, viewport)
    assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], (box, viewport)


@pytest.mark.parametrize("width,height,dark", [
    pytest.param(1280, 800, False, id="1280x800-light"),
    pytest.param(1280, 800, True, id="1280x800-dark"),
    pytest.param(1280, 1024, False, id="1280x1024-light"),
    pytest.param(1920, 1080, False, id="1920x1080-light"),
])
def test_the_tab_fits_with_one_scroll_area_per_column(open_tab, served, sequence, width, height, dark):
    page, frame = open_tab(width, height, dark=dark)
    select(frame, served, sequence)
    expect(frame.locator("#projection-area")).to_have_attribute("data-state", "ready")
    columns = assert_no_page_scroll(page, frame)
    assert [c["name"] for c in columns] == ["column column-left", "column column-centre", "column column-right"]
    for column in columns:
        assert len(column["scrollers"]) <= 1, column
    # The left column does not scroll: its table does (300 sequences do not fit).
    assert columns[0]["scrollers"] == ["sequence-scroll"]
    for element in ("#distance-hist", "#distance-bars", "#projection-area", "#run-select", "#sequence-scroll"):
        assert_inside_window(page, frame.locator(element))
    screenshot(page, "fit_%dx%d_%s.png" % (width, height, "dark" if dark else "light"))
    # The table shows rows to its bottom (as many as fit, none left blank).
    scroll = frame.locator("#sequence-scroll")
    scroll.evaluate("(s) => { s.scrollTop = 40 * 24; }")
    settle(frame)  # the table renders the rows of a scroll on its event
    bottom_row = scroll.evaluate("""(s) => {
        const r = s.getBoundingClientRect();
        const row = document.elementFromPoint(r.left + 20, r.bottom - 6)?.closest('tr');
        return row ? row.dataset.index ?? 'spacer' : null;
    }""")
    assert bottom_row not in (None, "spacer")


@pytest.mark.parametrize("width,height", [(1280, 800), (1280, 1024)])
def test_lstmvis_row_open_keeps_the_page_still(open_tab, served, sequence, width, height):
    page, frame = open_tab(width, height)
    select(frame, served, sequence)
    frame.locator("#lstmvis-toggle").click()
    expect(frame.locator("#units-panel")).to_be_visible()
    columns = assert_no_page_scroll(page, frame)
    by_name = {c["name"]: c["scrollers"] for c in columns}
    assert len(columns) == 6  # three columns, three panels of the row
    # The centre and right columns, and each panel of the row, scroll as one.
    for name, scrollers in by_name.items():
        if name != "column column-left":
            assert len(scrollers) <= 1, (name, scrollers)
    # Left: overview and table do not both fit above the row, so the column scrolls beside its table.
    assert "sequence-scroll" in by_name["column column-left"]
    assert_inside_window(page, frame.locator("#units-panel"))
    screenshot(page, "fit_%dx%d_lstmvis.png" % (width, height))
    frame.locator("#lstmvis-toggle").click()
    expect(frame.locator("#units-panel")).to_be_hidden()
    assert all(len(c["scrollers"]) <= 1 for c in assert_no_page_scroll(page, frame))


def settle(frame):
    """Waits two animation frames: a scroll's event is dispatched on the next one."""
    frame.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _token_tooltip(page, frame, sequence, step):
    """Hovers token `step` of the shown sequence; the tooltip names it. Returns the pointer, in frame coordinates."""
    token = frame.locator("#input-tokens .token[data-step='%d']" % step)
    token.hover()
    tooltip = frame.locator("#tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("sequence %d, step %d" % (sequence, step))
    return token.evaluate("(t) => { const r = t.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }")


def test_the_tooltip_hides_when_its_column_scrolls_or_the_window_changes(open_tab, served, sequence):
    # LSTMVis' row open at 1280x800: the right column is shorter than its panels and scrolls.
    page, frame = open_tab(1280, 800)
    select(frame, served, sequence)
    frame.locator("#lstmvis-toggle").click()
    expect(frame.locator("#units-panel")).to_be_visible()
    column = frame.locator(".column-right")
    assert column.evaluate("(c) => c.scrollHeight > c.clientHeight")
    x, y = _token_tooltip(page, frame, sequence, 0)
    # Scroll the column so that the heat map's title comes under the pointer: the token has moved away.
    under = column.evaluate("""(c, [x, y]) => {
        const title = document.querySelector('#heatmap-panel h2');
        c.scrollTop += title.getBoundingClientRect().top + 4 - y;
        const e = document.elementFromPoint(x, y);
        return e === title || title.contains(e);
    }""", [x, y])
    assert under, "the scroll did not bring the heat map's title under the pointer"
    expect(frame.locator("#tooltip")).to_be_hidden()

    # A scroll elsewhere in the frame (the table) and a resize hide it too.
    column.evaluate("(c) => { c.scrollTop = 0; }")
    settle(frame)
    _token_tooltip(page, frame, sequence, 1)
    frame.locator("#sequence-scroll").evaluate("(s) => { s.scrollTop += 48; }")
    expect(frame.locator("#tooltip")).to_be_hidden()
    _token_tooltip(page, frame, sequence, 2)  # another token: the pointer enters it
    page.set_viewport_size({"width": 1280, "height": 790})
    expect(frame.locator("#tooltip")).to_be_hidden()


def _assert_threshold_drawn(page, frame, served, sequence, threshold):
    """The bars at or above `threshold` are marked, the line sits at its height, the histogram's marker at its x."""
    expected = sequence_distances(served, sequence) >= threshold
    bars = frame.locator("#distance-bars .dist-bar")
    expect(bars).to_have_count(len(expected))
    expect(frame.locator("#distance-bars")).to_have_attribute("data-jump-threshold", str(threshold))
    expect(frame.locator("#distance-hist")).to_have_attribute("data-jump-threshold", str(threshold))
    marked = bars.evaluate_all("(bs) => bs.map((b) => b.dataset.jump === 'true')")
    assert marked == expected.tolist()
    line = frame.locator("#distance-jump-line")
    expect(line).to_contain_text("%.2f" % threshold)
    # The bars grow from the bottom of the box's inside (above its bottom border), as the line does.
    bottom, height = frame.locator("#distance-bar-box").evaluate(
        "(b) => [b.getBoundingClientRect().top + b.clientTop + b.clientHeight, b.clientHeight]")
    line_y = line.evaluate("(l) => l.getBoundingClientRect().bottom")  # its 1 px dashed top border stands on the height
    assert abs((bottom - line_y) - threshold * height) <= 0.6
    hist = frame.locator("#distance-hist")
    width = hist.bounding_box()["width"]
    assert abs(float(hist.get_attribute("data-jump-x")) - threshold * width) <= 1


def test_the_jump_threshold_is_drawn_in_the_distance_bars(open_tab, served, sequence):
    page, frame = open_tab(1280, 800)
    select(frame, served, sequence)
    _assert_threshold_drawn(page, frame, served, sequence, DEFAULT_JUMP)
    screenshot(frame.locator("#distance-panel"), "fit_distance_jump_threshold.png")


def test_the_jump_threshold_follows_the_url(open_tab, served, sequence):
    """A link's jump threshold (the projection settings' URL key) moves the line and the marked bars."""
    # A value of the slider's (two decimals) that marks other bars of the sequence than 0.4, none within 0.005 of it.
    own = sequence_distances(served, sequence)
    threshold = next(t for t in np.round(np.arange(0.05, 1, 0.05), 2).tolist()
                     if (own >= t).sum() != (own >= DEFAULT_JUMP).sum() and np.abs(own - t).min() > 0.005)
    page, frame = open_tab(1280, 800, hash_=START_HASH + "&%s=%s" % (JUMP_KEY, threshold))
    select(frame, served, sequence)  # a selection makes the tab write its URL state, dropping keys it does not know
    kept = dict(urllib.parse.parse_qsl(page.evaluate("() => location.hash").split("&", 1)[1]))
    if JUMP_KEY not in kept:
        pytest.skip("this build's URL state does not read %s (the projection settings add it)" % JUMP_KEY)
    assert kept[JUMP_KEY] == str(threshold)
    expect(frame.locator("#distance-bars")).to_have_attribute("data-jump-threshold", str(threshold))
    _assert_threshold_drawn(page, frame, served, sequence, threshold)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
