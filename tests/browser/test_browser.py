"""In a real browser: the plugin's tab in TensorBoard's own UI, against a real `tensorboard`.

Drives the system Chromium (Debian's `chromium` package) with Playwright; CI
installs it, and Playwright cannot download its own browsers here. Logs are
written with the real summary path (`summary.hidden_states_pb` through
`writer.HiddenStateWriter`) and served by a `tensorboard` process; the plugin
frontend is the bundle `pip install` built into `tb_rnn_hidden/static/`.

Screenshots of every state land in `test-artifacts/` at the repository root.
"""

import json
import re
import time
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tb_rnn_hidden import writer
from tests.support.browser import (
    FRAME_URL,
    TIMEOUT_MS,
    FLIP_THRESHOLD,
    BrowserEvents,
    flip_step,
    layout_code,
    plugin_frame,
    projection_params,
    require_chromium,
    screenshot,
)
from tests.support.checkpoints import make_checkpoint
from tests.support.tensorboard_process import http_get, running_tensorboard

TAB_NAME = "RNN Hidden States"

MARKUP_RUN = "<img src=x onerror=alert(1)>"
MARKUP_TAG = "<img src=y onerror=alert(2)>"
CLASS_NAMES = ["neg", "<b>bold</b>", "pos"]
GRU_DESCRIPTION = "Second layer, <b>bold</b> <img src=z onerror=alert(3)>"

# (run, tag) -> {step: (sequences N, state size H)}. Every checkpoint has its own
# N, so "N sequences" in the summary tells which checkpoint the page shows.
LAYOUT = {
    ("train", "lstm"): {0: (4, 5), 10: (6, 5), 20: (8, 5)},
    ("train", "gru"): {0: (3, 7), 20: (5, 7)},
    (MARKUP_RUN, MARKUP_TAG): {5: (7, 4)},
}
expect.set_options(timeout=TIMEOUT_MS)


def _checkpoint(run, tag, step):
    n, h = LAYOUT[run, tag][step]
    data = make_checkpoint(seed=step * 7 + h, n=n, h=h)
    data["class_names"] = CLASS_NAMES
    data["labels"][0] = 1  # "<b>bold</b>" is in every table
    return data


def _expected(data):
    """The overview facts and table rows the frontend should show for `data`."""
    lengths, labels, probabilities = data["lengths"], data["labels"], data["probabilities"]
    n = len(lengths)
    final = probabilities[np.arange(n), lengths - 1].astype(np.float32)
    predictions = final.argmax(axis=1)
    confidences = final.max(axis=1)
    accuracy = float((predictions == labels).mean())
    facts = {
        "#overview-accuracy": "accuracy %.1f%%" % (accuracy * 100),
        "#overview-sequences": "%d sequences" % n,
        "#overview-correct": "%d correct" % int((predictions == labels).sum()),
    }
    rows = []
    for i in range(n):
        words = [str(w) for w in data["tokens"][i, : min(12, lengths[i])]]
        text = " ".join(words) + (" …" if lengths[i] > 12 else "")
        shown = probabilities[i, : lengths[i]]
        flip = flip_step(shown.argmax(axis=1), shown, FLIP_THRESHOLD)
        rows.append([
            str(i), text, CLASS_NAMES[labels[i]], CLASS_NAMES[predictions[i]],
            "✓" if labels[i] == predictions[i] else "✗", "%.2f" % float(confidences[i]),
            str(flip) if flip else "", str(lengths[i]),
        ])
    wrong = [bool(labels[i] != predictions[i]) for i in range(n)]
    return facts, rows, wrong


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """{(run, tag, step): arrays}, as written to the module's logdir."""
    logdir = tmp_path_factory.mktemp("browser") / "logs"
    written = {}
    for run in sorted({run for run, _ in LAYOUT}):
        with writer.HiddenStateWriter(str(logdir / run)) as w:
            series = sorted(
                (step, tag) for (r, tag), steps in LAYOUT.items() if r == run for step in steps
            )
            for step, tag in series:
                data = _checkpoint(run, tag, step)
                description = GRU_DESCRIPTION if tag == "gru" else None
                w.add(tag, step=step, description=description, **data)
                written[run, tag, step] = data
    return str(logdir), written


@pytest.fixture(scope="module")
def tensorboard(checkpoints, tmp_path_factory):
    logdir, _ = checkpoints
    # No background projection: these tests are about the tab's data, not its layouts.
    cache = tmp_path_factory.mktemp("browser_cache")
    with running_tensorboard(logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache)) as base:
        yield base


