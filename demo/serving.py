"""The demos' last step: open TensorBoard on the log directory they wrote.

Shared by `train.py` and `nesting.py`, so that both take the same
`--logdir`, `--no-serve` and `--port` and start TensorBoard the same way.
"""

import subprocess
import sys


def add_arguments(parser, default_logdir="demo_logs"):
    """The log directory, and whether and where to serve it afterwards."""
    parser.add_argument("--logdir", default=default_logdir)
    parser.add_argument("--no-serve", action="store_true", help="log only; do not start TensorBoard")
    parser.add_argument("--port", default="6006")


def open_tensorboard(args):
    """Runs TensorBoard on `args.logdir` until Ctrl+C, unless `args.no_serve`."""
    if args.no_serve:
        return
    print("starting TensorBoard: open http://localhost:%s/#rnn_hidden (Ctrl+C to stop)" % args.port)
    subprocess.call([sys.executable, "-m", "tensorboard.main", "--logdir", args.logdir,
                     "--port", args.port])
