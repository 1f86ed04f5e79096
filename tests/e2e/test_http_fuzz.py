"""A bounded fuzz of every route on a real `tensorboard`, under both loaders.

A seeded generator (`tests/support/http_fuzz.py`) sends hostile requests:
parameters missing, duplicated, of the wrong type, huge, negative, NaN, in
other scripts, very long; unknown runs, tags and steps; odd methods; POST
bodies of JSON and of anything else. The logdir has no corrupt records, so
every answer must be below 500; every error a JSON `{"error": "..."}`; every
binary answer as long as its shape says; every request answered within 10 s;
and TensorBoard still serves the same `/tags` at the end.

`RNN_HIDDEN_FUZZ_REQUESTS` and `RNN_HIDDEN_FUZZ_SEED` change the number of
requests per loader (default 5,000: on our 2-core machine about 50 s under
the data server, 15 s under the Python loader) and the seed.
"""

import collections
import json
import os
import pathlib
import random
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tb_rnn_hidden import writer
from tests.support.checkpoints import make_checkpoint
from tests.support.http_fuzz import PREFIX, ROUTES, RequestFuzzer, check_answer
from tests.support.paths import ROOT
from tests.support.tensorboard_process import http_get, running_tensorboard

REQUESTS = int(os.environ.get("RNN_HIDDEN_FUZZ_REQUESTS", 5000))
SEED = int(os.environ.get("RNN_HIDDEN_FUZZ_SEED", 12))
ANSWER_WITHIN_S = 10.0
ARTIFACTS = pathlib.Path(ROOT) / "test-artifacts"
LOADERS = [
    pytest.param((), id="default-loader"),
    pytest.param(("--load_fast=false",), id="python-loader"),
]
# (run, tag) -> steps; small checkpoints, so that the jobs the fuzz starts end fast.
LAYOUT = {
    ("train", "lstm"): [0, 5, 10],
    ("train", "gru"): [10],
    ('say "hi"', "tab\there"): [3],  # read from the event files under the default loader
}


def _write_logdir(logdir):
    for run in {run for run, _ in LAYOUT}:
        with writer.HiddenStateWriter(os.path.join(logdir, run)) as w:
            series = sorted((step, tag) for (r, tag), steps in LAYOUT.items() if r == run
                            for step in steps)
            for step, tag in series:
                data = make_checkpoint(seed=step, n=20, t=10, h=4, tokens=tag != "gru",
                                       annotations=tag == "lstm")
                if tag == "gru":  # logged without probabilities: those routes answer 404
                    data.update(probabilities=None, class_names=None)
                w.add(tag, step=step, **data)


def _send(base, request):
    """(status, headers, body, seconds); status None on a timeout or a dropped connection."""
    headers = {} if request.content_type is None else {"Content-Type": request.content_type}
    http_request = urllib.request.Request(base + request.path, data=request.body,
                                          method=request.method, headers=headers)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(http_request, timeout=ANSWER_WITHIN_S) as response:
            status, answer_headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, answer_headers, body = e.code, e.headers, e.read()
    except (OSError, urllib.error.URLError) as e:  # timeout, reset
        return None, {}, repr(e).encode(), time.monotonic() - start
    return status, answer_headers, body, time.monotonic() - start


@pytest.mark.parametrize("loader_flags", LOADERS)
def test_every_route_answers_hostile_requests_with_a_4xx_json_error(tmp_path, loader_flags):
    logdir = str(tmp_path / "logs")
    _write_logdir(logdir)
    cache = str(tmp_path / "cache")
    with running_tensorboard(logdir, *loader_flags, "--rnn_hidden_precompute=none",
                             "--rnn_hidden_cache_dir", cache) as base:
        listing = _get_json(base, "/tags")
        series = [(run, tag, listing[run][tag]["steps"]) for run, tag in LAYOUT]
        assert [steps for _, _, steps in series] == list(LAYOUT.values())
        # Every checkpoint once before the clock runs (the first read of the
        # quoted run imports TensorFlow's record reader: seconds).
        for run, tag, steps in series:
            for step in steps:
                query = urllib.parse.urlencode(dict(run=run, tag=tag, step=step))
                assert http_get(base + PREFIX + "/states?" + query)[0] == 200

        fuzzer = RequestFuzzer(random.Random(SEED), series, _get_json(base, "/info")["params"])
        sent = collections.Counter()
        answers = collections.Counter()  # (route, status)
        failures = []
        start = time.monotonic()
        for _ in range(REQUESTS):
            request = fuzzer.request()
            status, headers, body, seconds = _send(base, request)
            sent[request.route] += 1
            answers[request.route, status] += 1
            problems = [] if status is not None else ["no answer: %s" % body.decode()]
            if status is not None:
                problems += check_answer(request, status, headers, body)
            if seconds > ANSWER_WITHIN_S:
                problems.append("answered after %.1f s" % seconds)
            if problems:
                failures.append("%s <- %s" % ("; ".join(problems), request.describe()))

        _report(loader_flags, sent, answers, time.monotonic() - start)
        assert set(sent) == set(ROUTES)
        assert _get_json(base, "/tags") == listing  # still up, serving the same
    assert failures == [], "%d of %d requests failed:\n%s" % (
        len(failures), REQUESTS, "\n".join(failures[:40]))


def _report(loader_flags, sent, answers, seconds):
    """Prints the requests sent per route, and keeps them with the answers in test-artifacts/."""
    loader = " ".join(loader_flags) or "default loader"
    print("\n%s: %d requests (seed %d) in %.0f s, by route: %s" % (
        loader, REQUESTS, SEED, seconds, dict(sorted(sent.items()))))
    by_route = collections.defaultdict(dict)
    for (route, status), count in answers.items():
        by_route[route][str(status)] = count
    ARTIFACTS.mkdir(exist_ok=True)
    name = "http_fuzz_%s.json" % ("python_loader" if loader_flags else "default_loader")
    (ARTIFACTS / name).write_text(json.dumps(
        dict(loader=loader, seed=SEED, requests=REQUESTS, seconds=round(seconds, 1),
             answers_by_route=by_route), indent=1, sort_keys=True))


def _get_json(base, route):
    status, _, body = http_get(base + PREFIX + route)
    assert status == 200, body
    return json.loads(body)


if __name__ == "__main__":
    import sys

    sys.exit(pytest.main([__file__, "-q", "-s"]))
