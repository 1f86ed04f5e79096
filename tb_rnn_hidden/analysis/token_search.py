"""Token search over one checkpoint: exact, prefix and regular-expression queries.

A hit is a run of consecutive tokens of one sequence, never across a sequence
boundary, as (first point, number of tokens); hits come in point order.

- exact / prefix: the query's tokens (split on whitespace; for a character
  vocabulary, its characters) equal / start the tokens of the run in order. Each
  query token resolves to the vocabulary ids it matches, a boolean table over the
  vocabulary, gathered over the token id array for the first query token, then
  over the candidates left for each next one: no Python loop over tokens
  (~3 ms of CPU for 1M tokens).
- regex: over each sequence's text (tokens joined by "" for a character
  vocabulary, else by " "), each match mapped to the tokens it overlaps (a match
  of separators only covers no token and is no hit; matches covering the same
  tokens are one hit). RE2 (google-re2) runs in time linear in the text, so no
  pattern can hang the server (Python's `re` backtracks: `(a+)+b` over 100k
  characters would run for ages); it has no backreferences or look-around, and
  those are answered as invalid patterns. A pattern compiling to a huge program
  (RE2's NFA costs text x program) or whose matches take longer than
  `REGEX_SECONDS` to enumerate (checked between sequences and every 4,096
  matches) raises `PatternTooCostly`.
"""

import itertools
import time
from typing import NamedTuple

import numpy as np

from tb_rnn_hidden.analysis import derived

MODES = ("exact", "prefix", "regex")
DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000
# RE2 program size above which a pattern is refused; measured: a program of 1,045
# instructions whose DFA overflows runs its NFA at ~5 ns per instruction and byte.
MAX_PROGRAM_SIZE = 2000
# Enumerating every match of "." over 1M characters takes ~2 s of CPU (bench/RESULTS.md).
REGEX_SECONDS = 10.0
_CHECK_EVERY = 4096


class PatternError(ValueError):
    """The regular expression is invalid (or uses what RE2 does not support)."""


class PatternTooCostly(ValueError):
    """The regular expression would cost more than the server allows."""


class Hits(NamedTuple):
    """Every hit of a query: first point and number of tokens, ascending by (point, length)."""

    points: np.ndarray  # int64 [hits]
    lengths: np.ndarray  # int64 [hits]


def is_character_vocabulary(vocabulary):
    """Every entry one character: the tokens of a sequence are its text's characters."""
    return bool(vocabulary) and all(len(entry) == 1 for entry in vocabulary)


def query_tokens(query, vocabulary):
    """The query's tokens: its characters for a character vocabulary, else its words."""
    if is_character_vocabulary(vocabulary):
        return list(query)
    return query.split()


def token_hits(token_ids, offsets, vocabulary, tokens, prefix=False):
    """`Hits` of runs of tokens equal to (or, with `prefix`, starting with) `tokens`."""
    points = len(token_ids)
    width = len(tokens)
    longest = int(np.diff(offsets).max()) if len(offsets) > 1 else 0
    if width == 0 or width > longest:  # no run that long fits in a sequence
        return _no_hits()
    tables = {}  # query token -> bool [V]: which vocabulary entries it matches
    for token in tokens:
        if token not in tables:
            tables[token] = np.fromiter(
                (entry.startswith(token) if prefix else entry == token for entry in vocabulary),
                dtype=bool, count=len(vocabulary),
            )
    # Candidates from the first token over every point, then narrowed token by token:
    # each later step costs only as much as the candidates left.
    first = np.flatnonzero(tables[tokens[0]][token_ids[: points - width + 1]])
    for j in range(1, width):
        if len(first) == 0:
            break
        first = first[tables[tokens[j]][token_ids[first + j]]]
    if width > 1:  # the run's last token in the same sequence as its first
        last = first + width - 1
        within = derived.sequence_of(offsets, first) == derived.sequence_of(offsets, last)
        first = first[within]
    return Hits(first.astype(np.int64), np.full(len(first), width, dtype=np.int64))


class TokenText(NamedTuple):
    """Each sequence's text as UTF-8, and where every token lies in it; built once per
    checkpoint (the reader caches it; a tuple, so the cache counts its bytes)."""

    text: bytes  # every sequence's text, one after another, no separator between them
    token_starts: np.ndarray  # int64 [P] byte offset of each token in `text`
    token_ends: np.ndarray  # int64 [P] its end (separator excluded)
    sequence_starts: np.ndarray  # int64 [N + 1] byte offset of each sequence's text; then the end


