"""Runs `projection.compute` in a child process, so that a cancel stops it at once.

Some phases cannot be stopped from inside: Annoy's index build and openTSNE's perplexity
calibration (one call each, 1-2 s at 50k points, minutes at a million), a chunk of 50
FFT iterations at a million points, scikit-learn's PCA, and UMAP as a whole (pynndescent
and its optimisation). A thread cannot be killed; a process can, and its memory goes
with it. So every job runs in a child: the parent's worker thread polls it every
POLL_SECONDS for progress and, when the job is cancelled, kills it (SIGKILL) and is
free for the next job at once. A background job is paused (SIGSTOP) while user jobs run
on its thread, and resumed after them, so that nothing it computed is lost.

Children fork from a forkserver that has imported numpy, scikit-learn and openTSNE
once (a job starts in ~20 ms instead of the ~2 s of importing them in a fresh `spawn`
process); where forkserver is not available (Windows), they are spawned. The points go
through the pipe as raw bytes, received straight into the child's array (no pickle
copy); progress and the result come back through the same pipe.
"""

import logging
import multiprocessing
import os
import signal
import sys
import threading

import numpy as np

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1
_PRELOAD = ["__main__", "numpy", "scipy.sparse", "sklearn.decomposition", "openTSNE",
            "tb_rnn_hidden.projection"]
_context = None
_context_lock = threading.Lock()


class EngineError(RuntimeError):
    """The child failed with an exception other than ValueError, or died."""


def _mp_context():
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            if "forkserver" in methods:
                _context = multiprocessing.get_context("forkserver")
                _context.set_forkserver_preload(_PRELOAD)
            else:
                _context = multiprocessing.get_context("spawn")
        return _context


class Child:
    """The handle a checkpoint callback gets: pause and resume the running child."""

    def __init__(self, process):
        self._process = process
        self.killed = False

    def pause(self):
        if hasattr(signal, "SIGSTOP") and self._process.is_alive():
            os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self):
        if hasattr(signal, "SIGCONT") and self._process.is_alive():
            os.kill(self._process.pid, signal.SIGCONT)

    def kill(self):
        """SIGKILL (which also ends a stopped process); any thread may call it."""
        self.killed = True
        try:
            os.kill(self._process.pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass  # already ended

    def close(self):
        """Kills the process if it still runs and reaps it (the thread that started it)."""
        if self._process.exitcode is None:
            self.kill()
        self._process.join()


def compute(points, params, *, init=None, reference=None, progress=None, checkpoint=None):
    """`projection.compute` in a child process: (`projection.Projection`, the child's peak
    resident memory in bytes or None).

    checkpoint(child): called every POLL_SECONDS with a `Child`; True cancels (the child
    is killed and `projection.Cancelled` raised). It may pause the child and resume it.
    A ValueError of the engine is raised as ValueError (the data or parameters); any
    other failure, or the child's death (e.g. killed for memory), as EngineError.
    """
    from tb_rnn_hidden import projection

    points = np.ascontiguousarray(points)
    parent, child_end = _mp_context().Pipe()
    process = _mp_context().Process(
        target=_child_main, args=(child_end,), name="rnn_hidden-projection-engine", daemon=True
    )
    process.start()
    child_end.close()
    child = Child(process)
    try:
        parent.send((points.shape, points.dtype.str, params.as_dict(), init, reference))
        parent.send_bytes(memoryview(points).cast("B"))
        while True:
            if parent.poll(POLL_SECONDS):
                try:
                    message = parent.recv()
                except EOFError:
                    process.join()
                    if child.killed:  # a cancel killed it (Job.stop)
                        raise projection.Cancelled("projection cancelled")
                    raise EngineError(
                        "the projection process ended with exit code %s without a result "
                        "(killed for lack of memory?)" % process.exitcode
                    )
                kind = message[0]
                if kind == "progress" and progress is not None:
                    progress(message[1], message[2])
                elif kind == "done":
                    info = dict(message[2])
                    return projection.Projection(message[1], info), message[3]
                elif kind == "error":
                    _, is_value_error, text = message
                    raise (ValueError if is_value_error else EngineError)(text)
            if checkpoint is not None and checkpoint(child):
                child.kill()
                raise projection.Cancelled("projection cancelled")
    finally:
        child.close()
        parent.close()


def _peak_rss_bytes():
    """This process's peak resident memory (Linux: VmHWM), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _orphan_watch(parent_pid):
    """Ends the child once its parent is gone (TensorBoard killed)."""
    import time

    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(1)


def _child_main(conn):
    from tb_rnn_hidden import projection

    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    try:
        shape, dtype, params, init, reference = conn.recv()
        points = np.empty(shape, dtype=np.dtype(dtype))
        if points.size:
            conn.recv_bytes_into(memoryview(points).cast("B"))
        else:
            conn.recv_bytes()
        params = projection.ProjectionParams(**params)
        layout = projection.compute(
            points, params, init=init, reference=reference,
            progress=lambda fraction, phase: conn.send(("progress", fraction, phase)),
        )
        conn.send(("done", layout.coords, layout.info, _peak_rss_bytes()))
    except BaseException as e:  # everything goes back to the parent, which decides
        try:
            conn.send(("error", isinstance(e, ValueError), "%s" % e if isinstance(e, ValueError)
                       else "%s: %s" % (type(e).__name__, e)))
        except Exception:
            pass
    finally:
        conn.close()
        sys.stdout.flush()
