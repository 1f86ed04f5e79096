"""A logdir whose run and tag names are everything a careless or hostile user might write.

Run names are directory names, so each name below is a directory (Linux
allows a newline in one). Every name is used once as a run and once as a tag
of the run before it, and one plain run keeps a plain tag: 31 run x tag pairs,
each holding one small checkpoint with its own number of sequences, so a test
can tell from "N sequences" which checkpoint the tab shows.
"""

from tb_rnn_hidden import writer
from tests.support.checkpoints import make_checkpoint

# name -> why it is hostile
HOSTILE_NAMES = {
    'say "hi"': "a JSON quote",
    "back\\slash": "a JSON escape",
    "line\nbreak": "a newline (a control character JSON escapes)",
    "tab\there": "a tab",
    "<script>alert(1)</script>": "markup that runs",
    "<img src=x onerror=alert(2)>": "markup that runs on load",
    "100% %2F %00": "URL escapes that must not be decoded twice",
    "a&b=c": "a query separator",
    "#fragment": "a URL fragment",
    "why?step=3": "a query start",
    "a+b": "a form-encoded space",
    "  spaced  out ": "leading, doubled and trailing spaces",
    "\u202eevil\u200f": "right-to-left override and mark",
    "\U0001f9e0\U0001f525 emoji": "characters outside the BMP (surrogate pairs in JS)",
    "long-" + "x" * 195: "a 200-character name",
}
PLAIN = ("plain", "lstm")


def hostile_pairs():
    """[(run, tag, step, num_sequences)] of the logdir `write_hostile_logdir` writes."""
    names = list(HOSTILE_NAMES)
    pairs = [PLAIN]
    for i, run in enumerate(names):
        pairs.append((run, "lstm"))
        pairs.append((run, names[(i + 1) % len(names)]))
    # One step per pair, and a number of sequences that names the pair.
    return [(run, tag, 3 + k, 3 + k % 7) for k, (run, tag) in enumerate(pairs)]


def checkpoint_of(step, num_sequences):
    return make_checkpoint(seed=step, n=num_sequences, h=4, annotations=True)


def write_hostile_logdir(logdir):
    """Writes one checkpoint per pair of `hostile_pairs()` under `logdir`; returns the pairs."""
    pairs = hostile_pairs()
    runs = {}
    for run, tag, step, n in pairs:
        runs.setdefault(run, []).append((step, tag, n))
    for run, series in runs.items():
        with writer.HiddenStateWriter("%s/%s" % (logdir, run)) as w:
            for step, tag, n in sorted(series):
                w.add(tag, step=step, **checkpoint_of(step, n))
    return pairs