class TensorBoardTab:
    """One browser page on TensorBoard's UI with the plugin tab selected.

    Shared by the tests of this module (one TensorBoard UI load, not one per
    test); `events` collect what the page and its frames reported since it opened.
    """

    def __init__(self, browser, base):
        self.base = base
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.events = BrowserEvents(self.page)

    def plugin_frame(self, fresh=False):
        """The plugin's iframe once its app has rendered; `fresh`: as on first opening."""
        if self.page.url == "about:blank":
            self.page.goto(self.base + "/#rnn_hidden")
        elif fresh:
            self.page.reload()
        deadline = time.time() + TIMEOUT_MS / 1000
        while True:
            frames = [f for f in self.page.frames if FRAME_URL in f.url]
            if frames:
                break
            assert time.time() < deadline, "no frame %r in %s" % (
                FRAME_URL, [f.url for f in self.page.frames])
            self.page.wait_for_timeout(50)
        (frame,) = frames
        expect(frame.locator("#rnn-hidden-app")).to_be_attached()
        expect(frame.locator("#run-select")).to_be_visible()
        return frame

    def iframe(self):
        """The plugin's <iframe> element in TensorBoard's page."""
        return self.page.locator("iframe[src*='%s']" % FRAME_URL)


@pytest.fixture(scope="module")
def tb(browser, tensorboard):
    tab = TensorBoardTab(browser, tensorboard)
    yield tab
    tab.page.close()


def _select(frame, run, tag=None):
    frame.locator("#run-select").select_option(value=run)
    if tag is not None:
        frame.locator("#tag-select").select_option(value=tag)


def _assert_shows(frame, data):
    """The overview and table of checkpoint `data` (after waiting for it to load)."""
    facts, rows, wrong = _expected(data)
    # The sequence count tells checkpoints apart: wait for this one.
    expect(frame.locator("#overview-sequences")).to_have_text(facts["#overview-sequences"])
    expect(frame.locator("#views")).not_to_have_attribute("aria-busy", "true")
    for selector, text in facts.items():
        expect(frame.locator(selector)).to_have_text(text)
    expect(frame.locator("#message")).to_be_hidden()

    body_rows = frame.locator("#sequence-table tbody tr[data-index]")
    expect(body_rows).to_have_count(len(rows))
    cells = body_rows.evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert cells == rows
    marked = body_rows.evaluate_all("rows => rows.map(r => r.classList.contains('wrong'))")
    assert marked == wrong


def _live_checkpoint(step, n, h=5):
    """A checkpoint for the tests that log while TensorBoard runs: `n` sequences."""
    data = make_checkpoint(seed=1000 + step * 7 + n, n=n, h=h)
    data["class_names"] = CLASS_NAMES
    return data


def _log(run_dir, checkpoints):
    """Logs `{(tag, step): data}` as a training job would: a new writer, so a new event file."""
    with writer.HiddenStateWriter(str(run_dir)) as w:
        for (tag, step), data in sorted(checkpoints.items(), key=lambda item: item[0][1]):
            w.add(tag, step=step, **data)


class Requests:
    """Counts the plugin's requests by route (`tags`, `sequences`) on a page."""

    def __init__(self, page):
        self.urls = []
        page.on("request", lambda request: self.urls.append(request.url))

    def count(self, route):
        path = "/data/plugin/rnn_hidden/" + route
        return sum(url.split("?")[0].endswith(path) for url in self.urls)


def test_system_chromium_is_installed():
    require_chromium()


def test_plugin_tab_in_tensorboard_shows_the_latest_checkpoint(tb, checkpoints):
    _, written = checkpoints
    frame = tb.plugin_frame(fresh=True)  # the selection a user gets on opening the tab
    page = tb.page

    tab = page.get_by_role("tab", name=TAB_NAME)
    expect(tab).to_be_visible()  # in the tab bar itself, not a "more" menu, at 1280 px
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(page.locator('span.plugin-name[data-plugin-id="rnn_hidden"]')).to_have_text(TAB_NAME)
    expect(tb.iframe()).to_be_visible()

    runs = frame.locator("#run-select option")
    expect(runs).to_have_text(sorted([MARKUP_RUN, "train"]))
    # Opens on the first run (sorted: "<" before "t"), its first layer, latest checkpoint.
    expect(frame.locator("#run-select")).to_have_value(MARKUP_RUN)
    expect(frame.locator("#step-label")).to_have_text("step 5 (1 of 1)")
    _select(frame, "train")
    expect(frame.locator("#tag-select option")).to_have_text(["gru", "lstm"])
    expect(frame.locator("#tag-select")).to_have_value("gru")  # first layer, sorted
    _select(frame, "train", "lstm")
    expect(frame.locator("#step-label")).to_have_text("step 20 (3 of 3)")
    expect(frame.locator("#step-time")).not_to_be_empty()
    expect(frame.locator("#step-slider")).to_have_value("2")
    expect(frame.locator("#step-slider")).to_be_enabled()
    _assert_shows(frame, written["train", "lstm", 20])

    screenshot(page, "browser_tab.png")
    screenshot(tb.iframe(), "browser_frame.png")


