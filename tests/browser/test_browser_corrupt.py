"""In a real browser: checkpoints the tab cannot draw, among ones it can.

A real `tensorboard` serves a run whose steps 1-3 are a record with a flipped
byte, a forged one (labels outside the classes) and one of a newer format.
For each the tab says, where the views would be, which step cannot be shown
and the server's reason; the controls keep working and the good steps draw.
"""

import pytest
from playwright.sync_api import expect

from tb_rnn_hidden import writer
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata
from tests.support.browser import TIMEOUT_MS, BrowserEvents, plugin_frame, screenshot
from tests.support.checkpoints import make_checkpoint
from tests.support.records import flip_byte, forge, raw_summary
from tests.support.tensorboard_process import running_tensorboard

expect.set_options(timeout=TIMEOUT_MS)

# step -> (what the tab must say, words of the server's reason)
BROKEN = {
    1: "blob 'states' fails its checksum",
    2: "labels[0] is 99",
    3: "format version 4",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("browser_corrupt") / "logs"
    run = str(logdir / "train")
    good = {step: make_checkpoint(seed=step, n=4 + step) for step in (0, 4)}
    flipped = flip_byte(codec.encode_checkpoint(**make_checkpoint(seed=1)), metadata.BLOB_STATES)
    labels = make_checkpoint(seed=2)["labels"].astype("<i4")
    labels[0] = 99
    with writer.HiddenStateWriter(run) as w:  # one file: steps in order
        w.add("lstm", step=0, **good[0])
        w.add_summary(raw_summary("lstm", flipped), 1)
        w.add_summary(raw_summary("lstm", forge(data=make_checkpoint(seed=2), labels=labels)), 2)
        w.add_summary(raw_summary("lstm", forge({"version": 4})), 3)
        w.add("lstm", step=4, **good[4])
    cache = tmp_path_factory.mktemp("browser_corrupt_cache")
    with running_tensorboard(str(logdir), "--rnn_hidden_precompute=none",
                             "--rnn_hidden_cache_dir", str(cache)) as url:
        yield url


def test_a_checkpoint_that_cannot_be_drawn_is_named_and_the_others_still_draw(browser, base):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    events = BrowserEvents(page)
    try:
        page.goto(base + "/#rnn_hidden&rh_run=train&rh_tag=lstm&rh_step=1&rh_p_method=pca")
        frame = plugin_frame(page)
        error = frame.locator("#checkpoint-error")
        views = frame.locator("#views")
        label = frame.locator("#step-label")
        slider = frame.locator("#step-slider")

        for step, reason in BROKEN.items():
            expect(label).to_have_text("step %d (%d of 5)" % (step, step + 1))
            expect(error).to_be_visible()
            expect(error).to_contain_text('Step %d of run "train", tag "lstm" cannot be shown' % step)
            expect(error).to_contain_text(reason)
            expect(error).to_have_attribute("role", "alert")
            expect(views).to_be_hidden()
            screenshot(page, "browser_corrupt_step%d.png" % step)
            slider.press("ArrowRight")

        # The next good step draws, and so does the first one: the tab kept working.
        expect(label).to_have_text("step 4 (5 of 5)")
        expect(error).to_be_hidden()
        expect(views).to_be_visible()
        expect(frame.locator("#overview-sequences")).to_have_text("8 sequences")
        slider.press("Home")
        expect(label).to_have_text("step 0 (1 of 5)")
        expect(frame.locator("#overview-sequences")).to_have_text("4 sequences")
        expect(error).to_be_hidden()
        screenshot(page, "browser_corrupt_good_step.png")

        assert events.page_errors == []
        assert events.dialogs == []
        # Chromium logs each refused route as a failed load; only those, with these statuses.
        assert {status for status, _ in events.bad_responses} == {500, 422}
        refused = {url for _, url in events.bad_responses}
        assert all("step=1" in u or "step=2" in u or "step=3" in u for u in refused), refused
        assert [e for e in events.console_errors if e[1] not in refused] == []
    finally:
        page.close()
