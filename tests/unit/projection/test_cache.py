"""The projection disk cache against hostile and corrupt files: nothing outside the cache
is read or deleted, nothing that does not fit the request is served, and the budget holds.

The service-level tests run the real plugin in TensorBoard's WSGI app over real event
files; a forged file is written in the cache's own format, so only the checks under
test can reject it.
"""

import glob
import hashlib
import json
import os
import struct
import tempfile

import numpy as np
import pytest

from tb_rnn_hidden import writer
from tb_rnn_hidden.projection import cache as projection_cache
from tests.support.plugin_client import PREFIX, plugin_flags
from tests.support.projection_service import Served

NUM_POINTS = 22


def cache_file(coords, meta, *, shape=None, sha256=None):
    """Bytes in the cache's result format, with a consistent size and hash unless told."""
    payload = np.ascontiguousarray(coords, dtype="<f4").tobytes()
    header = dict(
        shape=list(shape or np.shape(coords)), dtype="<f4", size=len(payload),
        sha256=sha256 or hashlib.sha256(payload).hexdigest(), meta=meta,
    )
    header_bytes = json.dumps(header).encode()
    return b"TBRNNPJ1" + struct.pack("<I", len(header_bytes)) + header_bytes + payload


def meta_for(coords, **changes):
    payload = np.ascontiguousarray(coords, dtype="<f4").tobytes()
    meta = dict(
        result_key="a" * 64, sha256=hashlib.sha256(payload).hexdigest(), aligned_to=None,
        params={"method": "pca"}, num_points=len(coords), compute_seconds=0.1,
        versions={}, info={"method": "pca"},
    )
    meta.update(changes)
    return meta


def snapshot(directory):
    """{path: bytes} of every file under `directory`."""
    found = {}
    for folder, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[path] = f.read()
    return found


# -- F1: a pointer cannot lead outside the cache -----------------------------------