def test_checkpoint_slider_changes_the_served_checkpoint(tb, checkpoints):
    _, written = checkpoints
    frame = tb.plugin_frame()
    _select(frame, "train", "lstm")
    slider = frame.locator("#step-slider")
    label = frame.locator("#step-label")
    slider.press("End")
    expect(label).to_have_text("step 20 (3 of 3)")

    slider.press("Home")  # keyboard, as a user would
    expect(label).to_have_text("step 0 (1 of 3)")
    expect(slider).to_have_value("0")
    _assert_shows(frame, written["train", "lstm", 0])
    screenshot(tb.iframe(), "browser_frame_step0.png")

    slider.press("ArrowRight")
    expect(label).to_have_text("step 10 (2 of 3)")
    _assert_shows(frame, written["train", "lstm", 10])

    slider.fill("2")
    expect(label).to_have_text("step 20 (3 of 3)")
    _assert_shows(frame, written["train", "lstm", 20])

    # Another layer keeps its own checkpoints.
    _select(frame, "train", "gru")
    expect(label).to_have_text("step 20 (2 of 2)")
    _assert_shows(frame, written["train", "gru", 20])
    expect(frame.locator("#tag-description")).to_contain_text("Second layer")
    slider.press("ArrowLeft")
    expect(label).to_have_text("step 0 (1 of 2)")
    _assert_shows(frame, written["train", "gru", 0])


def test_markup_in_names_is_shown_as_text(tb, checkpoints):
    _, written = checkpoints
    page = tb.page
    frame = tb.plugin_frame()

    _select(frame, MARKUP_RUN)
    expect(frame.locator("#tag-select option")).to_have_text([MARKUP_TAG])
    expect(frame.locator("#step-label")).to_have_text("step 5 (1 of 1)")
    expect(frame.locator("#step-slider")).to_be_disabled()
    _assert_shows(frame, written[MARKUP_RUN, MARKUP_TAG, 5])
    screenshot(tb.iframe(), "browser_frame_markup.png")

    expect(frame.locator("#run-select option:checked")).to_have_text(MARKUP_RUN)
    expect(frame.locator("#tag-select option:checked")).to_have_text(MARKUP_TAG)
    text = frame.locator("body").text_content()
    assert MARKUP_RUN in text and MARKUP_TAG in text and "<b>bold</b>" in text
    expect(frame.locator("#confusion-matrix thead th")).to_have_text(["", *CLASS_NAMES])
    expect(frame.locator("#sequence-table tbody td", has_text="<b>bold</b>").first).to_be_visible()

    # The layer description (Markdown as logged, with markup too) is shown as text.
    _select(frame, "train", "gru")
    expect(frame.locator("#tag-description")).to_have_text(GRU_DESCRIPTION)
    expect(frame.locator("#step-label")).to_have_text("step 20 (2 of 2)")
    _assert_shows(frame, written["train", "gru", 20])
    screenshot(tb.iframe(), "browser_frame_description.png")
    expect(frame.locator("#class-bars")).to_contain_text("<b>bold</b>")

    # Nothing from the data became an element, in the frame or in TensorBoard's page.
    outer_html = "els => els.map(e => e.outerHTML)"
    assert frame.locator("img, b").evaluate_all(outer_html) == []
    assert page.main_frame.locator(
        "img[src=x], img[src=y], img[src=z], b:text-is('bold')"
    ).evaluate_all(outer_html) == []
    page.wait_for_timeout(200)  # an <img src=x> would have failed to load by now
    assert tb.events.dialogs == []
    assert frame.evaluate("() => typeof window.alert") == "function"


def test_no_console_errors_in_tensorboard_or_the_plugin(tb, checkpoints):
    page = tb.page
    frame = tb.plugin_frame()
    _, written = checkpoints
    # Exercise every view once more, in case this test runs on its own.
    for run, tag, step in sorted(written, reverse=True):
        _select(frame, run, tag)
        steps = sorted(step for r, t, step in written if (r, t) == (run, tag))
        if len(steps) > 1:  # else the slider is disabled
            frame.locator("#step-slider").fill(str(steps.index(step)))
        _assert_shows(frame, written[run, tag, step])
    page.wait_for_timeout(300)
    tb.events.assert_clean()

    # The collector sees the plugin frame's errors: this check is not vacuous.
    tb.events.detach()  # the shared page's record stays clean for later tests
    probe = BrowserEvents(page)
    frame.evaluate(
        "() => { console.error('probe'); setTimeout(() => { throw new Error('boom'); }); }"
    )
    deadline = time.time() + TIMEOUT_MS / 1000
    while not (probe.console_errors and probe.page_errors) and time.time() < deadline:
        page.wait_for_timeout(50)
    assert [text for text, _ in probe.console_errors] == ["probe"]
    assert [error for error in probe.page_errors if "boom" in error] != []
    probe.detach()
    tb.events = BrowserEvents(page)


