"""Frontend latency of the projection view at 100k points, and TensorBoard's Embedding Projector on the same points.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/frontend_bench.py [--sequences 1000] [--steps 100] [--units 64] [--no-projector]

A run of two checkpoints (1000 sequences x 100 steps = 100,000 points, 64
units, tokens, class probabilities) is written with the real writer
(`HiddenStateWriter`). TensorBoard is started with
`--rnn_hidden_precompute=pca`, and the bench waits until both checkpoints'
PCA layouts are cached, so the timings below are the browser's, not the
projection engine's. Then the system Chromium (Playwright, 1280x800) opens the
plugin tab with `method=pca` and measures, with the User Timing marks the view
records (see `tb_rnn_hidden_frontend/src/views/projection/animation.ts`):

- first render: `rh-projection-first-render` (coordinates in the store -> first
  full draw done), and from the end of the `/projection/points` response
  (Resource Timing `responseEnd`) to the end of that draw;
- pan: a 60-step drag; the interval between animation frames while it runs
  (requestAnimationFrame timestamps) and `rh-projection-draw-points` per frame;
- hover: `rh-projection-hover` (pointermove -> hover in the store, every view
  updated, highlight drawn) over 60 moves that land on a new point;
- box brush: `rh-projection-brush` (pointerup -> brushed points and selected
  sequences in the store, points and trajectories redrawn), 10 boxes;
- checkpoint change: the slider to the other checkpoint and back (two
  changes), first with one sequence selected, then with the last brush's
  sequences selected (200 trajectories drawn). Frame intervals (requestAnimationFrame) from the key
  press until the points have moved to the new layout, reported as max, p95
  and the number over 100 ms; and the view's measures in that window:
  `rh-checkpoint-fetch` (the arrays' routes, awaited), `rh-checkpoint-decode`,
  `rh-checkpoint-views` (the data in the store, every view updated),
  `rh-projection-draw-points` and `rh-projection-draw-trails` (per frame; the
  canvas rasterises trajectories later, at the frame's commit, which only the
  frame intervals show).

Then, in one browser with WebGL (SwiftShader), the time to first render from
navigation, three times each, alternating, each in a fresh browser context:
this plugin's view (PCA, precomputed: all 100k points drawn in a ready
layout, `data-points`), and TensorBoard's Embedding Projector on the same
100k x 64 states (a `projector_config.pbtxt` with a binary tensor and a
metadata TSV in the run directory), which computes its PCA in the browser. The
projector runs in an iframe inside an iframe (`projector_binary.html`), and its
`<vz-projector>` element is in Polymer shadow DOM: the bench polls that
element's own state (`dataSet.points.length`, `projection`) every 20 ms, then
waits two animation frames. Screenshots land in `test-artifacts/`.

    python bench/frontend_bench.py --comparison-only   # only the time to first render comparison
"""

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time
import urllib.parse

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.tensorboard_process import http_get, running_tensorboard  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
# The Embedding Projector draws with WebGL: software rendering in headless Chromium.
PROJECTOR_ARGS = CHROMIUM_ARGS[:2] + ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"] + CHROMIUM_ARGS[3:]
ARTIFACTS = ROOT / "test-artifacts"
FRAME_URL = "plugin_entry.html?name=rnn_hidden"
WORDS = ["the", "a", "film", "movie", "good", "bad", "not", "great", "boring", "plot", "<img src=x onerror=alert(1)>"]


