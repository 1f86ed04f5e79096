"""On/off patterns of hidden units: LSTMVis' hypothesis selection and match search.

A unit is *on* at a step when its value is >= the threshold, compared exactly
(as real numbers, whatever the stored dtype). Points are a checkpoint's valid
steps, sequence after sequence; `offsets` (`derived.offsets`) says where each
sequence starts, and no run of steps ever crosses from one sequence into the next.

Selection (LSTMVis' `cellSelection`): the units whose on/off pattern over
[start - off_before, end + off_after) is on inside [start, end) and off outside.

Match search (LSTMVis' `query_similar_activations`, over every step): count per
step the query units S that are on, c[t]; for k = |S| down to 1, the maximal
runs of c >= k of at least `min_length` steps are candidates (each kept once, at
its highest k), with a constraint score (k minus the count just before and/or
just after the run, on the constrained edges; 0 outside the sequence). Each
candidate is scored against ALL units: those on throughout the run and off at a
constrained edge next to it (edges outside the sequence are met). Ranked by
largest intersection with S, smallest union, longest run, then constraint
score, k and point. Unlike LSTMVis' precise mode, which keeps its best 10,000
candidates by constraint score (1,000 of the first 500k steps in its fast
mode), every candidate can be ranked: the descent over k stops only when no
lower level can reach the top `limit` (`find_matches`). Where LSTMVis' cap does
not bind, the ranking is LSTMVis'.

Speed: the on/off matrix is bit-packed once per (checkpoint, threshold)
(`pack_on`, [P + 1, ceil(H / 64)] uint64: 32 MiB for 1M steps x 256 units) and
cached with the checkpoint; a query then reads |S| bit columns for c[t], finds
the runs of each level with vectorised comparisons, and ANDs the packed rows of
its candidate runs in one `np.bitwise_and.reduceat`. bench/lstmvis_bench.py measures
it against a direct NumPy transcription of LSTMVis' loop (bench/RESULTS.md).
"""

import dataclasses

import numpy as np

DEFAULT_THRESHOLD = 0.3
DEFAULT_OFF_BEFORE = 1  # LSTMVis' default "off" extents [1, 0]
DEFAULT_OFF_AFTER = 0
DEFAULT_MIN_LENGTH = 2  # LSTMVis' cut-off
_PACK_CHUNK_ROWS = 1 << 15  # bounds the temporaries of `pack_on` (~8 MiB of bools at 256 units)


# -- on/off -------------------------------------------------------------------------------

def _threshold_in(dtype, threshold):
    """The smallest value of `dtype` >= `threshold` (so `x >= it` iff `x >= threshold`
    for every x of `dtype`), as -0.0 for zero so that both zeros are on."""
    with np.errstate(over="ignore"):  # beyond the dtype's range: +-inf, then the largest
        value = dtype.type(threshold)
    if float(value) < threshold:
        value = np.nextafter(value, dtype.type(np.inf))
    if value == 0:
        value = dtype.type(-0.0)
    return np.array([value], dtype=dtype)


def on_steps(states, threshold):
    """[rows, H] bool: `states >= threshold`, compared exactly.

    Float16 and float32 compare as integers, in one pass (numpy compares float16
    ~6x slower than int16): for a threshold >= +0 the finite values >= it are
    those whose bits, read as signed integers, are >= its bits (negative values
    read negative); for a negative one (or -0.0), those whose bits, read as
    unsigned integers, are <= its bits (every value >= +0 reads below the sign bit).
    """
    states = np.asarray(states)
    if states.dtype not in (np.float16, np.float32):
        return states.astype(np.float64) >= float(threshold)
    limit = _threshold_in(states.dtype, threshold)
    size = states.dtype.itemsize
    if np.signbit(limit[0]):
        unsigned = np.dtype("u%d" % size)
        return np.ascontiguousarray(states).view(unsigned) <= limit.view(unsigned)[0]
    signed = np.dtype("i%d" % size)
    return np.ascontiguousarray(states).view(signed) >= limit.view(signed)[0]