# New data must reach an open tab within this (tags poll 5 s + TensorBoard reload 1 s).
ARRIVAL_TIMEOUT_MS = 20_000


def test_checkpoints_logged_while_the_tab_is_open_appear_without_a_reload(browser, tmp_path_factory):
    """Training goes on while the user watches: new checkpoints, tags and runs appear.

    Own logdir and TensorBoard (its data changes), so the other tests' exact
    option lists and step counts are untouched, in any order.
    """
    logdir = tmp_path_factory.mktemp("browser_live") / "logs"
    first = {("lstm", 0): _live_checkpoint(0, n=4), ("lstm", 10): _live_checkpoint(10, n=6)}
    _log(logdir / "live", first)
    cache = tmp_path_factory.mktemp("browser_live_cache")
    with running_tensorboard(str(logdir), "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache)) as base:
        tab = TensorBoardTab(browser, base)
        requests = Requests(tab.page)
        try:
            _check_live_updates(tab, requests, logdir, first)
        finally:
            tab.page.close()


def _check_live_updates(tab, requests, logdir, first):
    frame = tab.plugin_frame()
    slider = frame.locator("#step-slider")
    label = frame.locator("#step-label")
    expect(frame.locator("#run-select option")).to_have_text(["live"])
    expect(frame.locator("#tag-select option")).to_have_text(["lstm"])
    expect(label).to_have_text("step 10 (2 of 2)")  # the latest checkpoint
    expect(slider).to_have_attribute("max", "1")
    _assert_shows(frame, first["lstm", 10])
    frame.evaluate("() => { window.__sameDocument = true; }")  # gone if the frame reloads
    sequences_before = requests.count("sequences")
    tags_before = requests.count("tags")

    # Training logs on, in new event files: a later checkpoint with more sequences,
    # a new layer, and a new run that sorts first (it must not take the selection).
    later = {("lstm", 20): _live_checkpoint(20, n=9), ("gru", 20): _live_checkpoint(20, n=3, h=7)}
    _log(logdir / "live", later)
    other = {("lstm", 5): _live_checkpoint(5, n=2)}
    _log(logdir / "eval", other)

    # The user was on the latest checkpoint: the view stays there, the range grows.
    expect(label).to_have_text("step 10 (2 of 3)", timeout=ARRIVAL_TIMEOUT_MS)
    expect(slider).to_have_attribute("max", "2")
    expect(slider).to_have_value("1")
    expect(frame.locator("#tag-select option")).to_have_text(
        ["gru", "lstm"], timeout=ARRIVAL_TIMEOUT_MS)
    expect(frame.locator("#run-select option")).to_have_text(
        ["eval", "live"], timeout=ARRIVAL_TIMEOUT_MS)
    expect(frame.locator("#run-select")).to_have_value("live")
    expect(frame.locator("#tag-select")).to_have_value("lstm")
    _assert_shows(frame, first["lstm", 10])
    assert frame.evaluate("() => window.__sameDocument") is True
    # Polling refetched `tags` but not the checkpoint on show, which did not change.
    assert requests.count("tags") > tags_before
    assert requests.count("sequences") == sequences_before
    screenshot(tab.iframe(), "browser_frame_live.png")

    # The new checkpoint, layer and run show their own data.
    slider.press("End")
    expect(label).to_have_text("step 20 (3 of 3)")
    _assert_shows(frame, later["lstm", 20])
    _select(frame, "live", "gru")
    expect(label).to_have_text("step 20 (1 of 1)")
    _assert_shows(frame, later["gru", 20])
    _select(frame, "eval")
    expect(frame.locator("#tag-select option")).to_have_text(["lstm"])
    expect(label).to_have_text("step 5 (1 of 1)")
    _assert_shows(frame, other["lstm", 5])

    # A failing poll is reported, the view stays; the next good poll clears it.
    tags_url = tab.base + "/data/plugin/rnn_hidden/tags"
    failing = lambda route: route.fulfill(  # noqa: E731
        status=500, content_type="application/json", body='{"error": "tags unavailable"}')
    tab.page.route(tags_url, failing)
    message = frame.locator("#message")
    expect(message).to_have_text(
        "Could not refresh the list of checkpoints: tags unavailable", timeout=ARRIVAL_TIMEOUT_MS)
    expect(message).to_have_attribute("data-kind", "error")
    expect(message).to_have_attribute("role", "alert")
    expect(frame.locator("#run-select")).to_be_visible()
    expect(frame.locator("#run-select")).to_have_value("eval")
    expect(label).to_have_text("step 5 (1 of 1)")
    expect(frame.locator("#overview-sequences")).to_have_text("2 sequences")
    screenshot(tab.iframe(), "browser_frame_poll_error.png")
    tab.page.unroute(tags_url, failing)
    expect(message).to_be_hidden(timeout=ARRIVAL_TIMEOUT_MS)
    _assert_shows(frame, other["lstm", 5])
    assert frame.evaluate("() => window.__sameDocument") is True

    # The 500s this test made are logged by Chromium as failed loads; nothing else is allowed.
    tab.events.assert_clean(ignore_urls=(tags_url,))
    assert {status for status, url in tab.events.bad_responses} <= {500}


def test_empty_logdir_shows_the_no_data_message(browser, tmp_path_factory):
    logdir = tmp_path_factory.mktemp("browser_empty") / "logs"
    logdir.mkdir()
    cache = tmp_path_factory.mktemp("browser_empty_cache")
    with running_tensorboard(str(logdir), "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache),
                             wait_for_plugin_data=False) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        events = BrowserEvents(page)
        try:
            page.goto(base + "/data/" + FRAME_URL)
            message = page.locator("#message")
            expect(message).to_be_visible()
            expect(message).to_contain_text("No hidden-state data was found")
            expect(message).to_have_attribute("data-kind", "info")
            expect(page.locator("#run-select")).to_be_hidden()
            expect(page.locator("#sequence-table tbody tr")).to_have_count(0)
            screenshot(page, "browser_empty.png")

            # Data logged later makes the controls appear, without a reload.
            data = _live_checkpoint(3, n=5)
            _log(logdir / "late", {("lstm", 3): data})
            expect(page.locator("#run-select")).to_be_visible(timeout=ARRIVAL_TIMEOUT_MS)
            expect(page.locator("#run-select option")).to_have_text(["late"])
            expect(page.locator("#step-label")).to_have_text("step 3 (1 of 1)")
            _assert_shows(page, data)
            screenshot(page, "browser_empty_then_data.png")
            # Opened as a top-level page (TensorBoard embeds it in an iframe), the
            # entry page makes Chromium ask for /favicon.ico, which TensorBoard
            # does not serve (its UI links its icon elsewhere): a 404 that is no
            # fault of the plugin. Nothing else is ignored.
            events.assert_clean(ignore_urls=(base + "/favicon.ico",))
        finally:
            page.close()


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))


