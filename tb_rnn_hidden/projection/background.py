"""Lays out checkpoints before anyone asks: the one on screen first, then its neighbours.

`BackgroundProjector` (on by default, `--rnn_hidden_precompute`) submits one background
job at a time to the `ProjectionService`, waits for it, and chooses the next from the
current listing, so that the order follows what the user looks at:

1. the layer on screen (the last checkpoint a user's `/projection` request named): its
   checkpoints by distance in training order from that one, the earlier first on a
   tie; each is aligned to the nearest one already laid out, so a layer is chained
   outwards from what the user sees;
2. then every other layer of every run, newest checkpoint first (the tab opens on the
   newest).

Jobs use the parameters of that last request (before any: t-SNE with default parameters,
aligned to the neighbour). Background jobs yield to every job a user asks for (see
`jobs.JobPool`). A checkpoint whose job failed is not tried again with the same
parameters, nor one whose background job a user cancelled. When nothing is left, the
projector looks for new checkpoints every `interval` seconds, or at once when a user's
request moves the focus.
"""

import logging
import threading

from tensorboard import context as tb_context

from tb_rnn_hidden.projection import jobs as projection_jobs

logger = logging.getLogger(__name__)


class BackgroundProjector:
    def __init__(self, service, reader, params, interval_seconds=30.0):
        self._service = service
        self._reader = reader
        self._default = params
        self._interval = interval_seconds
        self._focus = None  # (experiment, run, tag, step, params) of the last user request
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failed = set()
        self._current = None  # the background job waited for
        self._withdrawn = None  # ... that `focus` took back before it started
        self._thread = threading.Thread(target=self._loop, name="rnn_hidden-background", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def focus(self, experiment, run, tag, step, params):
        """A user asked for this checkpoint's projection with these parameters."""
        focus = (experiment, run, tag, step, params)
        with self._lock:
            changed = focus != self._focus
            self._focus = focus
            current = self._current
        if changed:
            # A background job queued for the old focus would run right after the user's:
            # take it back so that the plan starts from the new focus.
            if current is not None and self._service.pool.withdraw(current):
                self._withdrawn = current
            self._wake.set()

    def close(self, timeout=10.0):
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self):
        while not self._stop.is_set():
            try:
                found = self._next_job()
            except Exception:  # never let a bad checkpoint end the loop
                logger.exception("rnn_hidden: background projection failed")
                found = None
            if found is None:
                self._wake.wait(self._interval)
                self._wake.clear()
                continue
            task, job = found
            while not job.finished_event.wait(0.5):
                if self._stop.is_set():
                    return
            with self._lock:
                self._current = None
            if job.state == projection_jobs.FAILED or (
                job.state == projection_jobs.CANCELLED and job is not self._withdrawn
            ):
                self._failed.add(task)

    def plan(self):
        """[(experiment, run, tag, step, params)]: every checkpoint in the order above."""
        with self._lock:
            focus = self._focus
        experiment = focus[0] if focus else ""
        params = focus[4] if focus else self._default
        listing = self._reader.list_series(tb_context.RequestContext(), experiment)
        order = []
        if focus and focus[1] in listing and focus[2] in listing[focus[1]]:
            steps = listing[focus[1]][focus[2]].get("steps", [])
            nearest = projection_jobs.nearest_first(steps, focus[3])
            order += [(experiment, focus[1], focus[2], s, params) for s in nearest]
        for run in sorted(listing):
            for tag in sorted(listing[run]):
                if focus and (run, tag) == (focus[1], focus[2]):
                    continue
                entry = listing[run][tag]
                if "error" in entry:
                    continue
                steps = sorted(entry.get("steps", []), reverse=True)
                order += [(experiment, run, tag, s, params) for s in steps]
        return order

    def _next_job(self):
        """Submits the first checkpoint of the plan without a result: (task, job), or None."""
        ctx = tb_context.RequestContext()
        for task in self.plan():
            if self._stop.is_set():
                return None
            if task in self._failed:
                continue
            try:
                job, stored = self._service.submit(ctx, *task, priority=projection_jobs.BACKGROUND)
            except Exception as e:  # an unreadable checkpoint: skip it, say why once
                logger.warning("rnn_hidden: cannot lay out %s/%s step %d in the background: %s",
                               task[1], task[2], task[3], e)
                self._failed.add(task)
                continue
            if stored:
                continue
            if job.state == projection_jobs.FAILED:
                self._failed.add(task)
                continue
            with self._lock:
                self._current = job
                focus_moved = self._wake.is_set()
            if focus_moved and self._service.pool.withdraw(job):
                return None  # the focus moved while it was chosen: plan again
            return task, job
        return None
