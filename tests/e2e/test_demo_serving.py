"""`make demo` as a new user runs it, with its output going to a log instead of a terminal.

The demo (demo/train.py, then demo/serving.py) trains an LSTM and a GRU, starts a real
`tensorboard` and prints its address: the address must answer the moment it
is printed (the tab's data route, with both logged runs complete in it), and nothing the
demo or TensorFlow writes may carry ANSI escape codes when stdout is not a
terminal (Keras' progress bar). A TensorBoard that cannot start (its port
taken) must make the demo exit non-zero, saying why, and a SIGTERM to the demo must
stop its TensorBoard too. Each process tree is killed afterwards.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.support.paths import DEMO, ROOT
from tests.support.tensorboard_process import http_get

READY = re.compile(r"TensorBoard is ready: open (http://localhost:(\d+)/)#rnn_hidden")
TIMEOUT_S = 600


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


class Demo:
    """A demo process in its own session (so that its TensorBoard child dies with it), both streams read."""

    def __init__(self, args, cwd=None):
        self.process = subprocess.Popen(
            [sys.executable, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace", start_new_session=True,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))),
        )
        self.stdout_lines = []
        self.stderr_lines = []
        self._stderr = threading.Thread(target=self._drain, daemon=True)
        self._stderr.start()

    def _drain(self):
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def read_until(self, pattern):
        """Reads stdout up to the first line matching `pattern` (its match), or to the end (None)."""
        for line in self.process.stdout:
            self.stdout_lines.append(line)
            match = pattern.search(line)
            if match:
                return match
        return None

    def output(self):
        return "".join(self.stdout_lines) + "".join(self.stderr_lines)

    def kill_tree(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # TensorBoard, in the same session, may outlive the demo by a moment.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def demos():
    started = []
    yield lambda *args, **kwargs: started.append(Demo(*args, **kwargs)) or started[-1]
    for demo in started:
        demo.kill_tree()


def test_the_printed_address_answers_at_once_and_the_log_has_no_ansi_codes(tmp_path, demos):
    port = free_port()
    demo = demos([DEMO, "--quick", "--logdir", str(tmp_path / "logs"), "--port", str(port)])
    ready = demo.read_until(READY)
    assert ready is not None, demo.output()[-3000:]
    assert int(ready.group(2)) == port
    # At once: no retry, no wait between reading the line and asking.
    status, _, body = http_get(ready.group(1) + "data/plugin/rnn_hidden/tags", timeout=10)
    assert status == 200, body
    listed = json.loads(body)
    assert listed["generated"]["lstm"]["steps"] == listed["generated-gru"]["gru"]["steps"] == [0, 1, 2, 3, 4]
    assert demo.process.poll() is None  # still serving
    assert "".join(demo.stdout_lines).count("logged 5 checkpoints") == 2
    # The address is the last thing the demo prints before serving, and printed once.
    assert sum("http://" in line for line in demo.stdout_lines) == 1
    # Keras wrote one plain line per epoch of each model (no progress bar), TensorFlow and TensorBoard
    # no escape codes.
    assert "\x1b[" not in demo.output()
    assert sum(line.startswith("Epoch ") for line in demo.stdout_lines) == 4 * len(listed)


def test_a_tensorboard_that_cannot_start_stops_the_demo_with_its_reason(tmp_path, demos):
    # The demo's serving step alone on an empty log dir, its port taken by another listener.
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = ("import argparse, serving; "
                "serving.open_tensorboard(argparse.Namespace(no_serve=False, logdir=%r, port=%r))"
                % (str(tmp_path), str(port)))
        demo = demos(["-c", code], cwd=os.path.dirname(DEMO))
        assert demo.read_until(READY) is None
        demo.process.wait(timeout=TIMEOUT_S)
        demo._stderr.join(timeout=10)
    assert demo.process.returncode not in (0, None)
    error = "".join(demo.stderr_lines)
    assert "error: TensorBoard exited" in error and "port %d" % port in error, error[-3000:]
    assert "in use" in error  # TensorBoard's own reason, passed on
    assert "http://" not in "".join(demo.stdout_lines)


def test_a_sigterm_to_the_demo_stops_its_tensorboard(tmp_path, demos):
    port = free_port()
    code = ("import argparse, serving; "
            "serving.open_tensorboard(argparse.Namespace(no_serve=False, logdir=%r, port=%r))"
            % (str(tmp_path), str(port)))
    demo = demos(["-c", code], cwd=os.path.dirname(DEMO))
    assert demo.read_until(re.compile("starting TensorBoard")) is not None, demo.output()
    deadline = time.time() + TIMEOUT_S
    while not _answers("http://localhost:%d/data/plugin/rnn_hidden/tags" % port):
        assert time.time() < deadline and demo.process.poll() is None, demo.output()[-3000:]
        time.sleep(0.5)
    os.kill(demo.process.pid, signal.SIGTERM)  # the demo alone, not its process group
    assert demo.process.wait(timeout=60) == 128 + signal.SIGTERM
    # TensorBoard shares the demo's process group: the group empties once it has stopped.
    deadline = time.time() + 30
    while _group_alive(demo.process.pid):
        assert time.time() < deadline, "TensorBoard outlived the demo's SIGTERM"
        time.sleep(0.2)


def _answers(url):
    try:
        return http_get(url, timeout=5)[0] == 200
    except OSError:  # not listening yet
        return False


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
