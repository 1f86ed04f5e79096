"""Every view's "Export ▾" menu, in a real browser against a real `tensorboard` (both loaders).

The logs are the demo's (`demo/train.py --quick`: a real Keras LSTM). Each
view is downloaded as PNG and SVG through its menu; the PNG is decoded and
must be the view's CSS size times the device pixel ratio (also at ratio 2)
and not blank; the SVG is parsed as XML, checked against the served arrays
(points at the served layout's coordinates, also under a box brush, which
draws the dimmed ones first; every drawn trajectory through
its points, labels, tick labels that are layout coordinates, the tokens, the
distance bars, the class names), and opened in Chromium, where its points are
counted. Screenshots of the opened SVGs land in `test-artifacts/`.
"""

import io
import itertools
import json
import re
import urllib.parse
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.browser import TIMEOUT_MS, ARTIFACTS, plugin_frame, shift_drag
from tests.support.tensorboard_process import http_get, running_tensorboard

RUN, TAG = "generated", "lstm"
SVG = "{http://www.w3.org/2000/svg}"
LOADERS = ["data_server", "python_loader"]
PANELS = ["overview", "input", "heatmap", "distances", "units"]
PANEL_IDS = {"overview": "overview-panel", "input": "input-panel", "heatmap": "heatmap-panel",
             "distances": "distance-panel", "units": "units-panel"}
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module", params=LOADERS)
def base(request, demo_logdir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("view_export_cache")
    extra = ["--load_fast=false"] if request.param == "python_loader" else []
    with running_tensorboard(demo_logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", str(cache), *extra) as url:
        yield url, request.param


def _route(url, route, step, **query):
    q = urllib.parse.urlencode({"run": RUN, "tag": TAG, "step": step, **query})
    status, headers, body = http_get("%s/data/plugin/rnn_hidden/%s?%s" % (url, route, q))
    assert status == 200, body[:300]
    return headers, body


def _served(url):
    """The newest checkpoint as served: its step, metadata, offsets, tokens and per-step predictions."""
    status, _, body = http_get(url + "/data/plugin/rnn_hidden/tags")
    assert status == 200
    step = max(json.loads(body)[RUN][TAG]["steps"])
    meta = json.loads(_route(url, "sequences", step)[1])
    offsets = np.concatenate([[0], np.cumsum(meta["lengths"])])
    tokens = np.frombuffer(_route(url, "tokens", step)[1], dtype=np.int32)
    probabilities = np.frombuffer(_route(url, "probabilities", step)[1], dtype=np.float32).reshape(-1, meta["num_classes"])
    distances = np.frombuffer(_route(url, "distances", step)[1], dtype=np.float32)
    return {"step": step, "meta": meta, "offsets": offsets, "tokens": tokens,
            "predicted": probabilities.argmax(axis=1), "distances": distances}


def _focus_with_change(served):
    """The first sequence whose predicted class changes along it (so its trajectory carries labels)."""
    offsets, predicted = served["offsets"], served["predicted"]
    for s in range(len(offsets) - 1):
        p = predicted[offsets[s]:offsets[s + 1]]
        if len(p) > 2 and (np.diff(p) != 0).any():
            return s
    pytest.fail("no sequence of the demo's newest checkpoint changes its prediction")


def _open(browser, url, selected, focus, dpr=1, lstmvis=False):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=dpr, accept_downloads=True)
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url + "/#rnn_hidden&rh_p_method=pca&rh_sel=%s&rh_focus=%d" % (",".join(map(str, selected)), focus))
    frame = plugin_frame(page)
    area = frame.locator("#projection-area")
    expect(area).to_have_attribute("data-state", "ready")
    expect(area).to_have_attribute("data-layout-kind", "final")
    expect(area).to_have_attribute("data-animating", "false")
    if lstmvis:
        frame.locator("#lstmvis-toggle").click()
        expect(frame.locator("#units-root")).to_have_attribute("data-sequence", str(focus))
        expect(frame.locator("#units-root")).not_to_have_attribute("data-lines", "")
    return page, frame, requests


def _download(page, frame, view, kind, folder):
    menu = frame.locator('[data-export-menu="%s"]' % view)
    menu.locator("summary").click()
    with page.expect_download() as info:
        menu.locator('[data-export="%s"]' % kind).click()
    download = info.value
    assert download.suggested_filename.endswith("-%s.%s" % (view, kind)), download.suggested_filename
    path = folder / download.suggested_filename
    download.save_as(str(path))
    expect(menu).to_have_attribute("data-exported", download.suggested_filename)
    return path