def make_run(sequences, steps, units, seed=0):
    """Two checkpoints of a random tanh RNN reading random tokens; the second after a weight update."""
    rng = np.random.default_rng(seed)
    vocab = len(WORDS)
    embed = rng.standard_normal((vocab, units)).astype(np.float32)
    w = rng.standard_normal((units, units)).astype(np.float32) * (0.9 / np.sqrt(units))
    readout = rng.standard_normal((units, 3)).astype(np.float32) * 2
    ids = rng.integers(0, vocab, size=(sequences, steps))
    lengths = np.full(sequences, steps)
    labels = rng.integers(0, 3, size=sequences)
    checkpoints = []
    for k in range(2):
        w_k = w + k * 0.1 * rng.standard_normal(w.shape).astype(np.float32) / np.sqrt(units)
        h = np.zeros((sequences, units), np.float32)
        states = np.zeros((sequences, steps, units), np.float32)
        for t in range(steps):
            h = np.tanh(h @ w_k + embed[ids[:, t]] + 0.3 * labels[:, None] * embed[labels][:, :])
            states[:, t] = h
        logits = states @ readout
        probabilities = np.exp(logits - logits.max(-1, keepdims=True))
        probabilities /= probabilities.sum(-1, keepdims=True)
        tokens = np.array(WORDS, dtype=object)[ids]
        checkpoints.append(dict(states=states, probabilities=probabilities.astype(np.float32), tokens=tokens,
                                lengths=lengths, labels=labels, class_names=["neg", "neutral", "pos"]))
    return checkpoints


def write_logs(logdir, checkpoints, with_projector):
    from tb_rnn_hidden.writer import HiddenStateWriter

    run_dir = os.path.join(logdir, "bench")
    with HiddenStateWriter(run_dir) as writer:
        for step, data in enumerate(checkpoints):
            writer.add("lstm", step=step * 100, **data)
    if with_projector:
        data = checkpoints[-1]
        valid = np.concatenate([data["states"][i, :n] for i, n in enumerate(data["lengths"])])
        valid.astype(np.float32).tofile(os.path.join(run_dir, "states.bytes"))
        with open(os.path.join(run_dir, "metadata.tsv"), "w") as f:
            f.write("token\tclass\n")
            for i, n in enumerate(data["lengths"]):
                for t in range(n):
                    f.write("%s\t%d\n" % (data["tokens"][i, t].replace("\t", " "), data["labels"][i]))
        with open(os.path.join(run_dir, "projector_config.pbtxt"), "w") as f:
            f.write('embeddings {\n  tensor_name: "lstm_states"\n  tensor_path: "states.bytes"\n'
                    '  metadata_path: "metadata.tsv"\n  tensor_shape: %d\n  tensor_shape: %d\n}\n'
                    % valid.shape)
    return run_dir


def wait_for_pca(base, steps, timeout=600):
    """Until the precomputed PCA layouts (default parameters, align=neighbor) are stored."""
    deadline = time.time() + timeout
    for step in steps:
        query = urllib.parse.urlencode(dict(run="bench", tag="lstm", step=step, method="pca", align="neighbor"))
        while True:
            status, _, body = http_get(base + "/data/plugin/rnn_hidden/projection?" + query)
            state = json.loads(body).get("state") if status == 200 else None
            if state == "done":
                break
            if state == "failed" or time.time() > deadline:
                raise SystemExit("PCA of step %d: %s %s" % (step, status, body[:300]))
            time.sleep(1)


def summary(values):
    values = sorted(values)
    if not values:
        return "n/a"
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return "median %.1f ms, p95 %.1f ms, max %.1f ms (n=%d)" % (statistics.median(values), p95, values[-1], len(values))


def measures(frame, name):
    return frame.evaluate("n => performance.getEntriesByName(n).map(e => e.duration)", name)


