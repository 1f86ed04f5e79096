"""What the browser tests share: the system Chromium, its event record, screenshots.

Debian's `chromium` is driven with Playwright (which cannot download its own
browsers here); CI installs it. Screenshots land in `test-artifacts/` at the
repository root.
"""

import itertools
import os
import pathlib
import time

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.support.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = pathlib.Path(ROOT) / "test-artifacts"
FRAME_URL = "plugin_entry.html?name=rnn_hidden"
TIMEOUT_MS = 30_000  # a loaded CI machine reads a cold checkpoint through the data server slowly


# The tab's default flip threshold (`DEFAULT_TABLE.flipThreshold` in the frontend's domain/model.ts).
FLIP_THRESHOLD = 0.1


def confidence_changes(probabilities):
    """Per step of one sequence (T x C): the largest |Δp_c| from the step before, 0 at step 0,
    rounded to float32 as the tab stores it (domain/confidence.ts)."""
    p = np.asarray(probabilities, dtype=np.float64)
    changes = np.zeros(len(p), dtype=np.float32)
    if len(p) > 1:
        changes[1:] = np.abs(np.diff(p, axis=0)).max(axis=1).astype(np.float32)
    return changes


def flip_step(predicted, probabilities=None, threshold=0.0):
    """The step of a sequence's last flip, 0 when none: where the prediction changes from the step
    before and (given the sequence's probabilities, T x C) some class's probability moves by at
    least `threshold` there (domain/flips.ts)."""
    changes = None if probabilities is None else confidence_changes(probabilities)
    for t in range(len(predicted) - 1, 0, -1):
        if predicted[t] != predicted[t - 1] and (changes is None or changes[t] >= threshold):
            return t
    return 0


def layout_code(status):
    """The `rh_layout` code the tab writes for a done projection's status object (`method:mode:aligned_to:iterations:trust`)."""
    layout = status["layout"]
    return "%s:%s:%s:%s:%s" % (
        status["params"]["method"], layout.get("mode") or "-",
        "-" if layout.get("aligned_to") is None else layout["aligned_to"],
        "-" if layout.get("iterations") is None else layout["iterations"],
        "-" if layout.get("trustworthiness") is None else "%.3f" % layout["trustworthiness"])


class BrowserEvents:
    """What a page reported: console errors, uncaught exceptions, dialogs, failed requests."""

    def __init__(self, page):
        self.console_errors = []
        self.page_errors = []
        self.dialogs = []
        self.bad_responses = []
        self._page = page
        self._handlers = dict(
            console=self._console, pageerror=self._page_error, dialog=self._dialog,
            response=self._response,
        )
        for event, handler in self._handlers.items():
            page.on(event, handler)

    def detach(self):
        for event, handler in self._handlers.items():
            self._page.remove_listener(event, handler)

    def _console(self, message):
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def _page_error(self, error):
        self.page_errors.append(str(error))

    def _dialog(self, dialog):
        self.dialogs.append((dialog.type, dialog.message))
        dialog.dismiss()

    def _response(self, response):
        if response.status >= 400:
            self.bad_responses.append((response.status, response.url))

    def assert_clean(self, ignore_urls=()):
        """No errors at all, except for requests to `ignore_urls` (each explained by the caller).

        TensorBoard's own UI logs nothing at error level here (only a Three.js
        "multiple instances" *warning*), so by default nothing is filtered out:
        any console error, from TensorBoard or the plugin frame, fails.
        """
        assert [e for e in self.console_errors if e[1] not in ignore_urls] == []
        assert self.page_errors == []
        assert self.dialogs == []
        assert [r for r in self.bad_responses if r[1] not in ignore_urls] == []


def projection_params(request):
    """The projection parameters a page's request to a projection route sent, as strings:
    from the JSON body of a POST (starting or cancelling a job), else from the query."""
    import json
    import urllib.parse

    if request.method == "POST" and request.post_data:
        return {k: str(v) for k, v in json.loads(request.post_data).items()}
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query).items()}


