"""The issue's "done when", end to end: the demo's real logs, a real `tensorboard`, Chromium.

A new user opens the address the demo prints, picks a checkpoint, finds a
misclassified sequence, sees where its prediction flipped in the text, the
heat map and the projection, and plays the projection through training. The
logs come from `demo/train.py --quick` (a real Keras LSTM trained on the
generated review language); the projection is the default one (t-SNE, aligned
to the neighbouring checkpoint), and TensorBoard runs with its default flags,
so the background projector lays out every checkpoint: the tab opened after
training finds them all laid out, and the layout of the untrained model that
Play reaches from the newest checkpoint is as faithful as an independent one.
Every expectation is computed here from the served arrays, not read back from
the page under test.
"""

import json
import time
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect
from sklearn.manifold import trustworthiness

from tests.support.browser import (
    FLIP_THRESHOLD,
    BrowserEvents,
    flip_step,
    layout_code,
    plugin_frame,
    projection_params,
    screenshot,
)
from tests.support.tensorboard_process import http_get, http_post_json, running_tensorboard

RUN, TAG = "generated", "lstm"
# A t-SNE of a few thousand points, computed while the test waits (CI machines are slow).
PROJECTION_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def base(demo_logdir, tmp_path_factory):
    """TensorBoard on the demo's logs with its default flags (background projection on), its own cache."""
    cache = tmp_path_factory.mktemp("demo_story_cache")
    with running_tensorboard(demo_logdir, "--rnn_hidden_cache_dir", str(cache)) as url:
        yield url


# The tab's default projection parameters (t-SNE, aligned to the neighbour) as a query.
TAB_PARAMS = "method=tsne&perplexity=30&iterations=750&seed=0&metric=euclidean&align=neighbor"
# Five t-SNEs of ~3.5k points one after another, on a busy 2-core machine.
BACKGROUND_TIMEOUT_S = 900


def _points(base, step, params=TAB_PARAMS):
    """(HTTP status, [P, 2] coordinates or None) of a layout; `/projection/points` never starts a job."""
    status, _, body = http_get(base + "/data/plugin/rnn_hidden/projection/points?run=%s&tag=%s&step=%d&%s"
                               % (RUN, TAG, step, params))
    return status, (np.frombuffer(body, "<f4").reshape(-1, 2) if status == 200 else None)


def _job(base, step, params=TAB_PARAMS):
    """The status of the job of `step` with `params`, started if none (POST, as the tab does)."""
    body = dict(urllib.parse.parse_qsl(params), run=RUN, tag=TAG, step=step)
    status, _, answer = http_post_json(base + "/data/plugin/rnn_hidden/projection", body)
    assert status == 200, answer
    return json.loads(answer)


def _states(base, step):
    """[P, H] hidden states of every valid step, float32, as `/states` serves them."""
    status, headers, body = http_get(base + "/data/plugin/rnn_hidden/states?run=%s&tag=%s&step=%d" % (RUN, TAG, step))
    assert status == 200, body
    dtype = {"float16": "<f2", "float32": "<f4"}[headers["X-Array-Dtype"]]
    shape = [int(d) for d in headers["X-Array-Shape"].split(",")]
    return np.frombuffer(body, dtype).reshape(shape).astype(np.float32)


def test_every_checkpoint_is_laid_out_in_the_background_without_being_asked(browser, base):
    """The user opens the tab (it shows the newest checkpoint) and waits: every checkpoint gets its layout."""
    steps = json.loads(http_get(base + "/data/plugin/rnn_hidden/tags")[2])[RUN][TAG]["steps"]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    events = BrowserEvents(page)
    asked = []
    page.on("request", lambda r: asked.append(projection_params(r)) if "/rnn_hidden/projection" in r.url else None)
    try:
        page.goto(base + "/#rnn_hidden")
        frame = plugin_frame(page)
        expect(frame.locator("#step-label")).to_have_text("step %d (%d of %d)" % (steps[-1], len(steps), len(steps)))
        deadline = time.time() + BACKGROUND_TIMEOUT_S
        while True:
            answers = {step: _points(base, step)[0] for step in steps}
            if set(answers.values()) == {200} or time.time() > deadline:
                break
            page.wait_for_timeout(5_000)
        assert answers == {step: 200 for step in steps}, answers
        # The page asked only for the checkpoint it shows.
        queried = {int(p["step"]) for p in asked}
        assert queried == {steps[-1]}, asked
        # A chain: the newest laid out on its own, every other one aligned to a neighbour's layout.
        jobs = {step: _job(base, step) for step in steps}
        assert jobs[steps[-1]]["aligned_to"] is None
        assert all(jobs[s]["aligned_to"] is not None for s in steps[:-1]), jobs
        _wait_projection(frame)
        screenshot(page, "story_background_done.png")
        events.assert_clean()
    finally:
        page.close()


