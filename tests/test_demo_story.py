"""The issue's "done when", end to end: the demo's real logs, a real `tensorboard`, Chromium.

A new user opens the address the demo prints, picks a checkpoint, finds a
misclassified sequence, sees where its prediction flipped in the text, the
heat map and the projection, and plays the projection through training. The
logs come from `demo/train.py --quick` (a real Keras LSTM trained on the
generated review language); the projection is the default one (t-SNE, aligned
to the neighbouring checkpoint). Every expectation is computed here from the
served arrays, not read back from the page under test.
"""

import json
import os
import subprocess
import sys
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tensorboard_process import http_get, running_tensorboard
from browser_support import (  # noqa: F401  (browser is a fixture)
    BrowserEvents,
    browser,
    flip_step,
    plugin_frame,
    screenshot,
)

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo", "train.py")
RUN, TAG = "generated", "lstm"
# A t-SNE of a few thousand points, computed while the test waits (CI machines are slow).
PROJECTION_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def demo_logdir(tmp_path_factory):
    logdir = str(tmp_path_factory.mktemp("demo_story") / "logs")
    result = subprocess.run([sys.executable, DEMO, "--quick", "--no-serve", "--logdir", logdir],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return logdir


def _served(base, route, step):
    status, _, body = http_get(base + "/data/plugin/rnn_hidden/%s?run=%s&tag=%s&step=%d"
                               % (route, RUN, TAG, step))
    assert status == 200, body
    return body


def _checkpoint(base, step):
    """What the tab shows of a checkpoint, computed from the served arrays."""
    meta = json.loads(_served(base, "sequences", step))
    lengths = np.asarray(meta["lengths"])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    per_step = np.frombuffer(_served(base, "probabilities", step), "<f4").reshape(offsets[-1], -1).argmax(axis=1)
    tokens = np.frombuffer(_served(base, "tokens", step), "<i4")
    flips = [flip_step(per_step[offsets[i]:offsets[i + 1]].tolist()) for i in range(len(lengths))]
    wrong = [i for i in range(len(lengths)) if meta["labels"][i] != meta["predictions"][i]]
    return dict(meta=meta, offsets=offsets, tokens=tokens, flips=flips, wrong=wrong)


def _wait_projection(frame):
    area = frame.locator("#projection-area")
    expect(area).to_have_attribute("data-state", "ready", timeout=PROJECTION_TIMEOUT_MS)
    expect(area).to_have_attribute("data-animating", "false", timeout=PROJECTION_TIMEOUT_MS)


def test_a_new_user_finds_where_a_misclassified_review_flipped_and_plays_training(browser, demo_logdir):
    with running_tensorboard(demo_logdir) as base:
        steps = json.loads(http_get(base + "/data/plugin/rnn_hidden/tags")[2])[RUN][TAG]["steps"]
        assert steps == [0, 1, 2, 3, 4]
        checkpoints = {step: _checkpoint(base, step) for step in steps}
        # The checkpoint the user looks at: the first trained one with a misclassified review
        # whose prediction changed along the way (early epochs hold the mistakes).
        step = next((s for s in steps[1:] if any(checkpoints[s]["flips"][i] > 0 for i in checkpoints[s]["wrong"])),
                    steps[0])
        data = checkpoints[step]
        # Sorted by the flip column (descending, ties by index), misclassified only: the first row.
        wrong_flipped = sorted(data["wrong"], key=lambda i: (-data["flips"][i], i))
        chosen, flip = wrong_flipped[0], data["flips"][wrong_flipped[0]]
        assert flip > 0, "no misclassified review of the demo changed its prediction at step %d" % step

        page = browser.new_page(viewport={"width": 1280, "height": 800})
        events = BrowserEvents(page)
        page.goto(base + "/#rnn_hidden")  # the address demo/train.py prints
        expect(page.get_by_text("RNN Hidden States", exact=False).first).to_be_visible()
        frame = plugin_frame(page)
        expect(frame.locator("#step-label")).to_have_text("step 4 (5 of 5)")
        _wait_projection(frame)

        # 1. Pick a checkpoint with the slider.
        slider = frame.locator("#step-slider")
        slider.press("Home")
        for _ in range(step):
            slider.press("ArrowRight")
        expect(frame.locator("#step-label")).to_have_text("step %d (%d of 5)" % (step, step + 1))
        meta = data["meta"]
        expect(frame.locator("#overview-panel")).to_contain_text("%d sequences" % meta["num_sequences"])

        # 2. Find a misclassified review: filter, sort by the flip column, take the first row.
        frame.locator("#filter-wrong").check()
        expect(frame.locator("#table-count")).to_have_text("%d of %d" % (len(data["wrong"]), meta["num_sequences"]))
        flip_header = frame.locator("#sequence-table th button[data-sort='flip']")
        flip_header.click()  # ascending first, then descending: the latest flips on top
        expect(frame.locator("#sequence-table th[aria-sort='ascending']")).to_have_count(1)
        flip_header.click()
        expect(frame.locator("#sequence-table th[aria-sort='descending']")).to_have_count(1)
        rows = frame.locator("#sequence-table tbody tr[data-index]")
        expect(rows.first).to_have_attribute("data-index", str(chosen))
        rows.first.click()

        # 3. Where its prediction flipped: the text ...
        names = meta["class_names"]
        caption = frame.locator("#input-caption")
        expect(caption).to_contain_text("Sequence %d: true %s, predicted %s" % (
            chosen, names[meta["labels"][chosen]], names[meta["predictions"][chosen]]))
        expect(caption).to_contain_text("the prediction last changed at step %d" % flip)
        flipped = frame.locator("#input-tokens .token.flip")
        expect(flipped).to_have_count(1)
        expect(flipped).to_have_attribute("data-step", str(flip))
        word = meta["vocabulary"][int(data["tokens"][data["offsets"][chosen] + flip])]
        expect(flipped).to_have_text(word)
        # ... the heat map ...
        expect(frame.locator("#heatmap-root")).to_have_attribute("data-flip-step", str(flip))
        # ... and the projection: its trajectory drawn, focused, the flip labelled.
        _wait_projection(frame)
        area = frame.locator("#projection-area")
        expect(area).to_have_attribute("data-trajectories", str(chosen))
        labelled = [int(s) for s in area.get_attribute("data-focus-labels").split(",") if s]
        assert flip in labelled and max(labelled) == flip, labelled
        screenshot(page, "story_flip_found.png")

        # 4. Play the projection through training; the selection is kept.
        frame.locator("#play-button").click()
        expect(frame.locator("#play-button")).to_have_attribute("aria-pressed", "true")
        expect(frame.locator("#step-label")).to_have_text("step 4 (5 of 5)", timeout=PROJECTION_TIMEOUT_MS)
        expect(frame.locator("#play-button")).to_have_attribute("aria-pressed", "false",
                                                                timeout=PROJECTION_TIMEOUT_MS)
        _wait_projection(frame)
        expect(area).to_have_attribute("data-trajectories", str(chosen))
        last = checkpoints[steps[-1]]["meta"]
        expect(caption).to_contain_text("Sequence %d: true %s, predicted %s" % (
            chosen, names[last["labels"][chosen]], names[last["predictions"][chosen]]))
        # One chain of layouts: the latest checkpoint's (the first shown, cold), the chosen
        # checkpoint's initialised from a done one, then each step Play computed from the one
        # before it (the latest one was already stored and is served as it is).
        hash_ = urllib.parse.unquote(page.evaluate("() => location.hash"))
        assert "rh_step=4" in hash_ and "rh_sel=%d" % chosen in hash_, hash_

        def job(s):
            status, _, body = http_get(
                base + "/data/plugin/rnn_hidden/projection?run=%s&tag=%s&step=%d&method=tsne&align=neighbor"
                % (RUN, TAG, s))
            assert status == 200, body
            job = json.loads(body)
            assert job["state"] == "done", job
            return job

        assert job(steps[-1])["aligned_to"] is None
        assert job(step)["aligned_to"] is not None
        for s in range(step + 1, steps[-1]):
            assert job(s)["aligned_to"] == s - 1
        screenshot(page, "story_played.png")
        events.assert_clean()
        page.close()
