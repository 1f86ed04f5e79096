"""The units view's latency: from focusing a sequence (or showing another checkpoint)
to its unit lines drawn, in the system Chromium against a real `tensorboard` (issue 13).

Not a test: run it by hand and record the output in bench/RESULTS.md ("Units view:
one sequence's states").

    python bench/units_focus_bench.py demo LOGDIR [RUN TAG]   # e.g. the demo's --probe 4500 run
    python bench/units_focus_bench.py synthetic [SEQUENCES STEPS UNITS]   # default 1000 x 20 x 1024, float16

It measures whatever frontend is built (`tb_rnn_hidden/static/index.js`): build the
one to compare, run, build the other, run again. TensorBoard runs with
`--rnn_hidden_precompute=none`; the page opens with PCA at the last checkpoint,
sequence 0 focused, and the bench waits until the projection is drawn (so that
its computation does not overlap the timings). Then, with the User Timing
measure the units view records per draw (`rh-units-draw`), timed inside the
plugin's frame:

- open: the LSTMVis row opened -> the focused sequence's lines drawn (the first
  states read of this checkpoint);
- focus: the address' `rh_focus` changed to another sequence (as a link or
  an edited address does) -> its lines drawn; 10 sequences not focused before;
- checkpoint: the slider moved to the previous checkpoint and back (when the
  run has several) -> the focused sequence's lines of that checkpoint drawn;
  this includes the checkpoint loader's debounce and its arrays, as a user waits.
"""

import os
import shutil
import statistics
import sys
import tempfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, plugin_frame  # noqa: E402
from tests.support.tensorboard_process import running_tensorboard  # noqa: E402

FOCUSES = 10

# In the plugin's frame: resolves with ms from `t0` to the end of the first units draw
# after it that shows `sequence` (and, for a checkpoint change, the checkpoint's step).
WAIT_DRAWN = """([t0, sequence]) => new Promise((resolve, reject) => {
  const deadline = performance.now() + 120000;
  const check = () => {
    const root = document.querySelector("#units-root");
    const draws = performance.getEntriesByName("rh-units-draw").filter((e) => e.startTime >= t0);
    if (draws.length > 0 && root.dataset.sequence === String(sequence)) {
      const first = draws[0];
      const asked = performance.getEntriesByType("resource").filter((e) => e.name.includes("/states?") && e.startTime >= t0);
      const request = asked.length > 0 ? [asked[0].startTime - t0, asked[0].responseEnd - t0] : null;
      const measures = performance.getEntriesByType("measure").filter((e) => e.startTime >= t0 && e.startTime <= first.startTime)
        .map((e) => `${e.name}@${Math.round(e.startTime - t0)}+${Math.round(e.duration)}`);
      if (window.UNITS_BENCH_DEBUG) console.log(JSON.stringify(measures));
      return resolve([first.startTime + first.duration - t0, request, measures]);
    }
    const status = document.querySelector("#units-status");
    if (status.dataset.kind === "error") return reject(new Error("refused: " + status.textContent));
    if (performance.now() > deadline) return reject(new Error("not drawn: " + document.querySelector("#units-status").textContent));
    setTimeout(check, 2);
  };
  check();
})"""

FOCUS = """(sequence) => {
  const hash = window.parent.location.hash.replace(/&rh_(sel|focus)=[^&]*/g, "");
  const t0 = performance.now();
  window.parent.location.hash = hash + "&rh_sel=" + sequence + "&rh_focus=" + sequence;
  return t0;
}"""

SLIDE = """(index) => {
  const slider = document.querySelector("#step-slider");
  const t0 = performance.now();
  slider.value = String(index);
  slider.dispatchEvent(new Event("input", { bubbles: true }));
  return t0;
}"""


def synthetic_logdir(n, t, h):
    """A float16 checkpoint of `n` sequences of `t` steps and `h` units, by the real writer."""
    from tb_rnn_hidden import writer

    logdir = tempfile.mkdtemp(prefix="units_focus_")
    rng = np.random.default_rng(0)
    states = np.tanh(rng.standard_normal((n, t, h), dtype=np.float32))
    tokens = np.array(list("abcdefgh"), dtype=object)[rng.integers(0, 8, size=(n, t))]
    with writer.HiddenStateWriter(os.path.join(logdir, "synthetic")) as w:
        w.add("lstm", step=1, states=states, tokens=tokens, lengths=np.full(n, t), precision="float16")
    return logdir, "synthetic", "lstm"


