"""2-D projections of hidden states computed in the background, shared between requests
and cached.

`ProjectionService` is owned by the plugin. A request names a checkpoint and
`projection.ProjectionParams`; the service answers at once with the state of
the job computing it, starting one if no result is stored yet.

- Jobs run on a bounded pool of worker threads (`--rnn_hidden_projection_workers`,
  default 1); each runs its engine in a child process (isolated.py), which a cancel
  kills: the worker is free at once, whatever phase the engine was in, and the
  memory goes with the process.
- What a request may cost is checked before a job exists (limits.py): at most
  `--rnn_hidden_max_points` points (`limits.TooManyPoints`), and an estimated peak
  memory that fits the memory available (`limits.NotEnoughMemory`, checked again when
  the job starts). At most `--rnn_hidden_max_queued_jobs` user jobs are queued or
  running; one more raises `QueueFull` (joining a job is always possible).
- A job is a user's (a `POST /projection`) or a background one (background.py). User
  jobs run first, and a running background job hands its thread to waiting user jobs
  (its engine process paused meanwhile), then resumes.
- Identical requests (same checkpoint data hash and parameters) share one job,
  keyed by `cache.request_key`.
- A job is queued, running, done, failed or cancelled, with a progress fraction,
  a phase, elapsed seconds and, when failed, an error message and whether a retry
  can succeed (not for invalid data or parameters).
- Results are kept in a memory LRU bounded by bytes and on disk
  (`cache.DiskCache`), so a new plugin instance serves them at once.
- `align=neighbor`: when the job starts, it looks for the nearest checkpoint of the
  same run and tag in training order (the earlier on a tie) with the same lengths and a
  done result for the same parameters, and passes its coordinates as `init` and its
  `info` as `reference`; if none, it computes cold (`aligned_to` None).
"""

import collections
import dataclasses
import logging
import threading
import time

import numpy as np

from tb_rnn_hidden import memory_cache
from tb_rnn_hidden.projection import cache as projection_cache
from tb_rnn_hidden.projection import limits

logger = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
NONE = "none"  # no job and no stored result (only from `status(start=False)`)
DEFAULT_MEMORY_BYTES = 256 << 20
DEFAULT_MAX_QUEUED_JOBS = 16
RETRY_AFTER_SECONDS = 5  # what a refused request is told to wait (the poll interval of the tab)
_FINISHED_JOBS_KEPT = 64


class QueueFull(RuntimeError):
    """As many user jobs as allowed are queued or running; `retry_after` in seconds."""

    def __init__(self, message, retry_after=RETRY_AFTER_SECONDS):
        super().__init__(message)
        self.retry_after = retry_after


def _engine():
    from tb_rnn_hidden import projection  # imported on first use: openTSNE is slow to import

    return projection


def _isolated():
    from tb_rnn_hidden.projection import isolated

    return isolated


USER, BACKGROUND = 0, 1  # job priorities: what a user asked for, and precomputed work


class Job:
    """One computation; its fields are read by status requests while it runs."""

    def __init__(self, key, compute, params, num_points, priority=USER):
        self.key = key
        self.compute = compute
        self.params = params
        self.num_points = num_points
        self.priority = priority
        self.state = QUEUED
        self.progress = 0.0
        self.phase = QUEUED
        self.error = None
        self.retryable = None  # once failed: whether a retry can succeed
        self.aligned_to = None
        self.result = None  # (coords, meta) once done
        self.created = time.monotonic()
        self.finished = None
        self._cancel = threading.Event()
        self.finished_event = threading.Event()
        self.pool = None  # the JobPool running it: background jobs yield to user jobs
        self.child = None  # the engine process while it runs (isolated.Child)

    def report(self, fraction, phase=None):
        """The engine's progress callback."""
        try:
            self.progress = min(1.0, max(0.0, float(fraction)))
        except (TypeError, ValueError):
            pass
        if phase is not None:
            self.phase = str(phase)

    def checkpoint(self, child=None):
        """Called while the engine runs (`isolated.compute`, every 0.1 s): True cancels it.

        A background job first lets the user jobs waiting for a worker run on its own
        thread, its engine process `child` paused meanwhile: user work pre-empts
        background work at once, and the background work resumes where it was.
        """
        self.child = child
        if self.priority == BACKGROUND and self.pool is not None and self.pool.users_waiting():
            if child is not None:
                child.pause()
            try:
                self.pool.run_waiting_user_jobs(self)
            finally:
                if child is not None:
                    child.resume()
        return self._cancel.is_set()

    def stop(self):
        """Marks the job cancelled and kills its engine process, if it runs."""
        self._cancel.set()
        child = self.child
        if child is not None:
            child.kill()

    def status(self):
        end = self.finished if self.finished is not None else time.monotonic()
        body = dict(
            state=self.state,
            progress=1.0 if self.state == DONE else self.progress,
            phase=self.phase,
            elapsed=round(end - self.created, 3),
            params=self.params,
            num_points=self.num_points,
            aligned_to=self.aligned_to,
            cached=False,
            background=self.priority == BACKGROUND,
            layout=None if self.result is None else layout_of(self.result[1]),
        )
        if self.error is not None:
            body["error"] = self.error
            body["retryable"] = bool(self.retryable)
        return body