def _expect_png(path, css_width, css_height, dpr):
    """A decodable PNG of the CSS size times the ratio (to the device pixel), not one flat colour."""
    image = Image.open(io.BytesIO(path.read_bytes()))
    assert image.format == "PNG"
    assert abs(image.width - css_width * dpr) <= dpr and abs(image.height - css_height * dpr) <= dpr, (image.size, css_width, css_height, dpr)
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    background = pixels[0]
    assert (pixels != background).any(axis=1).mean() > 0.005, "the PNG is (nearly) blank"
    assert len(np.unique(pixels, axis=0)) > 8
    return image


def _texts(root, within=None):
    scope = root if within is None else within
    return ["".join(t.itertext()) for t in scope.iter(SVG + "text")]


def _group(root, cls):
    (group,) = [g for g in root.iter(SVG + "g") if g.get("class") == cls]
    return group


def _vertices(group):
    """The M/L vertices of every path in `group`, rounded to 0.1 px."""
    points = set()
    for path in group.iter(SVG + "path"):
        for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", path.get("d")):
            points.add((round(float(x), 1), round(float(y), 1)))
    return points


def _open_svg_in_chromium(browser, path, artifact):
    """The SVG opened on its own in Chromium: (point circles, text elements), with a screenshot."""
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(path.as_uri())
    assert page.evaluate("() => document.documentElement.tagName") == "svg"
    assert page.evaluate("() => document.getElementsByTagName('parsererror').length") == 0
    counts = page.evaluate("""() => [document.querySelectorAll('g.points circle:not(.ring)').length,
                                     document.querySelectorAll('text').length]""")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / artifact))
    page.close()
    return counts


def _layout(requests):
    (layout_url,) = {u for u in requests if "/projection/points?" in u}
    return np.frombuffer(http_get(layout_url)[2], dtype=np.float32).reshape(-1, 2)


def _circle_centres(root):
    """The centres of the point circles (not their rings), in document order."""
    return np.array([[float(c.get("cx")), float(c.get("cy"))]
                     for g in root.iter(SVG + "g") if "points" in g.get("class", "").split()
                     for c in g.iter(SVG + "circle") if c.get("class") != "ring"])


def test_projection_svg_and_png(browser, base, tmp_path):
    url, loader = base
    served = _served(url)
    offsets, meta = served["offsets"], served["meta"]
    focus = _focus_with_change(served)
    selected = sorted({0, 1, focus})
    page, frame, requests = _open(browser, url, selected, focus)
    area = frame.locator("#projection-area")
    transform = json.loads(area.get_attribute("data-transform"))
    drawn = area.get_attribute("data-trajectories")
    focus_labels = area.get_attribute("data-focus-labels")
    assert sorted(map(int, drawn.split(","))) == selected and focus_labels

    svg_path = _download(page, frame, "projection", "svg", tmp_path)
    png_path = _download(page, frame, "projection", "png", tmp_path)
    layout = _layout(requests)
    points = int(np.sum(meta["lengths"]))
    assert len(layout) == points

    root = ET.parse(svg_path).getroot()
    plot = next(r for r in root.iter(SVG + "rect") if r.get("class") == "plot-area")
    x0, y0 = float(plot.get("x")), float(plot.get("y"))
    k, tx, ty = transform["k"], transform["tx"], transform["ty"]
    sx = x0 + layout[:, 0] * k + tx
    sy = y0 + ty - layout[:, 1] * k
    # One circle per served point, in point order (nothing brushed or lit), where the layout puts it.
    centres = _circle_centres(root)
    assert len(centres) == points
    assert np.abs(centres - np.stack([sx, sy], axis=1)).max() <= 0.6

    # Every trajectory drawn passes through each of its points.
    trails = _group(root, "trajectories")
    assert trails.get("data-trajectories") == drawn
    vertices = _vertices(trails)
    found = [s for s in selected
             if all((round(sx[p], 1), round(sy[p], 1)) in vertices or
                    any(abs(vx - sx[p]) <= 0.11 and abs(vy - sy[p]) <= 0.11 for vx, vy in vertices)
                    for p in range(offsets[s], offsets[s + 1]))]
    assert found == selected
    # The focused trajectory's labels: its tokens at the labelled steps.
    vocabulary = meta["vocabulary"]
    expected = {vocabulary[served["tokens"][offsets[focus] + int(t)]][:17] for t in focus_labels.split(",")}
    labels = {t.rstrip("…") for t in _texts(trails)}
    assert expected <= labels, (expected, labels)

    # Axes: ticks on both, at the layout coordinates they name.
    axes = _group(root, "axes")
    ticks = [t for t in axes.iter(SVG + "text") if t.get("class") == "tick"]
    xs = [t for t in ticks if t.get("data-axis") == "x"]
    ys = [t for t in ticks if t.get("data-axis") == "y"]
    assert len(xs) >= 2 and len(ys) >= 2
    for t in xs:
        assert abs(float(t.get("x")) - (x0 + float(t.text) * k + tx)) <= 0.02
    for t in ys:
        assert abs(float(t.get("y")) - (y0 + ty - float(t.text) * k)) <= 0.02
    # Standalone: the class legend and what the file shows.
    texts = _texts(root)
    assert set(meta["class_names"]) <= set(texts)
    assert any(("step %d" % served["step"]) in t and RUN in t for t in texts)

    circles_in_chromium, _ = _open_svg_in_chromium(browser, svg_path, "view_export_projection_%s.png" % loader)
    assert circles_in_chromium == points
    canvas = frame.locator("#projection-canvas")
    size = canvas.evaluate("c => [c.width, c.height, c.clientWidth, c.clientHeight]")
    image = _expect_png(png_path, size[2], size[3], 1)
    assert image.size == (size[0], size[1])
    page.close()


