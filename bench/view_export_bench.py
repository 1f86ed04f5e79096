"""The projection's SVG and PNG export at 100k points: time, size, and the SVG opened on its own.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/view_export_bench.py [--sequences 1000] [--steps 100] [--units 64] [--selected 20] [--repeats 3]

One checkpoint (1000 sequences x 100 steps = 100,000 points, tokens, class
probabilities) is written with the real writer (`HiddenStateWriter`), and
TensorBoard started with `--rnn_hidden_precompute=pca`, so that the layout is
ready. The system Chromium (Playwright, 1280x800, device pixel ratio 1) opens
the tab with `method=pca` and `--selected` sequences selected (their
trajectories drawn), then exports the projection through its menu, SVG and
PNG, `--repeats` times each, and reports:

- the export's own time, `rh-view-export` (User Timing: from the choice to
  the file's bytes), and the time from the click to Playwright's download;
- the file's size;
- the SVG opened on its own in a new page (`file://`): the time until it is
  loaded and its point circles counted, and that count.
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tb_rnn_hidden import writer  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, plugin_frame  # noqa: E402
from tests.support.tensorboard_process import running_tensorboard  # noqa: E402


def _write(logdir, n, t, h):
    rng = np.random.default_rng(0)
    states = np.tanh(rng.standard_normal((n, t, h))).astype(np.float32)
    logits = rng.standard_normal((n, t, 3)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    words = np.array(["good", "bad", "not", "the", "film", "plot", "story", "boring"], dtype=object)
    tokens = words[rng.integers(0, len(words), size=(n, t))]
    with writer.HiddenStateWriter(os.path.join(logdir, "train")) as w:
        w.add("lstm", step=0, states=states, lengths=np.full(n, t), tokens=tokens,
              probabilities=probabilities, labels=rng.integers(0, 3, size=n),
              class_names=["neg", "neutral", "pos"])


def _export(page, frame, kind, folder):
    menu = frame.locator('[data-export-menu="projection"]')
    menu.locator("summary").click()
    t0 = time.perf_counter()
    with page.expect_download(timeout=300_000) as info:
        menu.locator('[data-export="%s"]' % kind).click()
    path = folder / ("export.%s" % kind)
    info.value.save_as(str(path))
    wall = time.perf_counter() - t0
    own = frame.evaluate("() => performance.getEntriesByName('rh-view-export').at(-1).duration") / 1000
    return own, wall, path.stat().st_size, path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--selected", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        _write(str(folder / "logs"), args.sequences, args.steps, args.units)
        points = args.sequences * args.steps
        with running_tensorboard(str(folder / "logs"), "--rnn_hidden_precompute=pca",
                                 "--rnn_hidden_cache_dir", str(folder / "cache")) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
            selected = ",".join(map(str, range(args.selected)))
            page.goto(url + "/#rnn_hidden&rh_p_method=pca&rh_sel=%s&rh_focus=0" % selected)
            frame = plugin_frame(page)
            area = frame.locator("#projection-area")
            expect(area).to_have_attribute("data-points", str(points), timeout=300_000)
            expect(area).to_have_attribute("data-animating", "false", timeout=60_000)
            print("%d points, %d trajectories drawn" % (points, len(area.get_attribute("data-trajectories").split(","))))
            for kind in ("svg", "png"):
                runs = [_export(page, frame, kind, folder) for _ in range(args.repeats)]
                print("%s: export %.2f s (median of %d; click to download %.2f s), %.2f MB" % (
                    kind.upper(), statistics.median(r[0] for r in runs), len(runs),
                    statistics.median(r[1] for r in runs), runs[-1][2] / 1e6))
            svg = folder / "export.svg"
            opened = browser.new_page(viewport={"width": 1000, "height": 800})
            t0 = time.perf_counter()
            opened.goto(svg.as_uri())
            circles = opened.evaluate("() => document.querySelectorAll('g.points circle:not(.ring)').length")
            print("SVG opened on its own: %.2f s to load and count %d point circles" % (time.perf_counter() - t0, circles))
            browser.close()


if __name__ == "__main__":
    main()