def crafted_result_name(victim_stem):
    """F1's pointer value: "/" + "./" * k + an absolute path, 64 characters long."""
    padding = 64 - 1 - len(victim_stem)
    assert padding >= 0, victim_stem
    return "/" + "./" * (padding // 2) + "/" * (padding % 2) + victim_stem


@pytest.fixture
def outside():
    """A directory outside the cache with a short absolute path (the key is 64 characters)."""
    directory = tempfile.mkdtemp(prefix="v", dir="/tmp")
    yield directory
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    os.rmdir(directory)


@pytest.mark.parametrize("victim_kind", ["garbage", "cache format"])
def test_a_crafted_pointer_never_reaches_outside_the_cache(tmp_path, outside, victim_kind):
    coords = np.arange(10, dtype=np.float32).reshape(5, 2)
    victim = os.path.join(outside, "victim")
    victim_bytes = b"not a projection" if victim_kind == "garbage" else cache_file(coords, meta_for(coords))
    with open(victim + ".bin", "wb") as f:
        f.write(victim_bytes)
    result = crafted_result_name(victim)
    assert len(result) == 64 and os.path.realpath(result + ".bin") == victim + ".bin"
    disk = projection_cache.DiskCache(str(tmp_path / "cache"))
    request = "0" * 64
    pointer = os.path.join(str(tmp_path / "cache"), "v1", "requests", request + ".json")
    os.makedirs(os.path.dirname(pointer))
    with open(pointer, "w") as f:
        json.dump({"result": result}, f)

    assert disk.get(request) is None  # not served
    with open(victim + ".bin", "rb") as f:
        assert f.read() == victim_bytes  # neither deleted nor changed
    assert not os.path.exists(pointer)  # the pointer, inside the cache, is discarded


@pytest.mark.parametrize("key", ["", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "../" * 21 + "x", None, 7])
def test_only_64_lowercase_hex_characters_name_a_file(tmp_path, key):
    disk = projection_cache.DiskCache(str(tmp_path / "cache"))
    coords = np.zeros((3, 2), np.float32)
    disk.put(key, "b" * 64, coords, meta_for(coords))
    disk.put("c" * 64, key, coords, meta_for(coords))
    assert disk.get(key) is None
    assert disk.get_result(key) is None
    written = snapshot(str(tmp_path))
    assert all(os.path.basename(p)[:64] in ("b" * 64,) for p in written), written


def test_a_symlink_inside_the_cache_is_never_followed(tmp_path, outside):
    coords = np.ones((4, 2), np.float32)
    victim = os.path.join(outside, "victim.bin")
    with open(victim, "wb") as f:
        f.write(cache_file(coords, meta_for(coords)))
    disk = projection_cache.DiskCache(str(tmp_path / "cache"))
    disk.put("1" * 64, "2" * 64, coords, meta_for(coords))
    result_path = disk.result_path("2" * 64)
    os.unlink(result_path)
    os.symlink(victim, result_path)

    assert disk.get("1" * 64, 4) is None
    with open(victim, "rb") as f:
        assert f.read() == cache_file(coords, meta_for(coords))
    assert not os.path.lexists(result_path)  # the link, an entry of the cache, is gone
    assert not os.path.exists(disk.request_path("1" * 64))
    disk.put("1" * 64, "2" * 64, coords * 2, meta_for(coords * 2))
    np.testing.assert_array_equal(disk.get("1" * 64, 4)[0], coords * 2)
    with open(victim, "rb") as f:
        assert f.read() == cache_file(coords, meta_for(coords))


# -- the files a result is read from must fit the request ----------------------------


@pytest.mark.parametrize(
    "forge, why",
    [
        (lambda c: cache_file(c[:5], meta_for(c[:5])), "points"),
        (lambda c: cache_file(np.full_like(c, np.nan), meta_for(np.full_like(c, np.nan))), "finite"),
        (lambda c: cache_file(c, "a string"), "meta"),
        (lambda c: cache_file(c, meta_for(c, num_points="22")), "meta"),
        (lambda c: cache_file(c, meta_for(c, info="x")), "meta"),
        (lambda c: cache_file(c, meta_for(c))[:-3], "bytes"),
        (lambda c: cache_file(c, meta_for(c), sha256="0" * 64), "SHA-256"),
        (lambda c: cache_file(c, meta_for(c), shape=[11, 4]), "shape"),
        (lambda c: b"TBRNNPJ1" + struct.pack("<I", 10**6) + b"[" * 10**6, "header"),
    ],
)
def test_a_result_that_does_not_fit_is_discarded(tmp_path, caplog, forge, why):
    coords = np.random.default_rng(0).standard_normal((NUM_POINTS, 2)).astype(np.float32)
    disk = projection_cache.DiskCache(str(tmp_path / "cache"))
    disk.put("1" * 64, "2" * 64, coords, meta_for(coords))
    found, meta = disk.get("1" * 64, NUM_POINTS)
    np.testing.assert_array_equal(found, coords)
    with open(disk.result_path("2" * 64), "wb") as f:
        f.write(forge(coords))

    assert disk.get("1" * 64, NUM_POINTS) is None
    assert why in caplog.text
    assert not os.path.exists(disk.result_path("2" * 64))
    assert not os.path.exists(disk.request_path("1" * 64))


# -- the size budget -------------------------------------------------------------


def test_least_recently_used_results_are_evicted_and_nothing_else(tmp_path):
    root = tmp_path / "cache"
    coords = np.zeros((1000, 2), np.float32)  # 8,000 bytes of payload, ~8.4 KB a file
    disk = projection_cache.DiskCache(str(root), max_bytes=10**9)
    keys = {name: (c * 64, d * 64) for name, c, d in [("a", "a", "1"), ("b", "b", "2"), ("c", "c", "3")]}
    for request, result in keys.values():
        disk.put(request, result, coords, meta_for(coords))
    one = os.path.getsize(disk.result_path("1" * 64)) + os.path.getsize(disk.request_path("a" * 64))
    # Files the eviction must leave alone: another format version, other names, outside.
    others = [root / "v0" / "results" / ("4" * 64 + ".bin"), root / "v1" / "results" / "notes.bin",
              root / "v1" / "README", tmp_path / ("5" * 64 + ".bin")]
    for path in others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 50_000)

    assert disk.get(*keys["a"][:1], 1000) is not None  # a is now more recent than b and c
    disk.max_bytes = 3 * one + 100
    disk.put("d" * 64, "4" * 64, coords, meta_for(coords))  # one over: b goes
    assert disk.get("b" * 64, 1000) is None
    assert not os.path.exists(disk.result_path("2" * 64))
    assert not os.path.exists(disk.request_path("b" * 64))
    for request in ("a", "c", "d"):
        assert disk.get(request * 64, 1000) is not None, request
    # Read a, c, d in that order, then a again: c is the least recently used.
    disk.get("a" * 64, 1000)
    disk.put("e" * 64, "5" * 64, coords, meta_for(coords))
    assert disk.get("c" * 64, 1000) is None
    assert [disk.get(r * 64, 1000) is not None for r in "ade"] == [True, True, True]
    for path in others:
        assert path.read_bytes() == b"x" * 50_000, path