def layout_of(meta):
    """What a stored result is, for the status object (see http_api.md)."""
    info = dict(meta.get("info") or {})
    info.setdefault("method", (meta.get("params") or {}).get("method"))
    info["aligned_to"] = meta.get("aligned_to")
    info["seconds"] = meta.get("compute_seconds")
    return info


class JobPool:
    """Worker threads (started on first use) running jobs; one job per key at a time.

    User jobs run before background jobs. A running background job hands its thread to
    waiting user jobs (`Job.checkpoint`, within 0.1 s, its engine process paused), then
    resumes: nothing computed is lost.
    """

    def __init__(self, workers=1, max_queued=DEFAULT_MAX_QUEUED_JOBS):
        if workers < 1:
            raise ValueError("workers is %r; expected an integer >= 1" % (workers,))
        if max_queued < 1:
            raise ValueError("max_queued is %r; expected an integer >= 1" % (max_queued,))
        self._workers = workers
        self._max_queued = max_queued
        self._threads = []
        self._waiting = {USER: collections.deque(), BACKGROUND: collections.deque()}
        self._jobs = {}
        self._finished = collections.OrderedDict()
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)  # one lock: no lock-order deadlock
        self._closed = False

    def get(self, key):
        with self._lock:
            return self._jobs.get(key)

    def submit(self, key, compute, *, params, num_points, priority=USER):
        """(job, created): joins the queued, running, done or failed job of `key`,
        or queues a new one. A user joining a background job promotes it. QueueFull
        when a new user job would make more than `max_queued` queued or running."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != CANCELLED:
                return job, False
            if self._closed:
                raise RuntimeError("the projection service is closed")
            if priority == USER and self.user_jobs() >= self._max_queued:
                raise QueueFull(
                    "%d projection jobs are queued or running, the most this server "
                    "accepts (--rnn_hidden_max_queued_jobs); try again in %d s, or cancel one"
                    % (self._max_queued, RETRY_AFTER_SECONDS)
                )
            job = Job(key, compute, params, num_points, priority)
            job.pool = self
            self._jobs[key] = job
            self._enqueue(job)
            while len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name="rnn_hidden-projection-%d" % len(self._threads),
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
            return job, True

    def user_jobs(self):
        """How many user jobs are queued or running."""
        with self._lock:
            return sum(
                1 for job in self._jobs.values()
                if job.priority == USER and job.state in (QUEUED, RUNNING)
            )

    def users_waiting(self):
        """Whether a user job waits for a worker."""
        with self._lock:
            return any(job.state == QUEUED and job.priority == USER for job in self._waiting[USER])

    def _enqueue(self, job):
        with self._wake:
            self._waiting[job.priority].append(job)
            self._wake.notify()

    def _take(self, priorities, block):
        """The next queued job of `priorities` (in that order), or None."""
        with self._wake:
            while True:
                if self._closed:
                    return None
                for priority in priorities:
                    waiting = self._waiting[priority]
                    while waiting:
                        job = waiting.popleft()
                        if job.state == QUEUED and job.priority == priority:
                            job.state = RUNNING
                            job.phase = "starting"
                            return job
                if not block:
                    return None
                self._wake.wait()

    def cancel(self, key):
        """Cancels the queued or running job of `key`; None if there is none."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.state not in (QUEUED, RUNNING):
                return None
            self._finish(job, CANCELLED, phase=CANCELLED)
            del self._jobs[key]
        job.stop()
        return job

    def withdraw(self, job):
        """Drops a background job that has not started; True if it was dropped."""
        with self._lock:
            if job.state != QUEUED or job.priority != BACKGROUND or self._jobs.get(job.key) is not job:
                return False
            self._finish(job, CANCELLED, phase=CANCELLED)
            del self._jobs[job.key]
            return True

    def forget(self, key):
        """Drops a finished job, so that the next request starts a new one."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state in (DONE, FAILED, CANCELLED):
                del self._jobs[key]

    def promote(self, key):
        """A user now waits for the job of `key`: if it is a background job, it runs as a
        user job from now on (queued: ahead of background work; running: it no longer
        yields to other user jobs)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.priority == USER or job.state not in (QUEUED, RUNNING):
                return
            job.priority = USER
            if job.state == QUEUED:
                self._enqueue(job)  # its background entry is skipped

    def close(self, timeout=10.0):
        """Cancels every job and waits (up to `timeout`) for the workers to stop."""
        with self._lock:
            self._closed = True
            jobs = [j for j in self._jobs.values() if j.state in (QUEUED, RUNNING)]
        for job in jobs:
            self.cancel(job.key)
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def _finish(self, job, state, *, phase=None, error=None, result=None, retryable=None):
        # Under self._lock. A cancelled job stays cancelled.
        if job.state in (DONE, FAILED, CANCELLED):
            return
        job.state = state
        job.result = result
        job.error = error
        job.retryable = retryable
        if phase is not None:
            job.phase = phase
        job.finished = time.monotonic()
        job.finished_event.set()
        if self._jobs.get(job.key) is job and state != CANCELLED:
            self._finished[job.key] = job
            self._finished.move_to_end(job.key)
            while len(self._finished) > _FINISHED_JOBS_KEPT:
                old_key, old = self._finished.popitem(last=False)
                if self._jobs.get(old_key) is old:
                    del self._jobs[old_key]

    def run_waiting_user_jobs(self, background_job):
        """Runs queued user jobs on this thread, then returns (see `Job.checkpoint`)."""
        phase = background_job.phase
        while not background_job._cancel.is_set():
            job = self._take((USER,), block=False)
            if job is None:
                break
            background_job.phase = "paused: a requested projection runs first"
            self._run(job)
        background_job.phase = phase

    def _work(self):
        while True:
            job = self._take((USER, BACKGROUND), block=True)
            if job is None:
                return
            self._run(job)

    def _run(self, job):
        try:
            result = job.compute(job)
        except Exception as e:
            # A process that is exiting (its main thread has ended: Ctrl-C, or the end of a
            # script) stops the engine's thread pools under a running job: a cancel, not a failure.
            exiting = not threading.main_thread().is_alive()
            cancelled = isinstance(e, _engine().Cancelled) or job._cancel.is_set() or exiting
            retryable = None
            if cancelled:
                state, error = CANCELLED, None
            elif isinstance(e, ValueError):  # the data or parameters: the same again fails
                state, error, retryable = FAILED, str(e), False
            else:
                logger.exception("rnn_hidden: projection job failed")
                state, error, retryable = FAILED, "%s: %s" % (type(e).__name__, e), True
            with self._lock:
                self._finish(job, state, phase=state, error=error, retryable=retryable)
                if state == CANCELLED and self._jobs.get(job.key) is job:
                    del self._jobs[job.key]
        else:
            with self._lock:
                self._finish(job, DONE, phase=DONE, result=result)