def plugin_frame(page, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        frames = [f for f in page.frames if FRAME_URL in f.url]
        if frames:
            return frames[0]
        page.wait_for_timeout(50)
    raise SystemExit("no plugin frame")


FRAME_TIMER = """() => { window.__frames = []; window.__frameLoop = true;
  const tick = (t) => { window.__frames.push(t); if (window.__frameLoop) requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""
FRAME_STOP = """() => { window.__frameLoop = false; const f = window.__frames;
  return f.slice(1).map((t, i) => t - f[i]); }"""


CHECKPOINT_MEASURES = ("rh-checkpoint-fetch", "rh-checkpoint-decode", "rh-checkpoint-views",
                       "rh-projection-draw-points", "rh-projection-draw-trails")


def checkpoint_change(frame, key, measured):
    """Frame intervals from pressing `key` on the slider until the points have moved to the other layout.

    The window covers everything a checkpoint change does: the debounce, the
    fetch and decoding of the new arrays, every view's update, the projection
    request, and the move (`data-animating` true, then false); 300 ms after it
    are included. The view's own measures in that window are added to `measured`.
    """
    for name in CHECKPOINT_MEASURES:
        frame.evaluate("n => performance.clearMeasures(n)", name)
    frame.evaluate(FRAME_TIMER)
    frame.locator("#step-slider").press(key)
    frame.wait_for_function("() => document.querySelector('#projection-area').dataset.animating === 'true'",
                            timeout=30_000)
    frame.wait_for_function("() => document.querySelector('#projection-area').dataset.animating === 'false'",
                            timeout=30_000)
    frame.wait_for_timeout(300)
    intervals = frame.evaluate(FRAME_STOP)
    for name in CHECKPOINT_MEASURES:
        measured.setdefault(name, []).extend(measures(frame, name))
    return intervals


def report_checkpoint_change(results, label, frame):
    measured = {}
    intervals = checkpoint_change(frame, "Home", measured) + checkpoint_change(frame, "End", measured)
    results["checkpoint change, %s: frame interval" % label] = frame_summary(intervals)
    for name in CHECKPOINT_MEASURES:
        values = measured.get(name, [])
        results["  %s, %s" % (label, name)] = "max %.1f ms, median %.1f ms (n=%d)" % (
            max(values), statistics.median(values), len(values)) if values else "n/a"


def frame_summary(intervals):
    values = sorted(intervals)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return "max %.1f ms, p95 %.1f ms, median %.1f ms, frames over 100 ms: %d (n=%d)" % (
        values[-1], p95, statistics.median(values), sum(v > 100 for v in values), len(values))


def bench_plugin(browser, base, results):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/#rnn_hidden&rh_p_method=pca")  # the tab's URL state
    frame = plugin_frame(page)
    area = frame.locator("#projection-area")
    area.wait_for(state="visible", timeout=60_000)
    # The URL state of the tab: the PCA layout of the latest checkpoint.
    frame.wait_for_function(
        "() => document.querySelector('#projection-area')?.dataset.state === 'ready'", timeout=120_000)
    frame.wait_for_function("() => performance.getEntriesByName('rh-projection-first-render').length > 0",
                            timeout=60_000)
    page.wait_for_timeout(500)
    first = frame.evaluate("""() => {
      const render = performance.getEntriesByName('rh-projection-first-render')[0];
      const points = performance.getEntriesByType('resource').filter(e => e.name.includes('projection/points'));
      const seqs = performance.getEntriesByType('resource').filter(e => e.name.includes('/tokens') || e.name.includes('/sequences'));
      const end = render.startTime + render.duration;
      return {render: render.duration, points: document.querySelector('#projection-area').dataset.points,
              sinceResponse: points.length ? end - points[points.length - 1].responseEnd : null,
              draws: performance.getEntriesByName('rh-projection-draw-points').map(e => e.duration)};
    }""")
    results["first render (coords in store -> drawn)"] = "%.1f ms" % first["render"]
    if first["sinceResponse"] is not None:
        results["first render (/projection/points response end -> drawn)"] = "%.1f ms" % first["sinceResponse"]
    results["points drawn"] = first["points"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "bench_projection_100k.png"))

    box = area.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    # Pan: a 60-step drag, frames timed by requestAnimationFrame.
    frame.evaluate("() => performance.clearMeasures('rh-projection-draw-points')")
    frame.evaluate(FRAME_TIMER)
    page.mouse.move(cx, cy)
    page.mouse.down()
    for i in range(1, 61):
        page.mouse.move(cx + 150 * np.sin(i / 10), cy + 80 * np.sin(i / 7))
        page.wait_for_timeout(16)
    page.mouse.up()
    intervals = frame.evaluate(FRAME_STOP)
    results["pan: frame interval"] = summary(intervals[2:])
    results["pan: points redraw per frame"] = summary(measures(frame, "rh-projection-draw-points"))
    frame.locator("#projection-reset").click()
    page.wait_for_timeout(200)

    # Hover: moves over the plot; only moves that change the hovered point are measured.
    frame.evaluate("() => performance.clearMeasures('rh-projection-hover')")
    rng = np.random.default_rng(1)
    for _ in range(150):
        page.mouse.move(box["x"] + box["width"] * rng.uniform(0.2, 0.8), box["y"] + box["height"] * rng.uniform(0.2, 0.8))
        page.wait_for_timeout(10)
    hover = measures(frame, "rh-projection-hover")
    results["hover highlight"] = summary(hover)
    page.screenshot(path=str(ARTIFACTS / "bench_projection_hover.png"))

    # Checkpoint change with one sequence selected (its trajectory drawn): to step 0 and back.
    frame.locator("#sequence-table tbody tr[data-index]").first.click()
    page.wait_for_timeout(300)
    report_checkpoint_change(results, "1 sequence selected", frame)

    # Box brush: shift+drag, 10 boxes from small to a quarter of the plot.
    frame.evaluate("() => performance.clearMeasures('rh-projection-brush')")
    brushed = []
    for i in range(10):
        half_w, half_h = box["width"] * (0.03 + 0.025 * i), box["height"] * (0.03 + 0.025 * i)
        x0, y0 = cx - half_w + rng.uniform(-40, 40), cy - half_h + rng.uniform(-40, 40)
        page.keyboard.down("Shift")
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x0 + half_w, y0 + half_h, steps=3)
        page.mouse.move(x0 + 2 * half_w, y0 + 2 * half_h, steps=3)
        page.mouse.up()
        page.keyboard.up("Shift")
        page.wait_for_timeout(100)
        brushed.append(frame.locator("#projection-brush-count").text_content() if
                       frame.locator("#projection-brush-count").count() else "0 points brushed")
    results["box brush"] = summary(measures(frame, "rh-projection-brush"))
    results["box brush sizes"] = ", ".join(b.split(" ")[0] for b in brushed) + " points"
    page.screenshot(path=str(ARTIFACTS / "bench_projection_brush.png"))
    frame.locator("#projection-clear-brush").click()

    # Checkpoint change with the last brush's sequences selected (200 trajectories drawn): to step 0 and back.
    report_checkpoint_change(results, "the brush's sequences selected", frame)
    results["checkpoint change: legend"] = frame.locator("#projection-legend").inner_text().replace("\n", " | ")
    page.screenshot(path=str(ARTIFACTS / "bench_projection_checkpoint_change.png"))
    results["page errors"] = errors or "none"
    page.close()


# The Embedding Projector runs in an iframe (plugin_entry.html?name=projector) that holds another
# (projector_binary.html); its <vz-projector> sits in Polymer shadow DOM. Read its own state there.
PROJECTOR_STATE = """() => {
  const find = (root) => {
    const hit = root.querySelector('vz-projector');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const x = find(el.shadowRoot); if (x) return x; }
    return null;
  };
  const p = find(document);
  const ds = p && p.dataSet;
  return {points: ds ? ds.points.length : 0, projection: p && p.projection ? p.projection.projectionType : null};
}"""
PLUGIN_STATE = """() => { const a = document.querySelector('#projection-area');
  return {points: a ? Number(a.dataset.points) : 0, projection: a && a.dataset.state === 'ready' ? 'ready' : null}; }"""
# Two animation frames after the state says drawn: the frame with the draw has been presented.
TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r())))"


def time_to_first_render(browser, url, frame_match, state_js, num_points, timeout=300):
    """Seconds from navigation to the first frame with all points drawn in a layout, polled every 20 ms."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # cold cache
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    start = time.perf_counter()
    page.goto(url)
    deadline = start + timeout
    loaded = None
    try:
        while time.perf_counter() < deadline:
            frames = [f for f in page.frames if frame_match in f.url]
            state = frames[0].evaluate(state_js) if frames else None
            if state and state["points"] >= num_points and loaded is None:
                loaded = time.perf_counter() - start
            if state and state["points"] >= num_points and state["projection"]:
                frames[0].evaluate(TWO_FRAMES)
                return dict(drawn=time.perf_counter() - start, loaded=loaded, page=page, context=context,
                            projection=state["projection"], errors=errors)
            page.wait_for_timeout(20)  # (not time.sleep: Playwright must process frame events)
    except Exception as e:  # report what happened, not a crash
        return dict(drawn=None, loaded=loaded, page=page, context=context, projection=None,
                    errors=errors + [repr(e)])
    return dict(drawn=None, loaded=loaded, page=page, context=context, projection=None, errors=errors)


