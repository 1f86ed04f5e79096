"""Event files as a training and its restart in the same log dir write them."""

import time

from tensorboard.compat.proto import event_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from tb_rnn_hidden import summary
from tests.support.checkpoints import make_checkpoint


def write_training(run_dir, steps, seed, tag="lstm"):
    """A training (or its restart at steps[0]) writing a new event file in `run_dir`.

    The checkpoint of step s is `make_checkpoint(seed=seed + s)`. The file's
    first event is SessionLog START at the first step, as TensorFlow 1's
    supervisor wrote it: TensorBoard's Python loader purges a run's data from
    that step on only when it reads a START after the first one. The Rust data
    server purges a tag's records from any step that is not above its last.
    """
    time.sleep(1.1)  # event file names start with the second: read after earlier ones
    event_writer = EventFileWriter(run_dir)
    start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    event_writer.add_event(event_pb2.Event(wall_time=time.time(), step=steps[0], session_log=start))
    for step in steps:
        pb = summary.hidden_states_pb(tag, **make_checkpoint(seed=seed + step))
        event_writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=pb))
    event_writer.close()
