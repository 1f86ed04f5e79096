"""The demos' last step: open TensorBoard on the log directory they wrote.

Shared by `train.py` and `nesting.py`, so that both take the same
`--logdir`, `--no-serve` and `--port` and start TensorBoard the same way.
The address is printed only once TensorBoard answers on it with the logged
runs (the tab's run listing; with every run the demo wrote, up to its last
checkpoint, when the demo says which), so a user who opens it at once finds
the tab and every run to compare; if TensorBoard exits
first (a port in use, a bad flag), its last lines say why and the demo exits
non-zero. A SIGTERM (a terminal closed, `kill`, a job runner's stop) stops
TensorBoard too, as Ctrl+C does. `keras_verbosity` keeps Keras' progress bar, whose ANSI codes are
noise in a log file or a CI log, for terminals.
"""

import collections
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

# How long TensorBoard may take to answer (it loads the plugin and TensorFlow first).
START_TIMEOUT_S = 120
# Lines of TensorBoard's output kept to say why it exited.
LAST_LINES = 20


def add_arguments(parser, default_logdir="demo_logs"):
    """The log directory, and whether and where to serve it afterwards."""
    parser.add_argument("--logdir", default=default_logdir)
    parser.add_argument("--no-serve", action="store_true", help="log only; do not start TensorBoard")
    parser.add_argument("--port", default="6006")


def keras_verbosity(quick=False):
    """`verbose` for Keras' fit: its progress bar (1) on a terminal, one plain line per epoch (2) otherwise."""
    return 1 if sys.stdout.isatty() and not quick else 2


def open_tensorboard(args, expected=None):
    """Runs TensorBoard on `args.logdir` until Ctrl+C, unless `args.no_serve`.

    `expected`: {run: (tag, last step)} the demo logged; the address waits
    until TensorBoard lists each of them (None: any run will do). Returns
    TensorBoard's exit code; exits with a message if it stops before it answers.
    """
    if args.no_serve:
        return 0
    print("starting TensorBoard on %s ..." % args.logdir, flush=True)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so that `finally` stops TensorBoard
    process = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", args.logdir, "--port", str(args.port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
    )
    last = collections.deque(maxlen=LAST_LINES)
    threading.Thread(target=_relay, args=(process.stdout, last), daemon=True).start()
    try:
        url = "http://localhost:%s/" % args.port
        failure = _wait_until_answering(process, url + "data/plugin/rnn_hidden/tags", expected)
        if failure is not None:
            time.sleep(0.5)  # the relay's last lines
            sys.exit("error: TensorBoard %s on port %s; its last lines:\n%s"
                     % (failure, args.port, "".join(last).rstrip() or "(no output)"))
        print("TensorBoard is ready: open %s#rnn_hidden (Ctrl+C to stop)" % url, flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # a shell's code for a process the signal ended


def _relay(stream, last):
    """Passes TensorBoard's output on to stderr, keeping its last lines."""
    for line in stream:
        last.append(line)
        sys.stderr.write(line)
        sys.stderr.flush()


def _wait_until_answering(process, url, expected=None):
    """None once `url` (the tab's run listing) answers 200 with the logged runs in it; else why
    not (the process exited, or it did not answer in time)."""
    deadline = time.time() + START_TIMEOUT_S
    while time.time() < deadline:
        if process.poll() is not None:
            return "exited (code %s) before it answered" % process.returncode
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                # Listening is not enough: the tab would say "no data" until TensorBoard has read the logs.
                if response.status == 200 and _lists(json.loads(response.read()), expected):
                    return None
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.25)
    return "did not list the logged data within %d s" % START_TIMEOUT_S


def _lists(listing, expected):
    """Whether the run listing holds a run (any, when `expected` is None), or every expected
    run's tag up to its last step: TensorBoard reads runs one by one, a run's steps in order."""
    if expected is None:
        return bool(listing)
    try:
        return all(last in listing[run][tag]["steps"] for run, (tag, last) in expected.items())
    except (KeyError, TypeError):
        return False