def token_text(token_ids, offsets, vocabulary):
    """`TokenText` of a checkpoint: tokens joined by "" (character vocabulary) or " "."""
    separator = b"" if is_character_vocabulary(vocabulary) else b" "
    pieces = [entry.encode("utf-8") for entry in vocabulary]
    sizes = np.array([len(p) for p in pieces], dtype=np.int64)
    token_sizes = sizes[token_ids]
    # Each token is followed by the separator except the last of its sequence.
    spans = token_sizes + len(separator)
    lengths = np.diff(offsets)
    last = offsets[1:][lengths > 0] - 1
    spans[last] -= len(separator)
    token_starts = np.concatenate([[0], np.cumsum(spans)[:-1]]).astype(np.int64)
    if len(token_ids) == 0:
        token_starts = np.zeros(0, dtype=np.int64)
    token_ends = token_starts + token_sizes
    joined = [pieces[i] for i in token_ids.tolist()]
    parts = []
    for i in range(len(offsets) - 1):
        parts.append(separator.join(joined[offsets[i] : offsets[i + 1]]))
    sequence_starts = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    return TokenText(b"".join(parts), token_starts, token_ends, sequence_starts)


def compile_pattern(pattern):
    """The RE2 regexp of `pattern`; PatternError if invalid, PatternTooCostly if huge."""
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        regexp = re2.compile(pattern, options)
    except re2.error as e:
        message = e.args[0] if e.args else "invalid"
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        if "too large" in message or "too big" in message:
            raise PatternTooCostly("the pattern is too large (%s)" % message)
        raise PatternError(
            "%s (RE2 syntax: no backreferences or look-around)" % message
        )
    if regexp.programsize > MAX_PROGRAM_SIZE:
        raise PatternTooCostly(
            "the pattern compiles to %d instructions; expected at most %d"
            % (regexp.programsize, MAX_PROGRAM_SIZE)
        )
    return regexp


def regex_hits(text, pattern, seconds=REGEX_SECONDS):
    """`Hits` of `pattern` over each sequence's text of `text` (a `TokenText`)."""
    regexp = compile_pattern(pattern)
    deadline = time.monotonic() + seconds
    found = []  # [matches, 2] byte spans, per batch
    sequence_starts = text.sequence_starts.tolist()
    for i in range(len(sequence_starts) - 1):
        base, stop = sequence_starts[i], sequence_starts[i + 1]
        matches = regexp.finditer(text.text[base:stop])
        while True:
            spans = [m.span() for m in itertools.islice(matches, _CHECK_EVERY)]
            if spans:
                found.append(np.array(spans, dtype=np.int64) + base)
            _check_deadline(deadline, seconds)
            if len(spans) < _CHECK_EVERY:
                break
    spans = np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)
    spans = spans[spans[:, 1] > spans[:, 0]]  # an empty match covers no token
    return _covered_tokens(text, spans[:, 0], spans[:, 1])


def _check_deadline(deadline, seconds):
    if time.monotonic() > deadline:
        raise PatternTooCostly(
            "the pattern's matches took over %g s to enumerate; expected a pattern that "
            "matches less often" % seconds
        )


def _covered_tokens(text, byte_starts, byte_ends):
    """`Hits` of the tokens each byte range [start, end) overlaps, without duplicates."""
    first = np.searchsorted(text.token_ends, byte_starts, side="right")
    stop = np.searchsorted(text.token_starts, byte_ends, side="left")
    keep = stop > first
    first, stop = first[keep], stop[keep]
    if len(first) == 0:
        return _no_hits()
    unique = np.unique(np.stack([first, stop - first], axis=1), axis=0)  # sorted by point
    return Hits(unique[:, 0].astype(np.int64), unique[:, 1].astype(np.int64))


def search(token_ids, offsets, vocabulary, query, mode, text=None):
    """`Hits` of `query` in `mode`; `text` (a `TokenText`, built if None) for regex."""
    if mode == "regex":
        if text is None:
            text = token_text(token_ids, offsets, vocabulary)
        return regex_hits(text, query)
    tokens = query_tokens(query, vocabulary)
    return token_hits(token_ids, offsets, vocabulary, tokens, prefix=(mode == "prefix"))


def hits_json(hits, offsets, limit):
    """The answer of /search: the first `limit` hits, how many in all, whether cut."""
    points = hits.points[:limit]
    ends = points + hits.lengths[:limit]
    sequences, starts = derived.sequence_steps(offsets, points)
    return {
        "hits": [
            {"sequence": int(s), "start": int(a), "end": int(a + (e - p)), "point": int(p)}
            for s, a, e, p in zip(sequences.tolist(), starts.tolist(), ends.tolist(),
                                  points.tolist())
        ],
        "total": int(len(hits.points)),
        "truncated": bool(len(hits.points) > limit),
    }


def _no_hits():
    return Hits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