def nearest_first(steps, step):
    """`steps` by distance in training order from `step`, the earlier first on a tie: the
    order in which a checkpoint's neighbours are looked for and laid out."""
    return sorted(steps, key=lambda s: (abs(s - step), s))


def _points_of(checkpoint):
    """How many points a checkpoint lays out, from its header (its states unread)."""
    return int(checkpoint.header["num_steps"])


def _num_points(request):
    return _points_of(request.checkpoint)


def _check_memory(request):
    limits.check_memory(
        _num_points(request), int(request.checkpoint.header["state_size"]), request.params
    )


@dataclasses.dataclass
class _Request:
    """A resolved request: the checkpoint, its data hash and the request key."""

    ctx: object
    experiment: str
    run: str
    tag: str
    step: int
    params: object
    checkpoint: object
    data_sha256: str
    key: str


class ProjectionService:
    """Projections of checkpoints read through `reader`, computed by `projection.compute`."""

    def __init__(
        self,
        reader,
        cache_dir=None,
        *,
        workers=1,
        memory_bytes=DEFAULT_MEMORY_BYTES,
        max_points=limits.DEFAULT_MAX_POINTS,
        max_queued_jobs=DEFAULT_MAX_QUEUED_JOBS,
    ):
        self._reader = reader
        self.disk = projection_cache.DiskCache(cache_dir or projection_cache.default_cache_dir())
        self.pool = JobPool(workers, max_queued_jobs)
        self.max_points = max_points
        self._memory = memory_cache.ByteBudgetCache(memory_bytes)
        self._provisional = memory_cache.ByteBudgetCache(memory_bytes // 4)
        self._hashes = {}  # reader.Checkpoint.identity -> data SHA-256 (a rewritten step is another)
        self._hash_lock = threading.Lock()
        self._versions = None
        self.background = None  # a projection_background.BackgroundProjector, if started

    # -- keys ---------------------------------------------------------------

    def versions(self):
        if self._versions is None:
            self._versions = _engine().library_versions()
        return self._versions

    def _data_hash(self, checkpoint):
        ident = checkpoint.identity
        with self._hash_lock:
            found = self._hashes.get(ident)
        if found is None:
            found = projection_cache.data_hash(checkpoint.states, checkpoint.lengths)
            with self._hash_lock:
                self._hashes[ident] = found
        return found

    def _resolve(self, ctx, experiment, run, tag, step, params):
        checkpoint = self._reader.checkpoint(ctx, experiment, run, tag, step)  # NotFoundError
        # From the header: a checkpoint over the cap is refused before its states are read.
        limits.check_points(_points_of(checkpoint), self.max_points)
        data_sha256 = self._data_hash(checkpoint)
        key = projection_cache.request_key(data_sha256, params.as_dict(), self.versions())
        return _Request(ctx, experiment, run, tag, step, params, checkpoint, data_sha256, key)

    def lookup(self, key, num_points):
        """(coords, meta) stored for a request key, from memory or disk; or None. A disk
        result that does not fit a checkpoint of `num_points` points is discarded."""
        found = self._memory.get(key)
        if found is None:
            found = self.disk.get(key, num_points)
            if found is not None:
                self._memory.put(key, found)
        return found

    # -- requests -----------------------------------------------------------

    def status(self, ctx, experiment, run, tag, step, params, *, start=True, retry=False,
               priority=USER):
        """The state of the projection, starting a job if none and `start`.

        A user's request (priority USER) also tells the background projector what is on
        screen, so that it lays out that checkpoint's neighbours next.
        """
        request = self._resolve(ctx, experiment, run, tag, step, params)
        if priority == USER and self.background is not None:
            self.background.focus(experiment, run, tag, step, params)
        return self._status(request, start=start, retry=retry, priority=priority)[0]

    def _status(self, request, *, start, retry, priority=USER):
        """(status dict, (coords, meta) or None)."""
        job = self.pool.get(request.key)
        if job is not None and retry and job.state == FAILED and job.retryable:
            self.pool.forget(request.key)
            job = None
        if job is not None and job.state == DONE and job.result is not None:
            return job.status(), job.result
        if job is not None and job.state in (QUEUED, RUNNING, FAILED):
            if start and priority == USER:
                self.pool.promote(request.key)
            return job.status(), None
        found = self.lookup(request.key, _num_points(request))
        if found is not None:
            return self._stored_status(request, found[1]), found
        if not start:
            return dict(
                state=NONE, progress=0.0, phase=NONE, elapsed=0.0,
                params=request.params.as_dict(), num_points=_num_points(request),
                aligned_to=None, cached=False, background=False, layout=None,
            ), None
        job = self._start(request, priority)
        if job.state == DONE and job.result is not None:
            return job.status(), job.result
        return job.status(), None

    @staticmethod
    def _stored_status(request, meta):
        return dict(
            state=DONE, progress=1.0, phase=DONE,
            elapsed=meta.get("compute_seconds", 0.0),
            params=request.params.as_dict(), num_points=meta.get("num_points"),
            aligned_to=meta.get("aligned_to"), cached=True, background=False,
            layout=layout_of(meta),
        )

    def submit(self, ctx, experiment, run, tag, step, params, *, priority=BACKGROUND):
        """(job, stored): the job computing this projection, started if needed, or
        (None, True) when a result is stored."""
        request = self._resolve(ctx, experiment, run, tag, step, params)
        job = self.pool.get(request.key)
        if job is not None and job.state in (QUEUED, RUNNING, FAILED):
            return job, False
        if (job is not None and job.state == DONE) or self.lookup(request.key, _num_points(request)) is not None:
            return None, True
        return self._start(request, priority), False

    def _start(self, request, priority):
        """The pool's job computing `request` (joined, or queued now). NotEnoughMemory
        when its estimated peak memory does not fit; QueueFull (users) when the queue is."""
        if self.pool.get(request.key) is None:
            _check_memory(request)
        job, _ = self.pool.submit(
            request.key, lambda job: self._compute(job, request),
            params=request.params.as_dict(), num_points=_num_points(request), priority=priority,
        )
        return job

    def points(self, ctx, experiment, run, tag, step, params, wait=0.0):
        """(status, coords, meta): coords and meta are None unless the state is done.
        With `wait` (seconds), a queued or running job is waited for that long at most."""
        request = self._resolve(ctx, experiment, run, tag, step, params)
        status, found = self._status(request, start=False, retry=False)
        job = self.pool.get(request.key) if found is None and wait > 0 else None
        if job is not None and job.state in (QUEUED, RUNNING):
            job.finished_event.wait(wait)
            status, found = self._status(request, start=False, retry=False)
        if found is None:
            return status, None, None
        return status, found[0], found[1]

    def cancel(self, ctx, experiment, run, tag, step, params):
        """The cancelled job's status, or None if no job was queued or running."""
        request = self._resolve(ctx, experiment, run, tag, step, params)
        job = self.pool.cancel(request.key)
        return None if job is None else job.status()

    def provisional(self, ctx, experiment, run, tag, step, params):
        """[P, 2] float32: the checkpoint's PCA, computed in the request (milliseconds:
        measured in bench/RESULTS.md) and kept in memory, to draw while its projection
        computes. Only `metric` of `params` matters."""
        request = self._resolve(ctx, experiment, run, tag, step, params)
        return self._provisional.get_or_compute(
            (request.data_sha256, params.metric),
            lambda: _engine().provisional(request.checkpoint.states, params.metric),
        )

    # -- computing ----------------------------------------------------------

    def _compute(self, job, request):
        params = request.params
        job.report(0.0, "reading")
        points = np.asarray(request.checkpoint.states, dtype=np.float32)
        lengths = request.checkpoint.lengths
        init, reference, init_desc = None, None, "cold"
        if params.align == "neighbor":
            job.report(0.0, "finding neighbour")
            neighbour = self._neighbour(request, lengths)
            if neighbour is not None:
                step, (coords, meta) = neighbour
                init = np.array(coords, dtype=np.float32)
                reference = meta.get("info")
                init_desc = {"step": step, "sha256": meta["sha256"]}
                job.aligned_to = step
        job.report(0.0, "checking memory")
        _check_memory(request)
        started = time.monotonic()
        job.report(0.0, "starting the engine")
        try:
            layout, peak = _isolated().compute(
                points, params, init=init, reference=reference, progress=job.report,
                checkpoint=job.checkpoint,
            )
        finally:
            job.child = None
        if peak is not None:
            logger.info("rnn_hidden: %s of %d points: peak memory %d MiB (estimated %d MiB)",
                        params.method, len(points), peak >> 20,
                        limits.estimate_bytes(len(points), points.shape[1], params) >> 20)
        coords = np.ascontiguousarray(layout.coords, dtype=np.float32)
        if coords.shape != (points.shape[0], 2):
            raise RuntimeError("the engine returned shape %s for %d points" % (coords.shape, len(points)))
        result = projection_cache.result_key(
            request.data_sha256, params.as_dict(), self.versions(), init_desc
        )
        meta = dict(
            result_key=result,
            sha256=projection_cache.payload_hash(coords),
            aligned_to=job.aligned_to,
            params=params.as_dict(),
            num_points=int(points.shape[0]),
            compute_seconds=round(time.monotonic() - started, 3),
            versions=self.versions(),
            info=layout.info,
        )
        self._memory.put(request.key, (coords, meta))
        self.disk.put(request.key, result, coords, meta)
        return coords, meta

    def steps(self, ctx, experiment, run, tag):
        return [d.step for d in self._reader.series(ctx, experiment, run, tag) or []]

    def _neighbour(self, request, lengths):
        """(step, (coords, meta)) of the nearest checkpoint in training order (the
        earlier on a tie) with the same lengths and a done result, or None."""
        steps = self.steps(request.ctx, request.experiment, request.run, request.tag)
        others = [s for s in nearest_first(steps, request.step) if s != request.step]
        params_dict = request.params.as_dict()
        for step in others:
            try:
                checkpoint = self._reader.checkpoint(
                    request.ctx, request.experiment, request.run, request.tag, step
                )
                if not np.array_equal(checkpoint.lengths, lengths):
                    continue
                data_sha256 = self._data_hash(checkpoint)
            except Exception as e:  # an unreadable neighbour is skipped
                logger.warning("rnn_hidden: skipping neighbour step %d: %s", step, e)
                continue
            key = projection_cache.request_key(data_sha256, params_dict, self.versions())
            found = self.lookup(key, _points_of(checkpoint))
            if found is not None:
                return step, found
        return None

    def close(self):
        if self.background is not None:
            self.background.close()
        self.pool.close()