def measure(url, run, tag, num_sequences, steps):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1024})
        page.goto(url + "/#rnn_hidden&rh_run=%s&rh_tag=%s&rh_p_method=pca&rh_sel=0&rh_focus=0" % (run, tag))
        frame = plugin_frame(page)
        expect(frame.locator("#projection-area")).to_have_attribute("data-state", "ready", timeout=300_000)
        t0 = frame.evaluate("() => { const t0 = performance.now(); document.querySelector('#lstmvis-toggle').click(); return t0; }")
        opened = frame.evaluate(WAIT_DRAWN, [t0, 0])
        focus = []
        for sequence in np.linspace(1, num_sequences - 1, FOCUSES).astype(int):
            t0 = frame.evaluate(FOCUS, int(sequence))
            focus.append(frame.evaluate(WAIT_DRAWN, [t0, int(sequence)]))
        last = int(sequence)
        moves = []
        if len(steps) > 1:
            for index in (len(steps) - 2, len(steps) - 1, len(steps) - 2, len(steps) - 1):
                t0 = frame.evaluate(SLIDE, index)
                moves.append(frame.evaluate(WAIT_DRAWN, [t0, last]))
        browser.close()
    return opened, focus, moves


def main(argv):
    if argv[:1] == ["demo"]:
        logdir = argv[1]
        run, tag = (argv[2], argv[3]) if len(argv) > 3 else (None, None)
    else:
        n, t, h = (int(a) for a in (argv[1:4] if len(argv) > 3 else (1000, 20, 1024)))
        logdir, run, tag = synthetic_logdir(n, t, h)
    cache = tempfile.mkdtemp(prefix="units_focus_cache_")
    try:
        run_bench(logdir, run, tag, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if argv[:1] != ["demo"]:
            shutil.rmtree(logdir, ignore_errors=True)


def run_bench(logdir, run, tag, cache):
    import json
    import urllib.request

    with running_tensorboard(logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", cache) as url:
        tags = json.load(urllib.request.urlopen(url + "/data/plugin/rnn_hidden/tags"))
        run = run or sorted(tags)[0]
        tag = tag or sorted(tags[run])[0]
        steps = tags[run][tag]["steps"]
        query = "run=%s&tag=%s&step=%d" % (run, tag, steps[-1])
        header = json.load(urllib.request.urlopen(url + "/data/plugin/rnn_hidden/sequences?" + query))
        num_sequences = header["num_sequences"]
        print("%s/%s step %d: %d sequences, %d steps x %d units (%s), %d checkpoints" % (
            run, tag, steps[-1], num_sequences, sum(header["lengths"]), header["state_size"],
            header["states_dtype"], len(steps)))
        try:
            opened, focus, moves = measure(url, run, tag, num_sequences, steps)
        except Exception as e:  # the old tab's cap: says why it draws nothing
            print("not drawn: %s" % str(e).splitlines()[0])
            return
    report("open -> drawn", [opened])
    report("focus -> drawn", focus)
    if moves:
        report("checkpoint change -> drawn", moves)


def report(what, timings):
    """Median and max of (ms to drawn, [ms to the states request's start, end] or None)."""
    drawn = [t for t, _, _ in timings]
    asked = [r for _, r, _ in timings if r is not None]
    if os.environ.get("UNITS_BENCH_DEBUG"):
        for _, _, measures in timings:
            print("   ", " ".join(measures))
    line = "%s (%d): median %.0f ms, max %.0f ms" % (what, len(drawn), statistics.median(drawn), max(drawn))
    if asked:
        line += "; its /states request from %.0f to %.0f ms (medians)" % (
            statistics.median(r[0] for r in asked), statistics.median(r[1] for r in asked))
    print(line)

if __name__ == "__main__":
    main(sys.argv[1:])
