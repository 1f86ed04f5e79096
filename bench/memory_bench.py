"""Memory of a real `tensorboard` serving this plugin: per retained checkpoint, and the
peak under concurrent `/states?dtype=float32` requests, before and after streaming answers.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/memory_bench.py --before <checkout without the fix> [--requests 50]

Every TensorBoard runs as its own process with `PYTHONPATH` set to a checkout (this
one for "after", `--before` for "before"), under both loaders: the default (the Rust
`tensorboard_data_server`, a child process) and `--load_fast=false` (the Python
multiplexer). Memory is the resident set size (VmRSS) of the TensorBoard process and of
its data server child, read from /proc; a peak is the kernel's high-water mark (VmHWM,
reset through /proc/<pid>/clear_refs before the phase) and, for the two together, the
largest sum sampled every 20 ms.

1. Per retained checkpoint, for both checkouts: logdirs of 1, 4 and 8 checkpoints of
   512 x 200 x 256 float16 states (written with each checkout's own writer, so each
   reads its own record format); RSS once TensorBoard lists them all, and again once
   every checkpoint's /states has been served (the reader caches it).
2. Concurrent requests: on the 4-checkpoint logdir, every checkpoint served once, then
   `--requests` clients ask at once for /states?dtype=float32 (round robin over the
   checkpoints). Each client holds its answer unread until every client has one (200,
   or 429 once a request has waited its bounded time), as over a slow network, then
   reads its 105 MB in 1 MiB pieces; a 429 is retried after its Retry-After.

Background layouts are off (`--rnn_hidden_precompute=none`): a t-SNE of 102,400 points
per checkpoint would dominate both memory and CPU.
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import numpy as np

N, T, H = 512, 200, 256
CHECKPOINT_COUNTS = (1, 4, 8)
PREFIX = "/data/plugin/rnn_hidden"
_URL_LINE = re.compile(r"TensorBoard \S+ at (http://\S+?)/? ")
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADERS = {"rust (default)": [], "python (--load_fast=false)": ["--load_fast=false"]}
MiB = 1 << 20


# -- data -----------------------------------------------------------------------------


def write_logdirs(root, checkout):
    """{count: logdir} of `count` checkpoints each, steps 0..count-1, tag "lstm", written
    by `checkout`'s writer (in a child process), so that its TensorBoard reads its own
    record format (issue 12 moved the format from version 1 to 2)."""
    os.makedirs(root)
    subprocess.run([sys.executable, os.path.abspath(__file__), "--write-logdirs", root],
                   env=dict(os.environ, PYTHONPATH=checkout), cwd=root, check=True)
    return {count: os.path.join(root, "logs%d" % count) for count in CHECKPOINT_COUNTS}


def _write_logdirs(root):
    from tb_rnn_hidden import writer

    rng = np.random.default_rng(0)
    base = rng.standard_normal((N, T, H), dtype=np.float32)
    for count in CHECKPOINT_COUNTS:
        with writer.HiddenStateWriter(os.path.join(root, "logs%d" % count, "run")) as w:
            for step in range(count):
                states = np.tanh(base + np.float32(0.05 * step))
                w.add("lstm", states, step=step, lengths=np.full(N, T), precision="float16")


# -- /proc ----------------------------------------------------------------------------


def _status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def rss(pid):
    return _status(pid, "VmRSS")


def peak_rss(pid):
    return _status(pid, "VmHWM")


def reset_peak(pid):
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def data_server_of(pid):
    """The pid of `pid`'s tensorboard_data_server child, or None."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != pid:
                continue
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                if b"tensorboard_data_server" in f.read():
                    return int(entry)
        except (OSError, ValueError, IndexError):
            continue
    return None


# -- a tensorboard process ------------------------------------------------------------


def get(base, path, timeout=120):
    """(status, body) of GET base + path, retrying a 429 after its Retry-After. The body
    is read in 1 MiB pieces; beyond 1 MiB only its length is kept."""
    url = urllib.parse.urlsplit(base)
    while True:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            if response.status == 429:
                response.read()
                time.sleep(float(response.getheader("Retry-After", "1")))
                continue
            kept, received = [], 0
            while True:
                piece = response.read(MiB)
                if not piece:
                    break
                received += len(piece)
                if received <= MiB:
                    kept.append(piece)
            return response.status, b"".join(kept) if received <= MiB else received
        finally:
            connection.close()