def test_projection_svg_keeps_the_brush(browser, base, tmp_path):
    """A box brush: every point is still in the SVG, the dimmed ones first and the brushed ones
    above them, as on screen: the last circles are exactly the points inside the box."""
    url, _ = base
    served = _served(url)
    page, frame, requests = _open(browser, url, [0], 0)
    layout = _layout(requests)
    transform = json.loads(frame.locator("#projection-area").get_attribute("data-transform"))
    area = frame.locator("#projection-area").bounding_box()
    sx = area["x"] + layout[:, 0] * transform["k"] + transform["tx"]
    sy = area["y"] + transform["ty"] - layout[:, 1] * transform["k"]
    # A small box (points are dense) with no point within half a pixel of its edges.
    for cx, cy, half in itertools.product(np.linspace(0.3, 0.7, 17), np.linspace(0.3, 0.7, 17), (0.04, 0.06)):
        x0, x1 = (area["x"] + area["width"] * f for f in (cx - half, cx + half))
        y0, y1 = (area["y"] + area["height"] * f for f in (cy - half, cy + half))
        near_x = ((np.abs(sx - x0) < 0.5) | (np.abs(sx - x1) < 0.5)) & (sy > y0 - 0.5) & (sy < y1 + 0.5)
        near_y = ((np.abs(sy - y0) < 0.5) | (np.abs(sy - y1) < 0.5)) & (sx > x0 - 0.5) & (sx < x1 + 0.5)
        near = near_x | near_y
        inside = (sx >= x0) & (sx <= x1) & (sy >= y0) & (sy <= y1)
        if not near.any() and 0 < inside.sum() < len(layout):
            break
    else:
        pytest.fail("no box with points inside and none on its edges")
    shift_drag(page, float(x0), float(y0), float(x1), float(y1))
    expect(frame.locator("#projection-brush-count")).to_have_text("%d points brushed" % inside.sum())
    expect(frame.locator("#projection-area")).to_have_attribute("data-animating", "false")
    root = ET.parse(_download(page, frame, "projection", "svg", tmp_path)).getroot()
    plot = next(r for r in root.iter(SVG + "rect") if r.get("class") == "plot-area")
    centres = _circle_centres(root) - [float(plot.get("x")), float(plot.get("y"))]
    assert len(centres) == int(np.sum(served["meta"]["lengths"])) == len(layout)
    brushed = int(inside.sum())
    # As drawn now (the plot may have resized with the legend since the box was chosen).
    transform = json.loads(frame.locator("#projection-area").get_attribute("data-transform"))
    expected = np.stack([layout[:, 0] * transform["k"] + transform["tx"], transform["ty"] - layout[:, 1] * transform["k"]], axis=1)
    assert np.abs(centres[-brushed:] - expected[inside]).max() <= 0.6
    assert np.abs(centres[:-brushed] - expected[~inside]).max() <= 0.6
    page.close()


