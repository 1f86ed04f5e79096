"""TensorBoard's Rust data server on a logdir, as a data provider (what `--load_fast` uses).

Started with the flags TensorBoard's `SubprocessServerDataIngester` passes
(keeping every rnn_hidden record, as our loader asks), but by us, so that the
test can stop it.
"""

import contextlib
import os
import subprocess
import tempfile
import time


def data_server_binary():
    """The installed data server's path, or None (a wheel without the binary)."""
    try:
        from tensorboard_data_server import server_binary
    except ImportError:
        return None
    return server_binary()


@contextlib.contextmanager
def running_data_server(logdir, *, expected_runs, timeout=60):
    """Yields a `GrpcDataProvider` once the server lists `expected_runs` under rnn_hidden."""
    import grpc
    from tensorboard import context
    from tensorboard.data import grpc_provider

    with tempfile.TemporaryDirectory(prefix="data_server_") as scratch:
        port_file = os.path.join(scratch, "port")
        process = subprocess.Popen(
            [data_server_binary(), "--logdir=%s" % logdir, "--reload=1",
             "--samples-per-plugin=rnn_hidden=all", "--port=0", "--port-file=%s" % port_file],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + timeout
            while not _read(port_file).endswith("\n"):
                assert process.poll() is None and time.time() < deadline, "no data server"
                time.sleep(0.05)
            addr = "localhost:%d" % int(_read(port_file))
            channel = grpc.insecure_channel(
                addr, options=[("grpc.max_receive_message_length", 256 << 20)])
            provider = grpc_provider.GrpcDataProvider(addr, grpc_provider.make_stub(channel))
            while True:
                listing = provider.list_blob_sequences(
                    context.RequestContext(), experiment_id="", plugin_name="rnn_hidden")
                if set(expected_runs) <= set(listing):
                    break
                assert time.time() < deadline, "the data server listed only %s" % sorted(listing)
                time.sleep(0.1)
            yield provider
            channel.close()
        finally:
            process.terminate()
            process.wait(timeout=20)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""
