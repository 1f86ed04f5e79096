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


@contextlib.contextmanager
def running_tensorboard(logdir, *extra_args, timeout=120, wait_for_plugin_data=True, env=None):
    """Yields the base URL of a TensorBoard serving `logdir` once our plugin has data.

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
            while time.time() < deadline:
                if process.poll() is not None:
                    break
                log.seek(0)
                match = _URL_LINE.search(log.read())
                if match:
                    base = match.group(1)
                    status, _, body = http_get(base + "/data/plugin/rnn_hidden/tags")
                    if status == 200 and (json.loads(body) or not wait_for_plugin_data):
                        break
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