def test_play_from_the_newest_checkpoint_reaches_a_faithful_layout_of_the_untrained_model(browser, base):
    """Step 0's layout as Play shows it keeps step 0's own neighbourhoods as well as a cold layout of it (k = 10)."""
    steps = json.loads(http_get(base + "/data/plugin/rnn_hidden/tags")[2])[RUN][TAG]["steps"]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    events = BrowserEvents(page)
    try:
        page.goto(base + "/#rnn_hidden")
        frame = plugin_frame(page)
        expect(frame.locator("#step-label")).to_have_text("step %d (%d of %d)" % (steps[-1], len(steps), len(steps)))
        _wait_projection(frame)
        frame.locator("#play-button").click()  # at the newest checkpoint: from the first
        expect(frame.locator("#step-label")).to_have_text("step %d (1 of %d)" % (steps[0], len(steps)))
        expect(frame.locator("#play-button")).to_have_attribute("aria-pressed", "false", timeout=PROJECTION_TIMEOUT_MS * 3)
        expect(frame.locator("#step-label")).to_have_text("step %d (%d of %d)" % (steps[-1], len(steps), len(steps)))
        # What Play showed at step 0: its own final layout (never a provisional or another checkpoint's
        # one when it moved on), which is the one served for the tab's parameters.
        marks = frame.evaluate("() => performance.getEntriesByName('rh-layout-shown').map(m => m.detail)")
        at_zero = [m for m in marks if m["checkpoint"] == steps[0]]
        finals = [m for m in at_zero if m["kind"] == "final"]
        assert finals and finals[-1]["step"] == steps[0], at_zero
        assert at_zero[-1]["kind"] == "final", at_zero  # the last thing drawn with step 0's data
        aligned_job = _job(base, steps[0])
        assert aligned_job["state"] == "done" and aligned_job["aligned_to"] is not None, aligned_job
        assert finals[-1]["code"] == layout_code(aligned_job), (finals, aligned_job)
        _, aligned = _points(base, steps[0])

        # A cold layout of step 0 with the same parameters, through the API.
        cold_params = TAB_PARAMS.replace("align=neighbor", "align=none")
        deadline = time.time() + PROJECTION_TIMEOUT_MS / 1000 * 3
        while _job(base, steps[0], cold_params)["state"] in ("queued", "running") and time.time() < deadline:
            time.sleep(2)
        cold_job = _job(base, steps[0], cold_params)
        assert cold_job["state"] == "done" and cold_job["aligned_to"] is None, cold_job
        _, cold = _points(base, steps[0], cold_params)

        states = _states(base, steps[0])
        assert aligned.shape == cold.shape == (len(states), 2)
        sample = np.random.default_rng(0).choice(len(states), size=min(2_000, len(states)), replace=False)
        trust_aligned = trustworthiness(states[sample], aligned[sample], n_neighbors=10)
        trust_cold = trustworthiness(states[sample], cold[sample], n_neighbors=10)
        assert trust_aligned >= trust_cold - 0.01, (trust_aligned, trust_cold, aligned_job["layout"])
        screenshot(page, "story_played_from_newest.png")
        events.assert_clean()
    finally:
        page.close()


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
    probabilities = np.frombuffer(_served(base, "probabilities", step), "<f4").reshape(offsets[-1], -1)
    per_step = probabilities.argmax(axis=1)
    tokens = np.frombuffer(_served(base, "tokens", step), "<i4")
    flips = [flip_step(per_step[offsets[i]:offsets[i + 1]].tolist(), probabilities[offsets[i]:offsets[i + 1]], FLIP_THRESHOLD)
             for i in range(len(lengths))]
    wrong = [i for i in range(len(lengths)) if meta["labels"][i] != meta["predictions"][i]]
    return dict(meta=meta, offsets=offsets, tokens=tokens, flips=flips, wrong=wrong)


def _wait_projection(frame):
    area = frame.locator("#projection-area")
    expect(area).to_have_attribute("data-state", "ready", timeout=PROJECTION_TIMEOUT_MS)
    expect(area).to_have_attribute("data-animating", "false", timeout=PROJECTION_TIMEOUT_MS)


def test_a_new_user_finds_where_a_misclassified_review_flipped_and_plays_training(browser, base):
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
    flip_header.click()  # the latest flips on top at the first click
    expect(frame.locator("#sequence-table th[aria-sort='descending']")).to_have_count(1)
    rows = frame.locator("#sequence-table tbody tr[data-index]")
    expect(rows.first).to_have_attribute("data-index", str(chosen))
    rows.first.click()

    # 3. Where its prediction flipped: the text ...
    names = meta["class_names"]
    caption = frame.locator("#input-caption")
    expect(caption).to_contain_text("Sequence %d: true %s, predicted %s" % (
        chosen, names[meta["labels"][chosen]], names[meta["predictions"][chosen]]))
    expect(caption).to_contain_text("its last flip (Δp ≥ %s) is at step %d" % (FLIP_THRESHOLD, flip))
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
    # (the projection labels every change of the prediction; the flip is one of them)
    assert flip in labelled, labelled
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
    # One chain of layouts: the latest checkpoint's (the first laid out, cold), every other one
    # initialised from a done neighbour's (the background projector and Play lay them out outwards
    # from what is on screen).
    hash_ = urllib.parse.unquote(page.evaluate("() => location.hash"))
    assert "rh_step=4" in hash_ and "rh_sel=%d" % chosen in hash_, hash_
    jobs = {s: _job(base, s) for s in steps}
    assert all(j["state"] == "done" for j in jobs.values()), jobs
    assert jobs[steps[-1]]["aligned_to"] is None
    assert all(jobs[s]["aligned_to"] is not None for s in steps[:-1]), jobs
    # The panel says which layout is shown and how it was made; so does the shared URL.
    expect(frame.locator("#projection-layout")).to_contain_text("t-SNE of step 4 (perplexity 30)")
    assert "rh_layout=" + layout_code(jobs[steps[-1]]) in hash_, hash_
    screenshot(page, "story_played.png")
    events.assert_clean()
    page.close()
