"""Writing hidden-state summaries without TensorFlow, as TensorBoard event files.

TensorBoard's own `EventFileWriter` works with `hidden_states_pb` too, but it
checksums records in pure Python: writing one 512 x 200 x 256 checkpoint
takes it 6.3 s on our 2-core machine, against 0.54 s here, where the same
TFRecord frames get the C implementation of CRC-32C from `google-crc32c`
(bench/RESULTS.md).
"""

import itertools
import os
import socket
import struct
import time

import google_crc32c
import numpy as np
from tensorboard.compat.proto import event_pb2

from tb_rnn_hidden.records import fields as fields_lib
from tb_rnn_hidden.records import summary as summary_lib
from tb_rnn_hidden.records.fields import RecordFields

_file_ids = itertools.count()  # unique file names within a process


def _masked_crc32c(data):
    """The masked CRC-32C of the TFRecord format."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record(data):
    header = struct.pack("<Q", len(data))
    return b"".join(
        [
            header,
            struct.pack("<I", _masked_crc32c(header)),
            data,
            struct.pack("<I", _masked_crc32c(data)),
        ]
    )


class HiddenStateWriter:
    """Appends checkpoints to a new event file in `logdir` (a TensorBoard run).

    Enforces what TensorBoard assumes of a time series: one record per
    (tag, step), steps increasing within a tag. Each record is written and
    flushed before `add` returns.

        with HiddenStateWriter("logs/run1") as writer:
            writer.add("lstm", states, probabilities, tokens=tokens, step=epoch)
    """

    def __init__(self, logdir, *, filename_suffix=""):
        os.makedirs(logdir, exist_ok=True)
        # The file name pattern of TensorBoard's EventFileWriter.
        name = "events.out.tfevents.%010d.%s.%d.%d%s" % (
            time.time(),
            socket.gethostname(),
            os.getpid(),
            next(_file_ids),
            filename_suffix,
        )
        self._file = open(os.path.join(logdir, name), "xb")
        self._last_step = {}
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _write(self, event):
        self._file.write(_record(event.SerializeToString()))
        self._file.flush()

    def add(self, tag, states, probabilities=None, *, step=None, description=None, **fields):
        """Validates and writes one checkpoint; arguments as in `summary.hidden_states_pb`.

        `step` (keyword only) is the checkpoint, an integer 0 <= step < 2**63.
        """
        if step is None and isinstance(probabilities, (int, np.integer)):
            raise ValueError(
                "`step` is missing and `probabilities` is %r; expected the step as a keyword "
                "argument: add(tag, states, step=epoch)" % (probabilities,)
            )
        step = fields_lib.check_step(step)
        self._check_increasing(fields_lib.check_tag(tag), step)
        record = RecordFields(states, probabilities, **fields)
        self.add_summary(summary_lib.fields_pb(tag, record, description=description), step)

    def _check_increasing(self, tag, step):
        last = self._last_step.get(tag)
        if last is not None and step <= last:
            raise ValueError(
                "`step` is %d for tag %r, which already has step %d; expected "
                "steps to increase within a tag" % (step, tag, last)
            )

    def add_summary(self, summary, step):
        """Writes a `Summary` (from `hidden_states_pb`) at `step`."""
        step = fields_lib.check_step(step)
        for value in summary.value:
            fields_lib.check_tag(value.tag)
            self._check_increasing(value.tag, step)
        event = event_pb2.Event(wall_time=time.time(), step=step)
        event.summary.CopyFrom(summary)
        self._write(event)
        for value in summary.value:
            self._last_step[value.tag] = step

    def flush(self):
        self._file.flush()

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *unused_exc):
        self.close()
