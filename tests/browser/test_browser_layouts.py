"""Which layout the projection shows, and what it says about it, in a real browser against a real `tensorboard`.

A checkpoint opened before its t-SNE is done shows its own provisional layout
(its PCA, from `/projection/provisional`) at once, labelled, then moves to the
t-SNE when it arrives; the panel then says how that layout was made. While
another checkpoint's layout is still on screen, a notice says so and the points
can be neither hovered nor brushed. A method the server cannot compute (UMAP
without umap-learn) is not offered, and a link asking for it says so; a job
that cannot succeed shows the server's reason and no Retry.

The TensorBoards here run with `--rnn_hidden_precompute=none`, so that no layout
exists before the page asks for it (the background projector is tested on the
demo's logs, in test_demo_story.py), each with its own projection cache.
"""

import json
import urllib.parse

import numpy as np
import pytest
from playwright.sync_api import expect

from tb_rnn_hidden import writer
from tests.support.browser import (
    TIMEOUT_MS,
    BrowserEvents,
    layout_code,
    plugin_frame,
    projection_params,
    screenshot,
    shift_drag,
)
from tests.support.checkpoints import make_checkpoint
from tests.support.tensorboard_process import http_get, running_tensorboard

STEPS = (0, 1, 2)
# ~1,600 points per checkpoint: a t-SNE that takes seconds, a PCA that takes milliseconds.
N, T, H = 150, 20, 16
HASH = "#rnn_hidden&rh_run=train&rh_tag=lstm"
# A t-SNE of this size on a busy 2-core machine.
TSNE_TIMEOUT_MS = 120_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("layouts") / "logs"
    with writer.HiddenStateWriter(str(logdir / "train")) as w:
        lengths = make_checkpoint(seed=500, n=N, t=T, h=H)["lengths"]
        for step in STEPS:
            data = make_checkpoint(seed=500 + step, n=N, t=T, h=H)
            data["lengths"] = lengths  # one probe set, as training logs it
            w.add("lstm", step=step, **data)
        # One sequence of one step: no t-SNE can lay out a single point.
        tiny = make_checkpoint(seed=600, n=1, t=1, h=4)
        w.add("tiny", step=0, **tiny)
    return str(logdir)


@pytest.fixture(scope="module")
def base(logdir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("layouts_cache")
    with running_tensorboard(logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache)) as url:
        yield url


def _open(browser, base, hash_):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    events = BrowserEvents(page)
    page.goto(base + "/" + hash_)
    return page, events, plugin_frame(page)


def _status(base, step, tag="lstm", **params):
    query = urllib.parse.urlencode(dict(run="train", tag=tag, step=step, **params))
    status, _, body = http_get(base + "/data/plugin/rnn_hidden/projection?" + query)
    assert status == 200, body
    return json.loads(body)


def _url_state(page):
    pairs = page.evaluate("() => location.hash").lstrip("#").split("&")[1:]
    return dict(urllib.parse.unquote(p).split("=", 1) for p in pairs if "=" in p)


def _layouts_shown(frame):
    """The `rh-layout-shown` marks so far: (kind, layout step, checkpoint step, time)."""
    return [tuple(m) for m in frame.evaluate(
        "() => performance.getEntriesByName('rh-layout-shown')"
        ".map(m => [m.detail.kind, m.detail.step, m.detail.checkpoint, m.startTime])")]


