"""Runs and tags named with anything, in the real tab, under both of TensorBoard's loaders.

The logdir (`tests/support/hostile_logdir.py`) has runs and tags whose names
hold a quote, a backslash, a newline, a tab, markup that would run, URL
syntax (`%`, `&`, `#`, `?`, `+`), spaces, right-to-left marks, emoji and a
long name: 31 run x tag pairs. Under each loader, every pair is listed, and
selecting it draws its checkpoint (table with tokens, a projection) with no
error message; the names are shown as text, nothing they hold becomes an
element or a dialog, and the page reports no error.
"""

import time

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.support.browser import TIMEOUT_MS, BrowserEvents, plugin_frame, screenshot
from tests.support.hostile_logdir import checkpoint_of, write_hostile_logdir
from tests.support.tensorboard_process import running_tensorboard

# PCA through the URL, as a shared link would: instant, so the test waits for the browser.
START_HASH = "#rnn_hidden&rh_p_method=pca"
expect.set_options(timeout=TIMEOUT_MS)
_SCREENSHOTS = {"<script>alert(1)</script>": "script", "line\nbreak": "newline"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("hostile") / "logs"
    return str(logdir), write_hostile_logdir(str(logdir))


@pytest.fixture(scope="module", params=[(), ("--load_fast=false",)],
                ids=["default-loader", "python-loader"])
def base(request, hostile, tmp_path_factory):
    cache = tmp_path_factory.mktemp("hostile_cache")
    with running_tensorboard(hostile[0], *request.param, "--rnn_hidden_precompute=none",
                             "--rnn_hidden_cache_dir", str(cache)) as url:
        yield url


def _options(frame, select, expected):
    """[[value, text]] of a <select>'s options, once they are `expected` (or the timeout)."""
    deadline = time.time() + TIMEOUT_MS / 1000
    while True:
        options = frame.locator("%s option" % select).evaluate_all(
            "options => options.map(o => [o.value, o.textContent])")
        if options == expected or time.time() > deadline:
            return options
        frame.page.wait_for_timeout(50)


def _first_row_text(data):
    """The tokens cell of sequence 0 in the table (at most 12 tokens, then an ellipsis)."""
    length = data["lengths"][0]
    words = [str(w) for w in data["tokens"][0, : min(12, length)]]
    return " ".join(words) + (" …" if length > 12 else "")


_SNAPSHOT = """() => {
  const text = (id) => document.getElementById(id)?.textContent ?? null;
  const views = document.getElementById("views"), message = document.getElementById("message");
  return {step: text("step-label"), sequences: text("overview-sequences"),
          ready: !!views && !views.hidden && !views.hasAttribute("aria-busy"),
          message: message && !message.hidden ? message.textContent : null};
}"""


def _shows(frame, step, n):
    """None once the tab shows the checkpoint at `step` with `n` sequences; else what it shows.

    An error message may be left from the checkpoint before until this one
    loads, so only the timeout decides that this one failed.
    """
    deadline = time.time() + TIMEOUT_MS / 1000
    expected = {"step": "step %d (1 of 1)" % step, "sequences": "%d sequences" % n,
                "ready": True, "message": None}
    while True:
        shown = frame.evaluate(_SNAPSHOT)
        if shown == expected:
            return None
        if time.time() > deadline:
            return shown
        frame.page.wait_for_timeout(50)


def _assert_drawn(frame, run, tag, step, n):
    """The table (with tokens) and the projection of the checkpoint, and the names as text."""
    data = checkpoint_of(step, n)
    rows = frame.locator("#sequence-table tbody tr[data-index]")
    expect(rows).to_have_count(n)
    assert rows.first.locator("td").nth(1).text_content() == _first_row_text(data)
    area = frame.locator("#projection-area")
    expect(area).to_have_attribute("data-state", "ready")
    expect(area).to_have_attribute("data-points", str(int(np.sum(data["lengths"]))))
    expect(frame.locator("#message")).to_be_hidden()
    checked = frame.locator("#run-select option:checked, #tag-select option:checked")
    assert checked.evaluate_all("os => os.map(o => o.textContent)") == [run, tag]


def test_every_hostile_run_and_tag_is_listed_drawn_and_inert(browser, base, hostile, request):
    _, pairs = hostile
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    events = BrowserEvents(page)
    page.goto(base + "/" + START_HASH)
    frame = plugin_frame(page)
    runs = sorted({run for run, *_ in pairs})
    expected = [[run, run] for run in runs]
    assert _options(frame, "#run-select", expected) == expected

    unreadable = []
    for run, tag, step, n in pairs:
        frame.locator("#run-select").select_option(value=run)
        expected = [[t, t] for t in sorted(t for r, t, *_ in pairs if r == run)]
        assert _options(frame, "#tag-select", expected) == expected
        frame.locator("#tag-select").select_option(value=tag)
        shown = _shows(frame, step, n)
        if shown is not None:
            unreadable.append((run, tag, shown))
            continue
        _assert_drawn(frame, run, tag, step, n)
        if tag != "lstm" and run in _SCREENSHOTS:
            screenshot(page, "hostile_names_%s_%s.png" % (request.node.callspec.id,
                                                          _SCREENSHOTS[run]))

    page.wait_for_timeout(300)  # an <img src=x onerror=...> would have fired by now
    print("\n%s: %d of %d hostile run x tag pairs drawn" % (
        request.node.callspec.id, len(pairs) - len(unreadable), len(pairs)))
    assert unreadable == []
    # Nothing a name holds became an element, in the frame or in TensorBoard's page.
    assert frame.locator("img, b").count() == 0
    for target in (frame, page.main_frame):
        assert target.locator("img[src=x]").count() == 0
        assert target.locator("script").evaluate_all(
            "ss => ss.filter(s => s.textContent.includes('alert(')).length") == 0
    assert events.dialogs == []
    assert events.page_errors == []
    assert events.console_errors == []
    assert events.bad_responses == []
    page.close()


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q", "-s"]))
