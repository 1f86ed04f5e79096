"""Token search (analysis/token_search.py) against plain loops over the tokens."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tb_rnn_hidden.analysis import token_search

WORDS = ["the", "then", "cat", "cats", "ünï", "a", "on", "(", ")"]
CHARACTERS = ["a", "b", "c", "ü", " ", "(", ")", "\n"]


def offsets_of(lengths):
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def reference_token_hits(token_ids, lengths, vocabulary, tokens, prefix):
    """[(point, length)]: every run of tokens matching `tokens`, by looping."""
    hits, point = [], 0
    for length in lengths:
        for start in range(length - len(tokens) + 1):
            words = [vocabulary[token_ids[point + start + j]] for j in range(len(tokens))]
            if all(w.startswith(t) if prefix else w == t for w, t in zip(words, tokens)):
                hits.append((point + start, len(tokens)))
        point += length
    return hits


def reference_regex_hits(token_ids, lengths, vocabulary, pattern):
    """[(point, length)]: Python's `re` over each sequence's text, by looping over characters."""
    separator = "" if all(len(v) == 1 for v in vocabulary) else " "
    hits, point = set(), 0
    for length in lengths:
        words = [vocabulary[i] for i in token_ids[point : point + length]]
        owner = []  # token index of each character of the text, None for separators
        for index, word in enumerate(words):
            if index:
                owner += [None] * len(separator)
            owner += [index] * len(word)
        for match in re.finditer(pattern, separator.join(words)):
            covered = [owner[c] for c in range(*match.span()) if owner[c] is not None]
            if covered:
                hits.add((point + covered[0], covered[-1] - covered[0] + 1))
        point += length
    return sorted(hits)


def as_pairs(hits):
    return list(zip(hits.points.tolist(), hits.lengths.tolist()))


@st.composite
def checkpoints(draw, characters=None):
    """(token_ids, lengths, vocabulary) of a few sequences."""
    if characters is None:
        characters = draw(st.booleans())
    pool = CHARACTERS if characters else WORDS
    vocabulary = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True))
    lengths = draw(st.lists(st.integers(1, 12), min_size=1, max_size=6))
    ids = draw(st.lists(st.integers(0, len(vocabulary) - 1), min_size=sum(lengths),
                        max_size=sum(lengths)))
    return np.array(ids, dtype=np.int32), lengths, vocabulary


@settings(max_examples=200, deadline=None)
@given(data=checkpoints(), prefix=st.booleans(), query=st.data())
def test_exact_and_prefix_hits_equal_the_reference(data, prefix, query):
    token_ids, lengths, vocabulary = data
    pool = vocabulary + ["c", "th", "ü", "zz"]
    tokens = query.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    hits = token_search.token_hits(token_ids, offsets_of(lengths), vocabulary, tokens, prefix)
    assert as_pairs(hits) == reference_token_hits(token_ids, lengths, vocabulary, tokens, prefix)


# Patterns in the common syntax of RE2 and Python's re.
PATTERNS = ["a", "th", "c.t", "at|on", "[ab]+", "^t", "n$", "a*", "ü.", "\\(", "\\)[^(]*",
            "s ", " ", "e?n", "(a|b)c", "\\n", "x"]


@settings(max_examples=200, deadline=None)
@given(data=checkpoints(), pattern=st.sampled_from(PATTERNS))
def test_regex_hits_equal_the_reference(data, pattern):
    token_ids, lengths, vocabulary = data
    offsets = offsets_of(lengths)
    text = token_search.token_text(token_ids, offsets, vocabulary)
    hits = token_search.regex_hits(text, pattern)
    assert as_pairs(hits) == reference_regex_hits(token_ids, lengths, vocabulary, pattern)


@settings(max_examples=100, deadline=None)
@given(data=checkpoints(), pattern=st.sampled_from(PATTERNS))
def test_every_regex_hit_lies_in_one_sequence_and_its_text_matches(data, pattern):
    token_ids, lengths, vocabulary = data
    offsets = offsets_of(lengths)
    hits = token_search.regex_hits(token_search.token_text(token_ids, offsets, vocabulary), pattern)
    separator = "" if token_search.is_character_vocabulary(vocabulary) else " "
    for point, length in as_pairs(hits):
        sequence = np.searchsorted(offsets, point, side="right") - 1
        assert point + length <= offsets[sequence + 1]
        # The hit's own text, padded by its separators, holds a match.
        words = [vocabulary[i] for i in token_ids[point : point + length]]
        padded = separator + separator.join(words) + separator
        assert re.search(pattern.lstrip("^").rstrip("$"), padded)


def test_a_character_vocabulary_is_searched_character_by_character():
    vocabulary = ["(", ")", "a", " "]
    token_ids = np.array([0, 2, 3, 2, 1, 0, 2], dtype=np.int32)  # "(a a)" "(a"
    offsets = offsets_of([5, 2])
    assert token_search.query_tokens("a a", vocabulary) == ["a", " ", "a"]
    hits = token_search.search(token_ids, offsets, vocabulary, "(a", "exact")
    assert as_pairs(hits) == [(0, 2), (5, 2)]
    text = token_search.token_text(token_ids, offsets, vocabulary)
    assert text.text == b"(a a)(a"
    hits = token_search.search(token_ids, offsets, vocabulary, "a\\)?$", "regex", text)
    assert as_pairs(hits) == [(3, 2), (6, 1)]  # "$" ends each sequence, never the whole text


def test_a_word_vocabulary_is_searched_word_by_word():
    vocabulary = ["the", "cat", "then"]
    token_ids = np.array([0, 1, 2, 1, 0], dtype=np.int32)
    offsets = offsets_of([3, 2])
    assert token_search.query_tokens("  the\tcat ", vocabulary) == ["the", "cat"]
    assert as_pairs(token_search.search(token_ids, offsets, vocabulary, "the cat", "exact")) \
        == [(0, 2)]
    assert as_pairs(token_search.search(token_ids, offsets, vocabulary, "the", "prefix")) \
        == [(0, 1), (2, 1), (4, 1)]
    # "then" ends sequence 0 and "cat" starts sequence 1: no hit across the boundary.
    assert as_pairs(token_search.search(token_ids, offsets, vocabulary, "then cat", "exact")) \
        == []
    assert as_pairs(token_search.search(token_ids, offsets, vocabulary, "n c", "regex")) == []


def test_matches_within_one_token_are_one_hit_and_separators_alone_none():
    vocabulary = ["banana", "x"]
    token_ids = np.array([0, 1, 0], dtype=np.int32)
    offsets = offsets_of([3])
    text = token_search.token_text(token_ids, offsets, vocabulary)
    assert as_pairs(token_search.regex_hits(text, "a")) == [(0, 1), (2, 1)]
    assert as_pairs(token_search.regex_hits(text, " ")) == []
    assert as_pairs(token_search.regex_hits(text, "a x b")) == [(0, 3)]


@pytest.mark.parametrize("pattern", ["(", "a{2,1}", "(a)\\1", "(?=a)", "(?<!a)b", "[z-a]"])
def test_invalid_or_unsupported_patterns_raise_pattern_error(pattern):
    with pytest.raises(token_search.PatternError):
        token_search.compile_pattern(pattern)


def test_a_backtracking_pattern_runs_in_linear_time():
    # Python's re would take ages on (a+)+b over 100,000 a's; RE2 answers at once.
    vocabulary = ["a"]
    token_ids = np.zeros(100_000, dtype=np.int32)
    offsets = offsets_of([100_000])
    text = token_search.token_text(token_ids, offsets, vocabulary)
    assert as_pairs(token_search.regex_hits(text, "(a+)+b")) == []
    assert as_pairs(token_search.regex_hits(text, "(a+)+$")) == [(0, 100_000)]


def test_a_huge_pattern_or_one_over_the_time_limit_is_too_costly():
    with pytest.raises(token_search.PatternTooCostly, match="instructions"):
        token_search.compile_pattern("a{1000}b{1000}c{1000}")
    vocabulary = ["a", "b"]
    token_ids = np.zeros(10_000, dtype=np.int32)
    text = token_search.token_text(token_ids, offsets_of([5_000, 5_000]), vocabulary)
    with pytest.raises(token_search.PatternTooCostly, match="matches took over"):
        token_search.regex_hits(text, "a", seconds=0.0)


def test_hits_json_places_each_hit_and_truncates_at_the_limit():
    vocabulary = ["a", "b", "c"]
    token_ids = np.array([0, 1, 0, 1, 2, 0, 1], dtype=np.int32)
    offsets = offsets_of([4, 3])
    hits = token_search.search(token_ids, offsets, vocabulary, "ab", "exact")  # characters
    body = token_search.hits_json(hits, offsets, limit=2)
    assert body == {
        "hits": [{"sequence": 0, "start": 0, "end": 2, "point": 0},
                 {"sequence": 0, "start": 2, "end": 4, "point": 2}],
        "total": 3,
        "truncated": True,
    }
    body = token_search.hits_json(hits, offsets, limit=3)
    assert body["hits"][2] == {"sequence": 1, "start": 1, "end": 3, "point": 5}
    assert not body["truncated"]


def test_no_hits_when_a_query_token_is_not_in_the_vocabulary():
    vocabulary = ["a", "bb"]
    token_ids = np.array([0, 1], dtype=np.int32)
    hits = token_search.search(token_ids, offsets_of([2]), vocabulary, "a zz", "exact")
    assert as_pairs(hits) == []