def test_a_result_larger_than_the_budget_is_not_stored(tmp_path):
    disk = projection_cache.DiskCache(str(tmp_path / "cache"), max_bytes=1000)
    coords = np.zeros((1000, 2), np.float32)
    disk.put("a" * 64, "1" * 64, coords, meta_for(coords))
    assert disk.get("a" * 64, 1000) is None


def test_the_budget_flag_reaches_the_cache(logdir):
    flags = plugin_flags()
    assert flags.rnn_hidden_cache_max_bytes == 2 << 30
    served = Served(logdir, "/nonexistent-unused", rnn_hidden_cache_max_bytes=12345)
    try:
        assert served.plugin._projections.disk.max_bytes == 12345
    finally:
        served.close()


# -- through the plugin: a forged or corrupt file is recomputed, never served ---------


QUERY = "?run=r&tag=lstm&step=0&method=pca"


def consistent(coords, meta):
    """A result file of `coords` whose header and metadata agree with them."""
    return cache_file(coords, dict(meta, num_points=len(coords),
                                   sha256=projection_cache.payload_hash(coords)))


@pytest.fixture
def logged(logdir):
    """A 22-point checkpoint (4 sequences of lengths 6, 6, 5, 5)."""
    states = np.tanh(np.random.default_rng(1).standard_normal((4, 6, 8))).astype(np.float32)
    with writer.HiddenStateWriter(logdir + "/r") as w:
        w.add("lstm", states, step=0, lengths=np.array([6, 6, 5, 5]), precision="float32")
    return logdir


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c, m: consistent(c[:5], m), id="5 points for 22"),
        pytest.param(lambda c, m: consistent(np.full_like(c, np.nan), m), id="NaN coordinates"),
        pytest.param(lambda c, m: cache_file(c, "a string"), id="meta a string"),
        pytest.param(lambda c, m: cache_file(c, m)[:-7], id="truncated"),
        pytest.param(lambda c, m: cache_file(c, m, sha256="f" * 64), id="wrong hash"),
    ],
)
def test_a_forged_or_corrupt_cached_result_is_recomputed(logged, tmp_path, forge):
    cache_dir = tmp_path / "cache"
    first = Served(logged, cache_dir)
    try:
        assert first.wait_done(QUERY)["state"] == "done"
        computed = first.array(PREFIX + "/projection/points" + QUERY)[0]
    finally:
        first.close()
    assert computed.shape == (NUM_POINTS, 2)
    (result,) = glob.glob(str(cache_dir / "v1" / "results" / "*.bin"))
    found = projection_cache.DiskCache(str(cache_dir)).get_result(os.path.basename(result)[:64])
    with open(result, "wb") as f:
        f.write(forge(*found))

    second = Served(logged, cache_dir)  # a new process: nothing in memory
    try:
        status = second.wait_done(QUERY)
        assert status["state"] == "done" and status["cached"] is False
        assert status["num_points"] == NUM_POINTS
        served = second.array(PREFIX + "/projection/points" + QUERY)[0]
    finally:
        second.close()
    assert served.shape == (NUM_POINTS, 2) and np.isfinite(served).all()
    np.testing.assert_array_equal(served, computed)  # PCA: the same again