def test_panels_svg_and_png(browser, base, tmp_path):
    url, loader = base
    served = _served(url)
    offsets, meta = served["offsets"], served["meta"]
    focus = _focus_with_change(served)
    page, frame, _ = _open(browser, url, [focus], focus, lstmvis=True)
    length = int(offsets[focus + 1] - offsets[focus])
    vocabulary = meta["vocabulary"]
    tokens = [vocabulary[i] for i in served["tokens"][offsets[focus]:offsets[focus + 1]]]
    for view in PANELS:
        panel = frame.locator("#" + PANEL_IDS[view])
        panel.scroll_into_view_if_needed()
        svg_path = _download(page, frame, view, "svg", tmp_path)
        png_path = _download(page, frame, view, "png", tmp_path)
        box = panel.evaluate("e => { const r = e.getBoundingClientRect(); return [Math.ceil(r.width), Math.ceil(r.height)]; }")
        _expect_png(png_path, box[0], box[1], 1)
        root = ET.parse(svg_path).getroot()
        assert (float(root.get("width")), float(root.get("height"))) == (box[0], box[1])
        texts = _texts(root)
        menu = frame.locator('[data-export-menu="%s"]' % view)
        if view in ("heatmap", "distances", "units"):
            # Its canvases written as vectors by their own drawing code, not as pixels.
            assert int(menu.get_attribute("data-svg-canvases")) >= 1
            assert menu.get_attribute("data-svg-pixels") == "0"
            assert not list(root.iter(SVG + "image"))
        if view == "overview":
            labels, predictions = np.array(meta["labels"]), np.array(meta["predictions"])
            assert set(meta["class_names"]) <= set(texts)
            for c in range(meta["num_classes"]):
                assert str(int(np.sum((labels == c) & (predictions == c)))) in texts
        if view == "input":
            assert [t for t in texts if t in tokens] and set(t.strip() for t in tokens if t.strip()) <= set(texts)
        if view == "heatmap":
            group = next(g for g in root.iter(SVG + "g") if g.get("data-canvas") == "heatmap-canvas")
            assert len(list(group.iter(SVG + "path"))) >= length * meta["num_classes"]
            names = _texts(group)
            assert all(any(n.startswith(name[:8]) for n in names) for name in meta["class_names"])
        if view == "distances":
            bars = [r for r in root.iter(SVG + "rect") if "dist-bar" in r.get("class", "").split()]
            assert len(bars) == length - 1
            heights = frame.locator("#distance-bars .dist-bar").evaluate_all("bars => bars.map(b => b.getBoundingClientRect().height)")
            assert np.allclose([float(b.get("height")) for b in bars], heights, atol=0.01)
            first = offsets[focus] - focus
            d = served["distances"][first:first + length - 1]
            assert int(np.argmax([float(b.get("height")) for b in bars])) == int(np.argmax(d))
        if view == "units":
            group = next(g for g in root.iter(SVG + "g") if g.get("data-canvas") == "units-canvas")
            assert len(list(group.iter(SVG + "path"))) >= 1 and _texts(group)
        _, shown_texts = _open_svg_in_chromium(browser, svg_path, "view_export_%s_%s.png" % (view, loader))
        assert shown_texts == len(texts)
    page.close()


def test_png_at_device_pixel_ratio_two(browser, base, tmp_path):
    url, loader = base
    if loader != "data_server":
        pytest.skip("the ratio is the browser's: one loader is enough")
    served = _served(url)
    focus = _focus_with_change(served)
    page, frame, _ = _open(browser, url, [focus], focus, dpr=2)
    assert page.evaluate("() => devicePixelRatio") == 2
    canvas = frame.locator("#projection-canvas")
    size = canvas.evaluate("c => [c.width, c.height, c.clientWidth, c.clientHeight]")
    image = _expect_png(_download(page, frame, "projection", "png", tmp_path), size[2], size[3], 2)
    assert image.size == (size[0], size[1]) == (2 * size[2], 2 * size[3])
    panel = frame.locator("#heatmap-panel")
    box = panel.evaluate("e => { const r = e.getBoundingClientRect(); return [Math.ceil(r.width), Math.ceil(r.height)]; }")
    image = _expect_png(_download(page, frame, "heatmap", "png", tmp_path), box[0], box[1], 2)
    assert image.size == (2 * box[0], 2 * box[1])
    # The SVG stays in CSS px whatever the ratio: the same document as at ratio 1.
    root = ET.parse(_download(page, frame, "projection", "svg", tmp_path)).getroot()
    assert float(root.get("width")) > size[2]
    page.close()