def test_a_provisional_layout_at_once_then_the_tsne_it_describes(browser, base):
    page, events, frame = _open(browser, base, HASH + "&rh_step=2")
    area = frame.locator("#projection-area")
    line = frame.locator("#projection-layout")
    try:
        # The checkpoint's own PCA, labelled, while its t-SNE computes.
        expect(area).to_have_attribute("data-layout-kind", "provisional")
        expect(area).to_have_attribute("data-layout-step", "2")
        expect(area).to_have_attribute("data-state", "provisional")
        expect(line).to_contain_text("Provisional layout: PCA of step 2 — t-SNE")
        screenshot(page, "layouts_provisional.png")
        # Drawn within a second of the checkpoint's data being shown (both measured in the page).
        shown = frame.evaluate("() => { const m = performance.getEntriesByName('rh-checkpoint-views')[0];"
                               " return m.startTime + m.duration; }")
        provisional = [t for kind, step, checkpoint, t in _layouts_shown(frame)
                       if (kind, step, checkpoint) == ("provisional", 2, 2)]
        assert provisional, _layouts_shown(frame)
        assert 0 <= provisional[0] - shown < 1_000, (provisional[0] - shown, _layouts_shown(frame))
        # It is the served provisional layout, and the t-SNE was not done when it was drawn.
        points = int(area.get_attribute("data-points"))
        status, headers, _ = http_get(base + "/data/plugin/rnn_hidden/projection/provisional?run=train&tag=lstm&step=2")
        assert status == 200 and headers["X-Array-Shape"] == "%d,2" % points
        # The form shows t-SNE's own fields, the iterations as a cap.
        expect(frame.locator("label:has(#projection-iterations)")).to_contain_text("max iterations")
        expect(frame.locator("#projection-perplexity")).to_be_visible()
        expect(frame.locator("#projection-n-neighbors")).to_be_hidden()

        # Then the t-SNE, reached by moving the points there, and described.
        expect(area).to_have_attribute("data-layout-kind", "final", timeout=TSNE_TIMEOUT_MS)
        expect(area).to_have_attribute("data-state", "ready")
        kinds = [kind for kind, step, _, _ in _layouts_shown(frame) if step == 2]
        assert kinds[:2] == ["provisional", "final"], kinds
        served = _status(base, 2, align="neighbor")
        layout = served["layout"]
        assert served["state"] == "done" and layout["mode"] == "cold" and layout["aligned_to"] is None
        expect(area).to_have_attribute("data-animating", "false")
        expect(line).to_contain_text("t-SNE of step 2 (perplexity 30) · cold")
        iterations = "%d + %d iterations" % (layout["early_exaggeration_iterations"], layout["iterations"])
        for text in (iterations, "trustworthiness %.3f" % layout["trustworthiness"], "KL %.3f" % layout["kl_divergence"]):
            expect(line).to_contain_text(text)
            expect(frame.locator("#projection-job-status")).to_contain_text(text)
        if layout["converged"]:
            expect(line).to_contain_text("iterations, converged")
        expect(line).not_to_contain_text("Provisional")
        # The shared URL names the layout shown.
        page.wait_for_function("c => location.hash.includes('rh_layout=' + encodeURIComponent(c))", arg=layout_code(served))
        assert _url_state(page)["rh_layout"] == layout_code(served)
        screenshot(page, "layouts_final.png")
        screenshot(frame.locator("#projection-panel"), "layouts_final_panel.png")
        events.assert_clean()
    finally:
        page.close()


def test_another_checkpoints_layout_is_shown_with_a_notice_and_cannot_be_pointed_at(browser, base):
    """A slow network (latency on every request) keeps step 2's layout on screen after step 1's data arrives."""
    page, events, frame = _open(browser, base, HASH + "&rh_step=2&rh_sel=0&rh_focus=0")
    area = frame.locator("#projection-area")
    line = frame.locator("#projection-layout")
    try:
        expect(area).to_have_attribute("data-layout-kind", "final", timeout=TSNE_TIMEOUT_MS)
        expect(area).to_have_attribute("data-animating", "false")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions",
                 dict(offline=False, latency=4_000, downloadThroughput=-1, uploadThroughput=-1))
        frame.locator("#step-slider").press("ArrowLeft")
        # Step 1's data is in; its provisional layout and t-SNE are still on their way.
        expect(area).to_have_attribute("data-checkpoint-step", "1", timeout=30_000)
        expect(area).to_have_attribute("data-layout-kind", "stale")
        expect(area).to_have_attribute("data-layout-step", "2")
        expect(line).to_contain_text("Layout of step 2 — step 1: t-SNE")
        expect(frame.locator("#projection-legend")).to_contain_text("dimmed: step 2's layout and predictions")
        screenshot(page, "layouts_stale_notice.png")
        # Nothing under the pointer describes step 1's data at step 2's positions, nor is brushed.
        box = area.bounding_box()
        for f in np.linspace(0.2, 0.8, 25):
            page.mouse.move(box["x"] + box["width"] * f, box["y"] + box["height"] * (1 - f))
        expect(frame.locator("#tooltip")).to_be_hidden()
        expect(frame.locator("#heatmap-root")).to_have_attribute("data-hover-step", "")
        shift_drag(page, box["x"] + 20, box["y"] + 20, box["x"] + box["width"] - 20, box["y"] + box["height"] - 20)
        expect(frame.locator("#projection-brush-count")).to_have_count(0)
        assert _url_state(page).get("rh_sel") == "0"  # the selection is untouched
        expect(area).to_have_attribute("data-layout-kind", "stale")  # still: the checks above ran in time

        # A normal network: step 1's own layouts arrive, the notice goes.
        cdp.send("Network.emulateNetworkConditions",
                 dict(offline=False, latency=0, downloadThroughput=-1, uploadThroughput=-1))
        expect(area).to_have_attribute("data-layout-step", "1", timeout=30_000)
        expect(area).to_have_attribute("data-layout-kind", "final", timeout=TSNE_TIMEOUT_MS)
        served = _status(base, 1, align="neighbor")
        assert served["layout"]["aligned_to"] == 2
        expect(line).to_contain_text("t-SNE of step 1 (perplexity 30) · aligned to step 2")
        expect(line).not_to_contain_text("Layout of step 2")
        kinds = [(kind, step) for kind, step, checkpoint, _ in _layouts_shown(frame) if checkpoint == 1]
        assert kinds[0] == ("stale", 2) and kinds[-1] == ("final", 1), kinds
        events.assert_clean()
    finally:
        page.close()


