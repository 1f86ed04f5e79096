"""The array routes (/states, /distances, /probabilities, /tokens, /annotations) over TensorBoard's WSGI
app: byte-for-byte answers streamed in bounded chunks, and a bound on answers in flight.
"""

import http.client
import json
import socket
import threading
import time
import tracemalloc

import numpy as np
import pytest
import werkzeug
import werkzeug.serving
import werkzeug.test

from tb_rnn_hidden import writer
from tb_rnn_hidden.server import requests
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.plugin_client import PREFIX, make_data_provider, plugin_flags

# 24 sequences of up to 400 steps of 256 units: a few MB, several chunks per answer.
N, T, H = 24, 400, 256
QUERY = "?run=r&tag=lstm&step=3"


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    logdir = str(tmp_path_factory.mktemp("logs"))
    data = make_checkpoint(seed=5, n=N, t=T, h=H, c=4, annotations=True)
    data["lengths"][1:] = np.random.default_rng(5).integers(T // 2, T + 1, size=N - 1)
    with writer.HiddenStateWriter(logdir + "/r") as w:
        w.add("lstm", step=3, precision="float16", **data)
    return logdir, data


def make_app(logdir, **flags):
    """(plugin, TensorBoard's WSGI app) over `logdir`."""
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin

    from tb_rnn_hidden.server import loader as plugin_loader
    from tb_rnn_hidden.server import plugin as rnn_hidden_plugin

    flags = plugin_flags(rnn_hidden_precompute="none", rnn_hidden_cache_dir="/nonexistent", **flags)
    plugin_loader.RnnHiddenLoader().fix_flags(flags)
    provider = make_data_provider(logdir, flags.samples_per_plugin)
    context = base_plugin.TBContext(logdir=logdir, data_provider=provider, flags=flags)
    plugin = rnn_hidden_plugin.RnnHiddenPlugin(context)
    return plugin, application.TensorBoardWSGI([plugin], data_provider=provider)


@pytest.fixture
def served(logged):
    plugin, app = make_app(logged[0])
    yield plugin, werkzeug.test.Client(app, werkzeug.Response)
    plugin._projections.close()


def expected_arrays(data):
    states = valid_steps(data["states"], data["lengths"]).astype(np.float16)
    as_float32 = states.astype(np.float32)
    steps = np.linalg.norm(np.diff(as_float32, axis=0), axis=1)
    last_steps = np.cumsum(data["lengths"])[:-1] - 1
    return {
        "/states": states,
        "/states&dtype=float16": states,
        "/states&dtype=float32": as_float32,
        "/probabilities": valid_steps(data["probabilities"], data["lengths"]),
        "/distances": np.delete(steps, last_steps).astype(np.float32),
        "/annotations&name=depth": valid_steps(data["annotations"]["depth"], data["lengths"])
        .astype(np.float32),
        "/annotations&name=pos": np.unique(
            valid_steps(data["annotations"]["pos"], data["lengths"]), return_inverse=True
        )[1].astype(np.int32),
    }


def body_array(response):
    shape = tuple(int(d) for d in response.headers["X-Array-Shape"].split(","))
    dtype = np.dtype(response.headers["X-Array-Dtype"]).newbyteorder("<")
    return np.frombuffer(response.get_data(), dtype=dtype).reshape(shape)


@pytest.mark.parametrize("route", ["/states", "/states&dtype=float16", "/states&dtype=float32",
                                   "/probabilities", "/distances", "/annotations&name=depth",
                                   "/annotations&name=pos"])
def test_answers_are_the_arrays_byte_for_byte_in_bounded_chunks(logged, served, route):
    _, client = served
    path, _, extra = route.partition("&")
    expected = expected_arrays(logged[1])[route]
    response = client.get(PREFIX + path + QUERY + ("&" + extra if extra else ""))
    assert response.status_code == 200, response.get_data(as_text=True)
    chunks = list(response.response)
    assert max(len(c) for c in chunks) <= requests.CHUNK_BYTES
    if expected.nbytes > 2 * requests.CHUNK_BYTES:
        assert len(chunks) > 2
    body = b"".join(chunks)
    assert body == np.ascontiguousarray(expected, expected.dtype.newbyteorder("<")).tobytes()
    assert response.headers["X-Array-Shape"] == ",".join(map(str, expected.shape))
    assert response.headers["X-Array-Dtype"] == expected.dtype.name
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["Content-Type"] == "application/octet-stream"
    # What TensorBoard's http_util.Respond sets on every answer.
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache, must-revalidate"
    assert response.headers["Expires"] == "0"
    if path == "/distances":
        assert float(response.headers["X-Max-Distance"]) == pytest.approx(float(expected.max()))
    if path == "/annotations":
        kind = "numeric" if expected.dtype == np.float32 else "categorical"
        assert response.headers["X-Annotation-Kind"] == kind


def test_tokens_byte_for_byte_and_head_has_no_body(logged, served):
    _, client = served
    data = logged[1]
    info = json.loads(client.get(PREFIX + "/sequences" + QUERY).get_data())
    ids = body_array(client.get(PREFIX + "/tokens" + QUERY))
    assert [info["vocabulary"][i] for i in ids] == list(valid_steps(data["tokens"], data["lengths"]))
    head = client.head(PREFIX + "/states" + QUERY + "&dtype=float32")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == str(int(data["lengths"].sum()) * H * 4)


def test_a_converted_answer_allocates_chunks_not_the_array(logged, served):
    """F6: an answer held a copy of the whole array (two, converted); now two chunks."""
    _, client = served
    path = PREFIX + "/states" + QUERY + "&dtype=float32"
    assert client.get(path).status_code == 200  # the checkpoint is read and cached
    size = int(logged[1]["lengths"].sum()) * H * 4
    assert size > 6 * requests.CHUNK_BYTES
    tracemalloc.start()
    try:
        response = client.get(path)
        received = 0
        for chunk in response.response:
            received += len(chunk)
            del chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    assert peak < 3 * requests.CHUNK_BYTES + (1 << 20), (peak, size)


def test_answers_over_the_bound_wait_then_get_429(logged):
    plugin, app = make_app(logged[0], rnn_hidden_max_array_requests=2)
    plugin._array_slots = requests.RequestSlots(2, wait_seconds=0.2, retry_after=3)
    client = werkzeug.test.Client(app, werkzeug.Response)
    path = PREFIX + "/states" + QUERY + "&dtype=float32"
    expected = expected_arrays(logged[1])["/states&dtype=float32"].tobytes()
    try:
        held = [client.get(path), client.get(path)]  # bodies not read: both slots held
        assert [r.status_code for r in held] == [200, 200]
        assert plugin._array_slots.in_flight == 2
        refused = client.get(PREFIX + "/distances" + QUERY)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "3"
        assert refused.headers["Content-Type"].startswith("application/json")
        assert "--rnn_hidden_max_array_requests" in json.loads(refused.get_data())["error"]
        assert client.get(PREFIX + "/sequences" + QUERY).status_code == 200  # not an array
        assert b"".join(held[0].response) == expected  # sent: its slot is free
        assert plugin._array_slots.in_flight == 1
        assert client.get(path).get_data() == expected
        held[1].close()  # closed unread (a client that went away): its slot is free
        assert plugin._array_slots.in_flight == 0
        missing = client.get(PREFIX + "/states?run=r&tag=lstm&step=99")
        assert missing.status_code == 404 and plugin._array_slots.in_flight == 0
    finally:
        plugin._projections.close()


def test_concurrent_answers_through_a_real_server_are_exact_and_bounded(logged):
    plugin, app = make_app(logged[0], rnn_hidden_max_array_requests=2)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.socket.getsockname()[1]
    expected = expected_arrays(logged[1])
    routes = list(expected) * 3
    bodies = {}

    def fetch(index, route):
        path, _, extra = route.partition("&")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", PREFIX + path + QUERY + ("&" + extra if extra else ""))
        response = connection.getresponse()
        bodies[index] = (response.status, response.read())
        connection.close()

    try:
        threads = [threading.Thread(target=fetch, args=item) for item in enumerate(routes)]
        for t in threads:
            t.start()
        peak = 0
        while any(t.is_alive() for t in threads):
            peak = max(peak, plugin._array_slots.in_flight)
            time.sleep(0.001)
        for t in threads:
            t.join()
        assert peak <= 2
        for index, route in enumerate(routes):
            status, body = bodies[index]
            assert status == 200, body[:200]
            assert body == expected[route].tobytes(), route

        # A client that goes away mid-answer gives its slot back.
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(("GET %s/states%s&dtype=float32 HTTP/1.1\r\nHost: x\r\n\r\n" % (PREFIX, QUERY)).encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.close()
        deadline = time.monotonic() + 30
        while plugin._array_slots.in_flight:
            assert time.monotonic() < deadline, "the slot of a closed connection was not released"
            time.sleep(0.05)
    finally:
        server.shutdown()
        thread.join()
        plugin._projections.close()


def test_concurrent_first_requests_read_a_checkpoint_once(logged):
    """Waiting requests share the one read and decode of a checkpoint, not each their own."""
    plugin, app = make_app(logged[0], rnn_hidden_max_array_requests=8)
    provider = plugin._reader._data_provider
    reads = []
    real_read_blob = provider.read_blob

    def counted_read_blob(ctx, *, blob_key):
        reads.append(blob_key)
        time.sleep(0.05)  # a slow store: the other requests arrive meanwhile
        return real_read_blob(ctx, blob_key=blob_key)

    provider.read_blob = counted_read_blob
    barrier = threading.Barrier(8)
    bodies = []

    def fetch():
        client = werkzeug.test.Client(app, werkzeug.Response)
        barrier.wait()
        bodies.append(client.get(PREFIX + "/states" + QUERY).get_data())

    try:
        threads = [threading.Thread(target=fetch) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        plugin._projections.close()
    expected = expected_arrays(logged[1])["/states"].tobytes()
    assert bodies == [expected] * 8
    assert len(reads) == len(set(reads)), "a blob was read more than once: %s" % reads


@pytest.mark.parametrize("budget, reads_of_states", [(None, 1), (1 << 20, 3)])
def test_the_memory_cache_flag_bounds_what_the_reader_keeps(logged, budget, reads_of_states):
    flags = {} if budget is None else dict(rnn_hidden_memory_cache_bytes=budget)
    plugin, app = make_app(logged[0], **flags)
    provider = plugin._reader._data_provider
    sizes = []
    real_read_blob = provider.read_blob

    def counted_read_blob(ctx, *, blob_key):
        blob = real_read_blob(ctx, blob_key=blob_key)
        sizes.append(len(blob))
        return blob

    provider.read_blob = counted_read_blob
    client = werkzeug.test.Client(app, werkzeug.Response)
    expected = expected_arrays(logged[1])["/states"]
    try:
        for _ in range(3):
            assert client.get(PREFIX + "/states" + QUERY).get_data() == expected.tobytes()
    finally:
        plugin._projections.close()
    assert sizes.count(expected.nbytes) == reads_of_states  # the states blob (> 1 MiB)


@pytest.mark.parametrize("query", [
    "/search" + QUERY + "&q=a&mode=regex",
    "/neighbors" + QUERY + "&point=0&k=3",
    "/matches" + QUERY + "&units=0,1",
])
def test_whole_checkpoint_queries_take_a_slot_and_give_it_back(logged, query):
    """/search, /neighbors and /matches read a whole checkpoint (a regex may run for
    seconds): with every slot held they get 429 too, and each answered one frees its slot."""
    plugin, app = make_app(logged[0], rnn_hidden_max_array_requests=1)
    plugin._array_slots = requests.RequestSlots(1, wait_seconds=0.2, retry_after=3)
    client = werkzeug.test.Client(app, werkzeug.Response)
    try:
        held = client.get(PREFIX + "/states" + QUERY)  # body not read: the one slot held
        refused = client.get(PREFIX + query)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "3"
        assert "--rnn_hidden_max_array_requests" in json.loads(refused.get_data())["error"]
        held.close()
        answered = client.get(PREFIX + query)
        assert answered.status_code == 200, answered.get_data()
        assert plugin._array_slots.in_flight == 0
    finally:
        plugin._projections.close()


# -- /states?sequence=i: one sequence's rows ----------------------------------------------


@pytest.mark.parametrize("dtype", [None, "float16", "float32"])
def test_one_sequences_rows_are_its_slice_of_the_whole_answer(logged, served, dtype):
    """Every sequence's answer is byte for byte its rows of the whole /states answer
    (same dtype, shape [lengths[i], H]), streamed in bounded chunks like it."""
    _, client = served
    lengths = logged[1]["lengths"]
    extra = "" if dtype is None else "&dtype=" + dtype
    whole = body_array(client.get(PREFIX + "/states" + QUERY + extra))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for sequence in range(N):
        response = client.get(PREFIX + "/states" + QUERY + extra + "&sequence=%d" % sequence)
        assert response.status_code == 200, response.get_data(as_text=True)
        chunks = list(response.response)
        assert max(len(c) for c in chunks) <= requests.CHUNK_BYTES
        expected = whole[offsets[sequence] : offsets[sequence + 1]]
        assert b"".join(chunks) == expected.tobytes()
        assert response.headers["X-Array-Shape"] == "%d,%d" % (lengths[sequence], H)
        assert response.headers["X-Array-Dtype"] == whole.dtype.name
        assert response.headers["Content-Length"] == str(expected.nbytes)
    head = client.head(PREFIX + "/states" + QUERY + extra + "&sequence=1")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == str(int(lengths[1]) * H * whole.dtype.itemsize)


@pytest.mark.parametrize("value, expected", [
    ("-1", "query parameter 'sequence' is -1; expected an integer in [0, %d] (the checkpoint has %d sequences)" % (N - 1, N)),
    (str(N), "query parameter 'sequence' is %d; expected an integer in [0, %d]" % (N, N - 1)),
    ("99999999999999999999", "query parameter 'sequence' is 99999999999999999999; expected an integer in"),
    ("1.0", "query parameter 'sequence' is '1.0'; expected an integer"),
    ("one", "query parameter 'sequence' is 'one'; expected an integer"),
    ("", "query parameter 'sequence' is ''; expected an integer"),
])
def test_a_bad_sequence_is_400_naming_it(served, value, expected):
    plugin, client = served
    for extra in ("", "&dtype=float32"):
        response = client.get(PREFIX + "/states" + QUERY + extra + "&sequence=" + value)
        assert response.status_code == 400
        assert expected in json.loads(response.get_data())["error"]
    assert plugin._array_slots.in_flight == 0  # the refused request gave its slot back


def test_a_bad_dtype_is_400_before_the_sequence_is_read(served):
    _, client = served
    response = client.get(PREFIX + "/states" + QUERY + "&dtype=int8&sequence=0")
    assert response.status_code == 400
    assert "'dtype'" in json.loads(response.get_data())["error"]