@contextlib.contextmanager
def tensorboard(logdir, checkout, loader_args, steps, workdir):
    """(base URL, pid) of a TensorBoard running the plugin from `checkout`, once it lists
    `steps` checkpoints."""
    log_path = os.path.join(workdir, "tensorboard.log")
    cache = tempfile.mkdtemp(dir=workdir, prefix="cache")
    env = dict(os.environ, PYTHONPATH=checkout, TF_CPP_MIN_LOG_LEVEL="2")
    with open(log_path, "w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
             "--port", "0", "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir", cache,
             *loader_args],
            # Not the working directory: `python -m` puts it first on sys.path, before
            # PYTHONPATH, and a checkout there would shadow `checkout`.
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir,
        )
        try:
            deadline = time.time() + 300
            base = None
            while True:
                assert process.poll() is None, open(log_path).read()
                assert time.time() < deadline, "TensorBoard did not list %d steps" % steps
                log.seek(0)
                match = _URL_LINE.search(log.read())
                if match:
                    base = match.group(1)
                    status, body = get(base, PREFIX + "/tags")
                    if status == 200:
                        listed = json.loads(body).get("run", {}).get("lstm", {}).get("steps", [])
                        if len(listed) == steps:
                            break
                time.sleep(0.5)
            time.sleep(2)  # let the loaders settle
            yield base, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def memory(pid):
    """(TensorBoard RSS, data server RSS or 0)."""
    child = data_server_of(pid)
    return rss(pid), (rss(child) if child else 0)


def serve_every_checkpoint(base, steps):
    for step in range(steps):
        status, _ = get(base, PREFIX + "/states?run=run&tag=lstm&step=%d" % step)
        assert status == 200, status


# -- the phases -----------------------------------------------------------------------


