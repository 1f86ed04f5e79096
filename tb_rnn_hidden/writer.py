"""Writing hidden-state summaries without TensorFlow, with TensorBoard's event-file writer."""

import time

from tensorboard.compat.proto import event_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from tb_rnn_hidden import summary as summary_lib


class HiddenStateWriter:
    """Appends checkpoints to an event file in `logdir` (a TensorBoard run).

    Enforces what TensorBoard assumes of a time series: one record per
    (tag, step), steps increasing within a tag.

        with HiddenStateWriter("logs/run1") as writer:
            writer.add("lstm", states, probabilities, tokens=tokens, step=epoch)
    """

    def __init__(self, logdir, *, filename_suffix=""):
        self._writer = EventFileWriter(logdir, filename_suffix=filename_suffix)
        self._last_step = {}

    def add(self, tag, states, probabilities=None, *, step, **kwargs):
        """Validates and writes one checkpoint; kwargs as in `summary.hidden_states_pb`."""
        self.add_summary(summary_lib.hidden_states_pb(tag, states, probabilities, **kwargs), step)

    def add_summary(self, summary, step):
        """Writes a `Summary` from `hidden_states_pb` at `step`."""
        step = int(step)
        for value in summary.value:
            last = self._last_step.get(value.tag)
            if last is not None and step <= last:
                raise ValueError(
                    "`step` is %d for tag %r, which already has step %d; expected "
                    "steps to increase within a tag" % (step, value.tag, last)
                )
        for value in summary.value:
            self._last_step[value.tag] = step
        self._writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *unused_exc):
        self.close()