def bench_projector(browser, base, results, num_points, repeats=3):
    """Time to first render of this plugin's view and of the Embedding Projector, alternating, same browser."""
    ours, theirs = [], []
    for i in range(repeats):
        run = time_to_first_render(browser, base + "/#rnn_hidden&rh_p_method=pca", FRAME_URL, PLUGIN_STATE,
                                   num_points)
        ours.append(run["drawn"])
        if i == 0:
            results["ours page errors"] = run["errors"] or "none"
        run["context"].close()
        run = time_to_first_render(browser, base + "/#projector", "projector_binary.html", PROJECTOR_STATE,
                                   num_points)
        theirs.append(run["drawn"])
        if i == 0:
            results["projector: tensor of %d points loaded after" % num_points] = (
                "%.2f s" % run["loaded"] if run["loaded"] is not None else "not within the timeout")
            results["projector: layout"] = run["projection"] or "none"
            page = run["page"]
            inner = page.frame_locator("iframe").first.frame_locator("iframe").first
            for note in ("PCA is approximate", "Total variance described"):
                found = inner.locator("text=/%s/" % note)
                if found.count():
                    results["projector says"] = "; ".join(
                        filter(None, [results.get("projector says"), found.first.inner_text().strip()[:100]]))
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "bench_projector.png"))
            results["projector page errors"] = run["errors"] or "none"
        run["context"].close()
    fmt = lambda xs: ", ".join("%.2f s" % x if x is not None else "n/a" for x in xs)
    results["first render from navigation: ours"] = fmt(ours)
    results["first render from navigation: Embedding Projector"] = fmt(theirs)
    if all(x is not None for x in ours + theirs):
        ratio = statistics.median(theirs) / statistics.median(ours)
        results["first render, medians: projector / ours"] = "%.2f s / %.2f s = %.1fx" % (
            statistics.median(theirs), statistics.median(ours), ratio)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--no-projector", action="store_true")
    parser.add_argument("--comparison-only", action="store_true",
                        help="only the time to first render of ours vs the Embedding Projector")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    tmp = tempfile.mkdtemp(prefix="frontend_bench_")
    logdir = os.path.join(tmp, "logs")
    checkpoints = make_run(args.sequences, args.steps, args.units)
    write_logs(logdir, checkpoints, not args.no_projector)
    num_points = int(checkpoints[0]["lengths"].sum())
    results = {"points": num_points}
    print("logdir written: %d points" % num_points, flush=True)
    with running_tensorboard(logdir, "--rnn_hidden_precompute=pca", "--rnn_hidden_precompute_interval=2",
                             "--rnn_hidden_cache_dir=" + os.path.join(tmp, "cache")) as base:
        start = time.perf_counter()
        wait_for_pca(base, [0, 100])
        print("PCA cached after %.1f s" % (time.perf_counter() - start), flush=True)
        with sync_playwright() as p:
            if not args.comparison_only:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                bench_plugin(browser, base, results)
                browser.close()
            if not args.no_projector:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=PROJECTOR_ARGS)
                bench_projector(browser, base, results, num_points)
                browser.close()
    for key, value in results.items():
        print("%s: %s" % (key, value))


if __name__ == "__main__":
    main()
