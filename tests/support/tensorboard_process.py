"""Runs a real `tensorboard` process on a logdir, for end-to-end and browser tests."""

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tensorboard.backend.event_processing import event_file_loader

from tb_rnn_hidden.records import metadata

# How long to wait for every logged step to be listed before handing over what is listed.
LISTING_WAIT_S = 60

_URL_LINE = re.compile(r"TensorBoard \S+ at (http://\S+?)/? ")


def http_get(url, timeout=30):
    """(status, headers, body bytes), without raising on 4xx/5xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def http_post_json(url, body, timeout=30):
    """(status, headers, body bytes) of a POST of `body` as JSON, without raising on 4xx/5xx:
    how the tab starts and cancels projection jobs."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def logged_steps(logdir):
    """{(run, tag): last step} of every rnn_hidden tag in `logdir`'s event files, as TensorBoard names runs.

    Read with TensorBoard's own event-file reader; a file it cannot read to the
    end counts with what it read.
    """
    logged = {}
    for directory, _, files in os.walk(logdir):
        run = os.path.relpath(directory, logdir).replace(os.sep, "/")
        tags = set()
        for name in sorted(f for f in files if "tfevents" in f):
            try:
                for event in event_file_loader.EventFileLoader(os.path.join(directory, name)).Load():
                    for value in event.summary.value:
                        if value.metadata.plugin_data.plugin_name == metadata.PLUGIN_NAME:
                            tags.add(value.tag)
                        if value.tag in tags:
                            logged[(run, value.tag)] = max(event.step, logged.get((run, value.tag), event.step))
            except Exception:  # noqa: BLE001 -- a truncated or corrupt file: what was read counts
                continue
    return logged


def _unlisted(listing, logged):
    """The logged (run, tag, last step)s the plugin's /tags does not list yet: the Rust data server
    lists a run while it still reads its later steps, and a tab opened then shows an earlier one."""
    return sorted("%s/%s@%d" % (run, tag, last) for (run, tag), last in logged.items()
                  if last not in listing.get(run, {}).get(tag, {}).get("steps", ()))


@contextlib.contextmanager
def running_tensorboard(logdir, *extra_args, timeout=120, wait_for_plugin_data=True, env=None):
    """Yields the base URL of a TensorBoard serving `logdir` once our plugin lists every logged step
    (or, after LISTING_WAIT_S, lists some: a corrupt record never lists).

    With `wait_for_plugin_data=False`, once the plugin answers at all (for a
    logdir without hidden-state data). `env` adds to (or overrides) the
    process's environment, e.g. a `PYTHONPATH` entry.
    """
    log_path = os.path.join(os.path.dirname(logdir.rstrip("/")), "tensorboard.log")
    with open(log_path, "w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", logdir,
             "--host", "127.0.0.1", "--port", "0", "--reload_interval", "1", *extra_args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {})),
        )
        try:
            base = None
            deadline = time.time() + timeout
            logged = logged_steps(logdir) if wait_for_plugin_data else {}
            listed_by = time.time() + min(timeout, LISTING_WAIT_S)
            while time.time() < deadline:
                if process.poll() is not None:
                    break
                log.seek(0)
                match = _URL_LINE.search(log.read())
                if match:
                    base = match.group(1)
                    status, _, body = http_get(base + "/data/plugin/rnn_hidden/tags")
                    listing = json.loads(body) if status == 200 else None
                    if listing is not None and not wait_for_plugin_data:
                        break
                    if listing and not _unlisted(listing, logged):
                        break
                    if listing and time.time() > listed_by:
                        print("running_tensorboard: after %ds, not every logged step is listed: %s"
                              % (LISTING_WAIT_S, _unlisted(listing, logged)), file=sys.stderr)
                        break  # some records never list (corrupt ones): the test says what it sees
                time.sleep(0.5)
            else:
                raise AssertionError("TensorBoard did not serve rnn_hidden data in %ds" % timeout)
            if process.poll() is not None or base is None:
                log.seek(0)
                raise AssertionError("TensorBoard exited or printed no URL:\n" + log.read())
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