def plugin_frame(page):
    """The plugin's frame inside TensorBoard's page, once its controls are shown."""
    deadline = time.time() + TIMEOUT_MS / 1000
    while True:
        frames = [f for f in page.frames if FRAME_URL in f.url]
        if frames:
            break
        assert time.time() < deadline, "no plugin frame"
        page.wait_for_timeout(50)
    (frame,) = frames
    expect(frame.locator("#run-select")).to_be_visible()
    return frame


def require_chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            "%s not found: these tests drive the system Chromium (Playwright cannot "
            "download browsers here). Install it: apt-get install -y chromium" % CHROMIUM,
            pytrace=False,
        )


def screenshot(target, name):
    ARTIFACTS.mkdir(exist_ok=True)
    target.screenshot(path=str(ARTIFACTS / name))


def shift_drag(page, x0, y0, x1, y1, steps=4):
    """A box brush as a user makes one: shift-drag from (x0, y0) to (x1, y1), page px, through the middle."""
    page.keyboard.down("Shift")
    page.mouse.move(float(x0), float(y0))
    page.mouse.down()
    page.mouse.move((float(x0) + float(x1)) / 2, (float(y0) + float(y1)) / 2, steps=steps)
    page.mouse.move(float(x1), float(y1), steps=steps)
    page.mouse.up()
    page.keyboard.up("Shift")


def clear_box(area, screen):
    """A box over the middle of the plot with no point within a pixel of its four sides (those could go either
    way); the plot's size follows its column, so it looks widely. Its edges in page px and a mask of the
    points inside; `screen` holds the points' page px."""
    for shift, grow in itertools.product(np.linspace(0, 0.1, 21), np.linspace(0, 0.08, 9)):
        x0, x1 = (area["x"] + area["width"] * f for f in (0.3 + shift - grow, 0.65 + shift))
        y0, y1 = (area["y"] + area["height"] * f for f in (0.3 - shift - grow, 0.7 - shift))
        x, y = screen[:, 0], screen[:, 1]
        along_x, along_y = (x > x0 - 1) & (x < x1 + 1), (y > y0 - 1) & (y < y1 + 1)
        near = (along_y & ((np.abs(x - x0) < 1) | (np.abs(x - x1) < 1))) | (along_x & ((np.abs(y - y0) < 1) | (np.abs(y - y1) < 1)))
        if not near.any():
            break
    else:
        pytest.fail("no box without points on its edges")
    x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
    inside = (screen[:, 0] >= x0) & (screen[:, 0] <= x1) & (screen[:, 1] >= y0) & (screen[:, 1] <= y1)
    return (x0, y0, x1, y1), inside


# In each document: its scroll and client heights; per column (and per panel of LSTMVis' row), the
# elements whose content overflows in a direction where they can scroll.
MEASURE_JS = """() => {
  const scrollable = (e) => {
    const s = getComputedStyle(e);
    return (/(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1)
      || (/(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth + 1);
  };
  const areas = [...document.querySelectorAll('.column, .lstmvis-panels:not([hidden]) > *')];
  return {
    document: [document.documentElement.scrollHeight, document.documentElement.clientHeight],
    columns: areas.map((area) => ({
      name: area.className || area.id,
      scrollers: [area, ...area.querySelectorAll('*')].filter(scrollable).map((e) => e.id || e.className),
    })),
  };
}"""


def assert_no_page_scroll(page, frame):
    top = page.evaluate("() => [document.documentElement.scrollHeight, document.documentElement.clientHeight]")
    assert top[0] <= top[1], "TensorBoard's page scrolls: %s" % top
    inner = frame.evaluate(MEASURE_JS)
    assert inner["document"][0] <= inner["document"][1], "the tab's frame scrolls: %s" % inner["document"]
    return inner["columns"]