def retained(logdirs, checkouts, workdir):
    rows = []
    for loader, args in LOADERS.items():
        for version, checkout in checkouts.items():
            for count, logdir in logdirs[version].items():
                with tensorboard(logdir, checkout, args, count, workdir) as (base, pid):
                    loaded = memory(pid)
                    serve_every_checkpoint(base, count)
                    time.sleep(1)
                    served = memory(pid)
                rows.append(dict(loader=loader, version=version, checkpoints=count,
                                 loaded=loaded, served=served))
                print("retained", loader, version, count,
                      [m // MiB for m in loaded + served], "MiB", flush=True)
    return rows


def concurrent(logdirs, steps, checkouts, requests, workdir):
    rows = []
    for loader, args in LOADERS.items():
        for version, checkout in checkouts.items():
            with tensorboard(logdirs[version][steps], checkout, args, steps, workdir) as (base, pid):
                serve_every_checkpoint(base, steps)
                child = data_server_of(pid)
                before = memory(pid)
                for p in (pid, child):
                    if p:
                        reset_peak(p)
                row = dict(loader=loader, version=version, before=before,
                           **flood(base, pid, child, steps, requests))
                row["peak_tensorboard"] = peak_rss(pid)
                row["peak_data_server"] = peak_rss(child) if child else 0
            rows.append(row)
            print("concurrent", loader, version, {k: v for k, v in row.items()
                                                  if k not in ("loader", "version")}, flush=True)
    return rows


def flood(base, pid, child, steps, requests):
    """`requests` clients at once, each holding its answer unread until every client has
    one (a slow network: what a server must survive), then reading it. Returns the
    sampled peak of TensorBoard + data server RSS, the answers and the seconds."""
    url = urllib.parse.urlsplit(base)
    start = threading.Barrier(requests + 1)
    answered = threading.Semaphore(0)
    hold = threading.Event()
    results = [None] * requests
    refused = [0]

    def client(index):
        path = PREFIX + "/states?run=run&tag=lstm&step=%d&dtype=float32" % (index % steps)
        start.wait()
        first = True
        while True:
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                if first:
                    answered.release()
                    first = False
                    hold.wait()
                if response.status == 429:
                    refused[0] += 1
                    response.read()
                    time.sleep(float(response.getheader("Retry-After", "1")))
                    continue
                received = 0
                while True:
                    piece = response.read(MiB)
                    if not piece:
                        break
                    received += len(piece)
                results[index] = (response.status, received)
                return
            finally:
                connection.close()

    peak_sum = [0]

    def sample():
        while not done.is_set():
            try:
                peak_sum[0] = max(peak_sum[0], rss(pid) + (rss(child) if child else 0))
            except OSError:
                pass
            time.sleep(0.02)

    done = threading.Event()
    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(requests)]
    for t in threads:
        t.start()
    start.wait()
    started = time.monotonic()
    deadline = started + 60
    for _ in range(requests):  # every client has its first answer (200 or 429), or 60 s
        if not answered.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break
    all_answered = time.monotonic() - started
    hold.set()
    for t in threads:
        t.join()
    done.set()
    sampler.join()
    expected = N * T * H * 4
    ok = sum(1 for r in results if r is not None and r[0] == 200 and r[1] == expected)
    return dict(peak_sum_sampled=peak_sum[0], complete=ok, refused_429=refused[0],
                seconds_to_answer_all=round(all_answered, 1),
                seconds=round(time.monotonic() - started, 1))


# -- report ---------------------------------------------------------------------------


def report(retained_rows, concurrent_rows, requests):
    mib = lambda b: "%.0f" % (b / MiB)
    print("\n| loader | code | checkpoints | TensorBoard RSS loaded / served (MiB) | data server RSS loaded / served (MiB) |")
    print("|---|---|---|---|---|")
    for r in retained_rows:
        print("| %s | %s | %d | %s / %s | %s / %s |" % (
            r["loader"], r["version"], r["checkpoints"], mib(r["loaded"][0]),
            mib(r["served"][0]), mib(r["loaded"][1]), mib(r["served"][1])))
    print("\nper retained checkpoint (slope from 1 to 8 checkpoints, MiB):")
    for loader in LOADERS:
        for version in ("before", "after"):
            rows = {r["checkpoints"]: r for r in retained_rows
                    if r["loader"] == loader and r["version"] == version}
            lo, hi = rows[min(rows)], rows[max(rows)]
            span = max(rows) - min(rows)
            per = lambda key, i: (hi[key][i] - lo[key][i]) / span / MiB
            print("  %s, %s: TensorBoard %.1f loaded, %.1f served; data server %.1f loaded, "
                  "%.1f served" % (loader, version, per("loaded", 0), per("served", 0),
                                   per("loaded", 1), per("served", 1)))
    print("\n| loader | code | RSS before (TB + DS, MiB) | peak TB (MiB) | peak DS (MiB) | peak sum sampled (MiB) | per request (MiB) | complete | 429 answers | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in concurrent_rows:
        base = sum(r["before"])
        print("| %s | %s | %s | %s | %s | %s | %.1f | %d/%d | %d | %s |" % (
            r["loader"], r["version"], mib(base), mib(r["peak_tensorboard"]),
            mib(r["peak_data_server"]), mib(r["peak_sum_sampled"]),
            (r["peak_sum_sampled"] - base) / requests / MiB, r["complete"], requests,
            r["refused_429"], r["seconds"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="a checkout of the plugin without the fix")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--out", default=None, help="write the raw numbers here (JSON)")
    parser.add_argument("--write-logdirs", help=argparse.SUPPRESS)  # the child of write_logdirs
    args = parser.parse_args()
    if args.write_logdirs:
        return _write_logdirs(args.write_logdirs)
    if not args.before:
        parser.error("--before is required")
    workdir = tempfile.mkdtemp(prefix="memory_bench_")
    try:
        started = time.monotonic()
        checkouts = {"before": os.path.abspath(args.before), "after": _HERE}
        logdirs = {version: write_logdirs(os.path.join(workdir, version), checkout)
                   for version, checkout in checkouts.items()}
        print("wrote logdirs in %.0f s" % (time.monotonic() - started), flush=True)
        retained_rows = retained(logdirs, checkouts, workdir)
        concurrent_rows = concurrent(logdirs, 4, checkouts, args.requests, workdir)
        report(retained_rows, concurrent_rows, args.requests)
        print("\ntotal %.0f s" % (time.monotonic() - started))
        if args.out:
            with open(args.out, "w") as f:
                json.dump(dict(retained=retained_rows, concurrent=concurrent_rows), f, indent=1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