def pack_on(states, threshold):
    """[P + 1, ceil(H / 64)] little-endian uint64: bit u % 64 of word u // 64 of row p
    is whether unit u is on at point p. The last row is all off: the end of a run
    ending at the last point is a valid `reduceat` index."""
    num_points, num_units = states.shape
    words = -(-num_units // 64)
    packed = np.zeros((num_points + 1, words * 8), dtype=np.uint8)
    for start in range(0, num_points, _PACK_CHUNK_ROWS):
        stop = min(start + _PACK_CHUNK_ROWS, num_points)
        on = on_steps(states[start:stop], threshold)
        packed[start:stop, : -(-num_units // 8)] = np.packbits(on, axis=1, bitorder="little")
    return packed.view("<u8")


def unit_mask(units, words):
    """[words] uint64: the packed row with `units` on."""
    mask = np.zeros(words, dtype="<u8")
    units = np.asarray(units, dtype=np.int64)
    np.bitwise_or.at(mask, units >> 6, np.left_shift(np.uint64(1), (units & 63).astype(np.uint64)))
    return mask


def unit_counts(packed, mask):
    """[P] c[t]: how many units of `mask` (`unit_mask`) are on at each point. One pass
    over the packed rows (a column of units would read every cache line too)."""
    return np.bitwise_count(packed[:-1] & mask).sum(axis=1, dtype=np.int32)


# -- selection ----------------------------------------------------------------------------

def clip_off_extents(length, start, end, off_before, off_after):
    """(off_before, off_after) clipped at the ends of a sequence of `length` steps."""
    return min(off_before, start), min(off_after, length - end)


def selected_units(window, threshold, off_before, off_after):
    """Ascending units whose pattern over `window` ([off_before + n + off_after, H]
    states) is off for the first `off_before` rows and last `off_after`, on between."""
    window = np.asarray(window)
    signature = np.zeros(len(window), dtype=bool)
    signature[off_before : len(window) - off_after] = True
    same = on_steps(window, threshold) == signature[:, None]
    return np.flatnonzero(same.all(axis=0))


# -- match search -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Matches:
    """Ranked matches (arrays of equal length, best first) and how many candidates were scored."""

    point: np.ndarray  # first point of the run
    length: np.ndarray  # steps in the run
    intersection: np.ndarray  # |active units & S|
    union: np.ndarray  # |active units | S|
    k: np.ndarray  # the level whose run it is: >= k of S on throughout
    constraint: np.ndarray  # LSTMVis' constraint score
    candidates: int


def _sequence_edges(offsets, num_points):
    """([P] bool first step of a sequence, [P] bool last step of a sequence)."""
    first = np.zeros(num_points, dtype=bool)
    last = np.zeros(num_points, dtype=bool)
    starts, ends = offsets[:-1], offsets[1:]
    nonempty = ends > starts
    first[starts[nonempty]] = True
    last[ends[nonempty] - 1] = True
    return first, last


def _level_runs(at_least, first, last):
    """(starts, ends) of the maximal runs of True in `at_least` within sequences."""
    before = np.empty_like(at_least)
    before[0] = False
    before[1:] = at_least[:-1]
    after = np.empty_like(at_least)
    after[-1] = False
    after[:-1] = at_least[1:]
    starts = np.flatnonzero(at_least & (first | ~before))
    ends = np.flatnonzero(at_least & (last | ~after)) + 1
    return starts, ends


def _constraint(k, left, right, before, after):
    """LSTMVis' constraint score of runs at level k: k minus the counts next to them
    on the constrained edges (0 when no edge is constrained). LSTMVis keeps its best
    10,000 candidates by it; here it only breaks ties."""
    if before and after:
        return k - left - right
    if before:
        return k - left
    if after:
        return k - right
    return np.zeros_like(left)


def _level_candidates(counts, k, first, last, min_length, previous, before, after):
    """(starts, ends, constraint scores, keys) of the candidate runs at level k: the
    maximal runs of c >= k within sequences, of `min_length` steps or more, except
    those equal to a run of level k + 1 (`previous`, their keys)."""
    starts, ends = _level_runs(counts >= k, first, last)
    keep = ends - starts >= min_length
    starts, ends = starts[keep], ends[keep]
    keys = starts.astype(np.int64) * (len(counts) + 1) + ends
    new = ~np.isin(keys, previous, assume_unique=True)
    starts, ends = starts[new], ends[new]
    left = np.where(first[starts], 0, counts[starts - 1])  # < k: the runs are maximal
    right = np.where(last[ends - 1], 0, counts[np.minimum(ends, len(counts) - 1)])
    constraint = np.broadcast_to(_constraint(k, left, right, before, after), starts.shape)
    return starts, ends, constraint.astype(np.int64), keys


def _active_units(packed, starts, ends, first, last, before, after):
    """[runs, words] packed units on throughout each run (`starts` ascending), and off at
    its constrained edges inside its sequence: one AND-reduce over the packed rows."""
    bounds = np.empty(2 * len(starts), dtype=np.intp)
    bounds[0::2] = starts
    bounds[1::2] = ends
    if not len(starts):
        return np.empty((0, packed.shape[1]), dtype=packed.dtype)
    active = np.bitwise_and.reduceat(packed, bounds, axis=0)[0::2]
    if before:
        inside = ~first[starts]
        active[inside] &= ~packed[starts[inside] - 1]
    if after:
        inside = ~last[ends - 1]
        active[inside] &= ~packed[ends[inside]]
    return active


def find_matches(packed, offsets, units, *, min_length=DEFAULT_MIN_LENGTH, off_before=True,
                 off_after=False, limit=50):
    """The `limit` best `Matches` of the query units in a `pack_on` matrix.

    `off_before`/`off_after`: whether the step just before/after a run is a
    constrained edge (LSTMVis constrains one step, whatever the off extent).
    Every candidate run is ranked, with no cap; the descent over k stops once
    `limit` scored runs have an intersection >= k, since a run of a lower level
    has fewer than k query units on throughout it (its smallest count is its level).
    """
    units = np.unique(np.asarray(units, dtype=np.int64))
    query = unit_mask(units, packed.shape[1])
    counts = unit_counts(packed, query)
    first, last = _sequence_edges(offsets, len(counts))
    levels, previous = [], np.empty(0, dtype=np.int64)
    for k in range(len(units) if len(counts) else 0, 0, -1):
        starts, ends, constraint, previous = _level_candidates(
            counts, k, first, last, min_length, previous, off_before, off_after)
        active = _active_units(packed, starts, ends, first, last, off_before, off_after)
        intersection = np.bitwise_count(active & query).sum(axis=1, dtype=np.int64)
        union = np.bitwise_count(active).sum(axis=1, dtype=np.int64) + len(units) - intersection
        levels.append((starts, ends - starts, np.full(len(starts), k), constraint,
                       intersection, union))
        if sum(np.count_nonzero(level[4] >= k) for level in levels) >= limit:
            break
    if not levels:
        levels = [tuple(np.empty(0, dtype=np.int64) for _ in range(6))]
    point, length, k, constraint, intersection, union = (
        np.concatenate(column) for column in zip(*levels))
    rank = np.lexsort((point, -k, -constraint, -length, union, -intersection))[:limit]
    return Matches(point=point[rank], length=length[rank], intersection=intersection[rank],
                   union=union[rank], k=k[rank], constraint=constraint[rank],
                   candidates=len(point))


def match_quality(matches, num_query_units):
    """Mean over `matches` of intersection / |S| (0.0 without matches): 1.0 when every
    match has all the query units on; what is plotted per checkpoint."""
    if not len(matches.intersection):
        return 0.0
    return float(matches.intersection.mean() / num_query_units)
