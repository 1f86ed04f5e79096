"""What a projection may cost: the cap on points, and its memory, checked before it runs.

A request over the cap, or one whose estimated peak memory exceeds what the machine has
available, is refused before a job exists, so that no request can take the machine's
memory (a t-SNE of 4,194,304 points had grown to 3.2 GB and kept two cores busy).

The estimate is the engine process's peak resident memory, measured (VmHWM of the job's
child process, bench/RESULTS.md "Projection memory") and fitted per method as a base (the
imported libraries) plus bytes per point and per point and dimension.
"""

import os


# The default cap: well above the 100k+ points the tab promises; a t-SNE of 2**20 points
# of 64 dimensions is estimated at ~6.9 GB (measured ~6 KB per point at 100k points),
# which a 16 GB machine has; 4,194,304 points (~28 GB) are refused.
DEFAULT_MAX_POINTS = 1 << 20
MAX_POINTS_FLAG = "--rnn_hidden_max_points"

# Peak memory model: BASE_BYTES[method] + points * (PER_POINT[method] + state_size * PER_VALUE).
# Measured (peak resident memory of the engine process, t-SNE with 50 iterations after
# early exaggeration; bench/RESULTS.md "Projection memory"): t-SNE 10k x 64 244 MiB,
# 40k x 64 345 MiB, 40k x 256 412 MiB, 100k x 64 691 MiB (~6 KB per point above the
# libraries' ~120 MiB, growing slightly with the points: the kNN graph, its affinities,
# Annoy's trees); PCA 200k x 256 534 MiB, 400k x 64 311 MiB (the float64 copy);
# UMAP 20k x 64 1249 MiB (importing umap-learn imports TensorFlow where it is installed,
# for its parametric UMAP: ~1 GB before any point). The model lies above every measurement.
# PER_VALUE: the float32 copy of the states sent to the engine and a float64 copy (PCA).
BASE_BYTES = {"tsne": 200 << 20, "pca": 200 << 20, "umap": 1100 << 20}
PER_POINT = {"tsne": 6000, "pca": 64, "umap": 8000}
PER_VALUE = 12
# Only this share of the available memory may be planned for: the estimate is a fit, and
# TensorBoard and its data server keep growing.
HEADROOM = 0.8


class TooManyPoints(ValueError):
    """The checkpoint has more points than `--rnn_hidden_max_points` allows."""


class NotEnoughMemory(RuntimeError):
    """The machine does not have the memory a projection is estimated to need."""


def check_points(num_points, max_points):
    """Raises TooManyPoints naming the number of points, the cap and the flag."""
    if max_points and num_points > max_points:
        raise TooManyPoints(
            "this checkpoint has %d points; projections are limited to %d points "
            "(%s): log fewer sequences, or start TensorBoard with a larger %s if the "
            "machine has the memory" % (num_points, max_points, MAX_POINTS_FLAG, MAX_POINTS_FLAG)
        )


def estimate_bytes(num_points, state_size, params):
    """The estimated peak memory of the engine process computing this projection."""
    per_point = PER_POINT[params.method] + state_size * PER_VALUE
    return int(BASE_BYTES[params.method] + num_points * per_point)


def available_bytes():
    """MemAvailable of /proc/meminfo (Linux), else free physical pages; None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(num_points, state_size, params, available=None):
    """Raises NotEnoughMemory when the estimate exceeds HEADROOM of the available memory."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    needed = estimate_bytes(num_points, state_size, params)
    if needed > HEADROOM * available:
        raise NotEnoughMemory(
            "a %s projection of %d points of %d dimensions needs about %s of memory; this "
            "machine has %s available: choose PCA, log fewer sequences, or free memory"
            % (params.method, num_points, state_size, _mib(needed), _mib(available))
        )


def _mib(n):
    return "%d MiB" % (n >> 20)