# ---- The tab's own state: TensorBoard's URL, its theme, play and the projection job.
# A logdir of its own: the same 12 sequences at every checkpoint (so a selection
# carries over), and one large checkpoint whose t-SNE runs long enough to watch
# and cancel.
CORE_STEPS = (0, 1, 2)
CORE_N = 12
CORE_LENGTHS = make_checkpoint(seed=300, n=CORE_N, t=8, h=6)["lengths"]  # one probe set at every step
# The t-SNE perplexity the tab sends for these few points: the largest below P / 3.
PERPLEXITY = min(30, max(2, (int(CORE_LENGTHS.sum()) - 1) // 3))
BIG_N, BIG_T = 1500, 20
CORE_HASH = "#rnn_hidden&rh_run=train&rh_tag=lstm&rh_p_method=pca"


@pytest.fixture(scope="module")
def core_base(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("browser_core") / "logs"
    with writer.HiddenStateWriter(str(logdir / "train")) as w:
        lengths = CORE_LENGTHS
        for step in CORE_STEPS:
            data = make_checkpoint(seed=300 + step, n=CORE_N, t=8, h=6)
            data["lengths"] = lengths  # one probe set, as training logs it
            w.add("lstm", step=step, **data)
        w.add("zz_big", step=2, **make_checkpoint(seed=400, n=BIG_N, t=BIG_T, h=16))
    # A cache of its own: a layout stored by an earlier run would be served instead of computed; and no
    # background projection: the tests below say exactly which layouts exist and how they were aligned.
    cache = tmp_path_factory.mktemp("browser_core_cache")
    with running_tensorboard(str(logdir), "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache)) as base:
        yield base


def _open(browser, base, hash_=CORE_HASH, **page_options):
    """A new page on TensorBoard at `hash_`; (page, events, plugin frame)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800}, **page_options)
    events = BrowserEvents(page)
    page.goto(base + "/" + hash_)
    return page, events, plugin_frame(page)


def _hash_state(page):
    """TensorBoard's URL hash: (plugin id, {rh_* key: value})."""
    head, *pairs = page.evaluate("() => location.hash").lstrip("#").split("&")
    return head, dict(urllib.parse.unquote(p).split("=", 1) for p in pairs if "=" in p)


def _layout(base, step, tag="lstm", **params):
    """The `rh_layout` code of the served, done layout of `step` with `params`."""
    query = urllib.parse.urlencode(dict(run="train", tag=tag, step=step, **params))
    status = json.loads(http_get(base + "/data/plugin/rnn_hidden/projection?" + query)[2])
    assert status["state"] == "done", status
    return layout_code(status)


def _wait_done(frame, timeout=60_000):
    expect(frame.locator("#projection-job-status")).to_have_attribute("data-state", "done", timeout=timeout)
    expect(frame.locator("#projection-job-status")).to_contain_text("done", timeout=timeout)


def test_a_reload_restores_the_view_from_tensorboards_url(browser, core_base):
    page, events, frame = _open(browser, core_base)
    try:
        _wait_done(frame)
        frame.locator("#step-slider").fill("1")
        expect(frame.locator("#step-label")).to_have_text("step 1 (2 of 3)")
        frame.locator("#sequence-table tbody tr[data-index='4']").click()
        expect(frame.locator("#input-caption")).to_contain_text("Sequence 4:")
        frame.locator("#projection-color-by").select_option(value="time")
        expect(frame.locator("#projection-seed")).to_be_hidden()  # not a parameter of PCA
        frame.locator("#projection-metric").select_option(value="cosine")
        frame.locator("#projection-apply").click()
        _wait_done(frame)
        served = _layout(core_base, 1, method="pca", metric="cosine", align="neighbor")
        # The final layout shown is in the URL too (written once it is drawn).
        page.wait_for_function("() => location.hash.includes('rh_layout=')")
        head, state = _hash_state(page)
        assert head == "rnn_hidden"
        assert state == {
            "rh_run": "train", "rh_tag": "lstm", "rh_step": "1", "rh_sel": "4", "rh_focus": "4",
            "rh_color": "time", "rh_p_method": "pca", "rh_p_metric": "cosine", "rh_layout": served,
        }

        # A real reload: TensorBoard's router keeps the keys after its plugin id.
        page.reload()
        frame = plugin_frame(page)
        expect(page.get_by_role("tab", name=TAB_NAME)).to_have_attribute("aria-selected", "true")
        expect(frame.locator("#step-label")).to_have_text("step 1 (2 of 3)")
        expect(frame.locator("#tag-select")).to_have_value("lstm")
        expect(frame.locator("#input-caption")).to_contain_text("Sequence 4:")
        expect(frame.locator("#sequence-table tbody tr[data-index='4']")).to_have_attribute("aria-selected", "true")
        expect(frame.locator("#projection-color-by")).to_have_value("time")
        expect(frame.locator("#projection-method")).to_have_value("pca")
        expect(frame.locator("#projection-metric")).to_have_value("cosine")
        _wait_done(frame)
        page.wait_for_function("() => location.hash.includes('rh_layout=')")
        assert _hash_state(page) == (head, state)
        # The same layout as the link's: nothing to say about it.
        expect(frame.locator("#projection-link-notice")).to_be_empty()
        screenshot(page, "browser_url_restored.png")

        # A link whose layout differs from the one this server has for that checkpoint says so.
        other = state["rh_layout"].split(":")
        other[-1] = "0.123"
        page.goto("about:blank")
        page.goto(core_base + "/#" + "&".join(
            [head] + ["%s=%s" % (k, urllib.parse.quote(v)) for k, v in dict(state, rh_layout=":".join(other)).items()]))
        frame = plugin_frame(page)
        _wait_done(frame)
        notice = frame.locator("#projection-link-notice")
        expect(notice).to_contain_text("The link was shared with another layout of step 1 (PCA")
        expect(notice).to_contain_text("trustworthiness 0.123); this server shows PCA")
        screenshot(frame.locator("#projection-panel"), "browser_link_layout_differs.png")
        frame.locator("#step-slider").press("ArrowRight")  # looking elsewhere: the notice goes
        expect(notice).to_be_empty()

        # A link pasted into the open tab is followed without a reload.
        frame.evaluate("() => { window.__sameDocument = true; }")
        page.goto(core_base + "/#rnn_hidden&rh_run=train&rh_tag=lstm&rh_step=0&rh_sel=2,7&rh_focus=7")
        expect(frame.locator("#step-label")).to_have_text("step 0 (1 of 3)")
        expect(frame.locator("#input-caption")).to_contain_text("Sequence 7:")
        expect(frame.locator("#projection-color-by")).to_have_value("prediction")
        expect(frame.locator("#projection-method")).to_have_value("tsne")
        assert frame.evaluate("() => window.__sameDocument") is True
        frame.locator("#projection-method").select_option(value="pca")
        frame.locator("#projection-apply").click()
        _wait_done(frame)
        # A bare `#rnn_hidden` (TensorBoard's router on a tab click) gets the view written back.
        page.evaluate("() => { location.hash = '#rnn_hidden'; }")
        expect(page).to_have_url(re.compile(r"#rnn_hidden&.*rh_focus=7"))
        expect(frame.locator("#input-caption")).to_contain_text("Sequence 7:")

        # A link with keys that do not exist falls back to what does, and rewrites the URL.
        page.goto("about:blank")
        page.goto(core_base + "/#rnn_hidden&rh_run=nope&rh_step=99&rh_sel=1,x,500&rh_p_method=bogus")
        frame = plugin_frame(page)
        expect(frame.locator("#step-label")).to_have_text("step 2 (3 of 3)")
        expect(frame.locator("#tag-select")).to_have_value("lstm")
        expect(frame.locator("#input-caption")).to_contain_text("Sequence 1:")
        expect(frame.locator("#projection-method")).to_have_value("tsne")
        page.wait_for_timeout(300)
        _, state = _hash_state(page)
        assert (state["rh_run"], state["rh_step"], state["rh_sel"]) == ("train", "2", "1")
        events.assert_clean()
    finally:
        page.close()


def test_play_steps_through_aligned_checkpoints_and_keeps_the_selection(browser, core_base):
    # The form says "no alignment"; playing aligns anyway, so that layouts follow each other.
    # t-SNE with seed 7: parameters no other test lays out, so no earlier layout is aligned to.
    page, events, frame = _open(browser, core_base, "#rnn_hidden&rh_run=train&rh_tag=lstm&rh_step=0&rh_p_align=none&rh_p_seed=7")
    projections = []
    # Job starts (POST /projection, a JSON body) and polls (GET /projection?...).
    page.on("request", lambda r: projections.append(projection_params(r))
            if urllib.parse.urlsplit(r.url).path.endswith("/rnn_hidden/projection") else None)
    try:
        expect(frame.locator("#step-label")).to_have_text("step 0 (1 of 3)")
        expect(frame.locator("#projection-align")).not_to_be_checked()
        _wait_done(frame)
        frame.locator("#sequence-table tbody tr[data-index='3']").click()
        del projections[:]
        started = time.time()
        frame.locator("#play-button").click()
        expect(frame.locator("#play-button")).to_have_attribute("aria-pressed", "true")
        expect(frame.locator("#step-label")).to_have_text("step 1 (2 of 3)", timeout=30_000)
        expect(frame.locator("#step-label")).to_have_text("step 2 (3 of 3)", timeout=30_000)
        expect(frame.locator("#play-button")).to_have_attribute("aria-pressed", "false", timeout=30_000)
        # Each checkpoint stayed on screen about PLAY_DWELL_MS (1.5 s) once drawn.
        assert time.time() - started > 2 * 1.4
        expect(frame.locator("#step-label")).to_have_text("step 2 (3 of 3)")
        _wait_done(frame)
        # The selection (same sequences at every checkpoint) came along.
        expect(frame.locator("#input-caption")).to_contain_text("Sequence 3:")

        played = [(int(q["step"]), q["align"]) for q in projections if q.get("seed") == "7"]
        assert played, projections
        assert {align for _, align in played} == {"neighbor"}, played
        first_seen = list(dict.fromkeys(step for step, _ in played))
        assert first_seen == [0, 1, 2]  # requested in step order
        # Play laid step 0 out again with alignment (its layout had none), and each later
        # checkpoint aligned to the one before.
        for step, aligned_to in ((0, None), (1, 0), (2, 1)):
            status = json.loads(http_get(
                core_base + "/data/plugin/rnn_hidden/projection?run=train&tag=lstm&step=%d"
                "&method=tsne&perplexity=%d&seed=7&align=neighbor" % (step, PERPLEXITY))[2])
            assert (status["state"], status["aligned_to"]) == ("done", aligned_to)
        expect(frame.locator("#projection-job-status")).to_contain_text("aligned to step 1")
        expect(frame.locator("#projection-layout")).to_contain_text("t-SNE of step 2 (perplexity %d, seed 7)" % PERPLEXITY)
        expect(frame.locator("#projection-layout")).to_contain_text("aligned to step 1")
        assert _hash_state(page)[1]["rh_p_align"] == "none"  # the form's choice is unchanged
        events.assert_clean()
    finally:
        page.close()


def test_projection_progress_cancel_and_reprojection(browser, core_base):
    page, events, frame = _open(browser, core_base, CORE_HASH.replace("lstm", "zz_big"))
    try:
        expect(frame.locator("#overview-sequences")).to_have_text("%d sequences" % BIG_N)
        _wait_done(frame)
        # Every state the job status went through, as the page showed it.
        frame.evaluate("""() => {
          const status = document.querySelector('#projection-job-status');
          const bar = document.querySelector('#projection-bar');
          window.__seen = [];
          new MutationObserver(() => window.__seen.push([status.dataset.state, bar.hidden, bar.value, status.textContent]))
            .observe(status, { attributes: true, childList: true, characterData: true, subtree: true });
        }""")
        frame.locator("#projection-method").select_option(value="tsne")
        frame.locator("#projection-iterations").fill("5000")
        frame.locator("#projection-apply").click()
        bar = frame.locator("#projection-bar")
        expect(bar).to_be_visible(timeout=30_000)
        expect(frame.locator("#projection-job-status")).to_contain_text(" s", timeout=30_000)
        expect(frame.locator("#projection-cancel")).to_be_visible()
        screenshot(page, "browser_projection_progress.png")
        frame.locator("#projection-cancel").click()
        expect(frame.locator("#projection-job-status")).to_have_attribute("data-state", "cancelled", timeout=30_000)
        expect(frame.locator("#projection-job-status")).to_have_text("cancelled")
        expect(bar).to_be_hidden()
        expect(frame.locator("#projection-retry")).to_be_visible()
        seen = frame.evaluate("() => window.__seen")
        assert any(state in ("queued", "running") and not hidden for state, hidden, _, _ in seen), seen
        # The page stopped polling: a `projection` request after a cancel would start the job again.
        page.wait_for_timeout(1_500)
        status = json.loads(http_get(
            core_base + "/data/plugin/rnn_hidden/projection/points?run=train&tag=zz_big&step=2"
            "&method=tsne&iterations=5000&align=neighbor")[2])
        assert status["state"] in ("none", "cancelled"), status

        # Another method from the form: PCA, computed and drawn.
        frame.locator("#projection-method").select_option(value="pca")
        frame.locator("#projection-apply").click()
        _wait_done(frame)
        expect(frame.locator("#projection-area")).to_have_attribute("data-state", "ready")
        assert _hash_state(page)[1]["rh_p_method"] == "pca"

        # A t-SNE that runs to its end on the small layer: progress, then done and drawn.
        frame.locator("#tag-select").select_option(value="lstm")
        expect(frame.locator("#overview-sequences")).to_have_text("%d sequences" % CORE_N)
        _wait_done(frame)
        frame.evaluate("() => { window.__seen = []; }")
        frame.locator("#projection-method").select_option(value="tsne")
        frame.locator("#projection-iterations").fill("300")
        frame.locator("#projection-apply").click()
        _wait_done(frame, timeout=120_000)
        expect(frame.locator("#projection-area")).to_have_attribute("data-state", "ready")
        seen = frame.evaluate("() => window.__seen")
        states = [state for state, _, _, _ in seen]
        assert states[-1] == "done" and set(states) & {"queued", "running"}, seen
        screenshot(page, "browser_projection_done.png")
        events.assert_clean()
    finally:
        page.close()


def test_tensorboards_dark_mode_menu_themes_the_tab(browser, core_base):
    page, events, frame = _open(browser, core_base)
    try:
        _wait_done(frame)
        html = frame.locator("html")
        expect(html).to_have_attribute("data-theme", "light")
        light = frame.evaluate("() => getComputedStyle(document.body).backgroundColor")
        # TensorBoard's own theme menu, as a user switches it.
        page.get_by_role("button", name="Menu for changing light or dark theme").click()
        page.get_by_role("menuitem", name="Dark").click()
        expect(page.locator("body")).to_have_class(re.compile(r"\bdark-mode\b"))
        expect(html).to_have_attribute("data-theme", "dark")
        dark = frame.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert (light, dark) == ("rgb(245, 245, 245)", "rgb(32, 33, 36)")
        fg = frame.evaluate("() => getComputedStyle(document.querySelector('#overview-panel')).color")
        assert fg == "rgb(232, 234, 237)"
        page.wait_for_timeout(300)  # canvases redraw on the theme change
        screenshot(page, "browser_dark.png")
        # TensorBoard keeps the choice (once it has stored it); so does the tab after a reload.
        page.wait_for_function(
            "() => (localStorage.getItem('_tb_global_settings') || '').includes('\"theme\":\"dark\"')")
        page.reload()
        expect(page.locator("body")).to_have_class(re.compile(r"\bdark-mode\b"))
        frame = plugin_frame(page)
        expect(frame.locator("html")).to_have_attribute("data-theme", "dark")
        page.get_by_role("button", name="Menu for changing light or dark theme").click()
        page.get_by_role("menuitem", name="Light").click()
        expect(frame.locator("html")).to_have_attribute("data-theme", "light")
        events.assert_clean()
    finally:
        page.close()

    # Outside TensorBoard (the entry page opened alone): the system preference.
    page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme="dark")
    try:
        page.goto(core_base + "/data/plugin_entry.html?name=rnn_hidden")
        expect(page.locator("#run-select")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        page.emulate_media(color_scheme="light")
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
    finally:
        page.close()