def test_a_link_to_an_unavailable_method_and_a_job_that_cannot_succeed(browser, base, logdir, tmp_path):
    """UMAP is not offered by a server that cannot import umap-learn; a failure says why and offers no Retry."""
    # sitecustomize runs at the TensorBoard process's start: umap-learn cannot be imported there.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['umap'] = None\n")
    cache = tmp_path / "cache"
    with running_tensorboard(logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache),
                             env=dict(PYTHONPATH=str(site))) as no_umap:
        info = json.loads(http_get(no_umap + "/data/plugin/rnn_hidden/info")[2])
        umap = next(m for m in info["methods"] if m["name"] == "umap")
        assert umap["available"] is False and umap["reason"], umap
        page, events, frame = _open(browser, no_umap, HASH + "&rh_step=0&rh_p_method=umap&rh_p_n_neighbors=5")
        requests = []
        page.on("request", lambda r: requests.append(projection_params(r)) if "/rnn_hidden/projection" in r.url else None)
        try:
            expect(frame.locator("#projection-method option")).to_have_text(["t-SNE", "PCA"])
            expect(frame.locator("#projection-method")).to_have_value("tsne")
            notice = frame.locator("#projection-link-notice")
            expect(notice).to_contain_text("This link asks for a UMAP layout, which this TensorBoard server does not offer")
            expect(notice).to_contain_text(umap["reason"])
            expect(notice).to_contain_text("Showing t-SNE instead.")
            expect(frame.locator("#projection-area")).to_have_attribute("data-layout-kind", "provisional")
            screenshot(page, "layouts_no_umap.png")
            state = _url_state(page)
            assert "rh_p_method" not in state and "rh_p_n_neighbors" not in state, state
            assert requests and [p for p in requests if p.get("method") == "umap"] == []
            # Moving on clears the notice about the link.
            frame.locator("#step-slider").press("ArrowRight")
            expect(notice).to_be_empty()
            events.assert_clean()
        finally:
            page.close()

    # The ordinary server: UMAP is offered when it can be imported, with UMAP's own fields.
    info = json.loads(http_get(base + "/data/plugin/rnn_hidden/info")[2])
    offered = ["t-SNE", "PCA"] + (["UMAP"] if next(m for m in info["methods"] if m["name"] == "umap")["available"] else [])
    page, events, frame = _open(browser, base, HASH + "&rh_step=0&rh_p_method=pca")
    try:
        expect(frame.locator("#projection-method option")).to_have_text(offered)
        visible = lambda: [i for i in ("perplexity", "iterations", "n-neighbors", "min-dist", "seed", "metric", "align")  # noqa: E731
                           if frame.locator("#projection-" + i).is_visible()]
        expect(frame.locator("#projection-metric")).to_be_visible()
        assert visible() == ["metric", "align"]
        frame.locator("#projection-method").select_option(value="tsne")
        assert visible() == ["perplexity", "iterations", "seed", "metric", "align"]
        if "UMAP" in offered:
            frame.locator("#projection-method").select_option(value="umap")
            assert visible() == ["n-neighbors", "min-dist", "seed", "metric", "align"]
            expect(frame.locator("#projection-n-neighbors")).to_have_value("15")
            screenshot(frame.locator("#projection-form"), "layouts_umap_fields.png")
        # A value out of its range is named, and nothing is sent.
        frame.locator("#projection-method").select_option(value="tsne")
        frame.locator("#projection-perplexity").fill("500")
        frame.locator("#projection-apply").click()
        expect(frame.locator("#projection-form-error")).to_have_text("perplexity must be a number from 2 to 200")
        assert "rh_p_perplexity" not in _url_state(page)

        # One point: no t-SNE can lay it out. The server's reason is shown, and no Retry.
        frame.locator("#tag-select").select_option(value="tiny")
        frame.locator("#projection-method").select_option(value="tsne")
        frame.locator("#projection-perplexity").fill("30")
        frame.locator("#projection-apply").click()
        status = frame.locator("#projection-job-status")
        expect(status).to_have_attribute("data-state", "failed", timeout=60_000)
        served = _status(base, 0, tag="tiny", perplexity=2, align="neighbor")
        assert served["state"] == "failed" and served["retryable"] is False, served
        expect(status).to_contain_text("failed: " + served["error"])
        expect(frame.locator("#projection-retry")).to_be_hidden()
        expect(frame.locator("#projection-layout")).to_contain_text("t-SNE failed: " + served["error"])
        expect(frame.locator("#projection-area")).to_have_attribute("data-state", "failed")
        screenshot(frame.locator("#projection-panel"), "layouts_failed_no_retry.png")
        events.assert_clean()
    finally:
        page.close()


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q"]))
