"""GET /search and GET /neighbors through TensorBoard's real data provider and WSGI app,
against plain loops over the logged tokens and states, every 400 case included."""

import json
import re

import numpy as np
import pytest

from tb_rnn_hidden import writer
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.plugin_client import PREFIX, make_client

WORDS = ["the", "film", "then", "was", "not", "good", "ünï"]
CHARACTERS = list("(a b)")


def word_tokens(n, t, seed):
    rng = np.random.default_rng(seed)
    return np.array([[WORDS[i] for i in row] for row in rng.integers(0, len(WORDS), (n, t))],
                    dtype=object)


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    logdir = str(tmp_path_factory.mktemp("logs"))
    words = make_checkpoint(seed=1, n=12, t=20, h=16)
    words["tokens"] = word_tokens(12, 20, seed=1)
    characters = make_checkpoint(seed=2, n=8, t=15, h=8)
    rng = np.random.default_rng(2)
    characters["tokens"] = np.array(CHARACTERS, dtype=object)[rng.integers(0, 5, (8, 15))]
    numeric = make_checkpoint(seed=3, n=4, t=6, h=4, tokens=False)
    with writer.HiddenStateWriter(logdir + "/r") as w:
        w.add("words", step=1, precision="float16", **words)
        w.add("chars", step=1, precision="float32", **characters)
        w.add("numeric", step=1, **numeric)
    return logdir, {"words": words, "chars": characters, "numeric": numeric}


@pytest.fixture(scope="module")
def client(logged):
    return make_client(logged[0])


def get(client, route, code=200, **params):
    response = client.get(PREFIX + route, query_string=dict(run="r", step=1, **params))
    body = json.loads(response.get_data())
    assert response.status_code == code, body
    return body


def valid_tokens(data):
    return list(valid_steps(data["tokens"], data["lengths"]))


def sequence_texts(data):
    """[(first point, [tokens])] of each sequence."""
    texts, point = [], 0
    for i, length in enumerate(data["lengths"]):
        texts.append((point, list(data["tokens"][i, :length])))
        point += length
    return texts


def expected_token_hits(data, tokens, prefix):
    hits = []
    for first, words in sequence_texts(data):
        for start in range(len(words) - len(tokens) + 1):
            run = words[start : start + len(tokens)]
            if all(w.startswith(t) if prefix else w == t for w, t in zip(run, tokens)):
                hits.append(first + start)
    return hits


def test_exact_search_finds_every_run_of_the_query_words(logged, client):
    data = logged[1]["words"]
    body = get(client, "/search", tag="words", q="the film", mode="exact")
    expected = expected_token_hits(data, ["the", "film"], prefix=False)
    assert expected and [h["point"] for h in body["hits"]] == expected
    assert body["total"] == len(expected) and body["truncated"] is False
    tokens = valid_tokens(data)
    offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
    for hit in body["hits"]:
        assert tokens[hit["point"] : hit["point"] + 2] == ["the", "film"]
        assert hit["point"] == offsets[hit["sequence"]] + hit["start"]
        assert hit["end"] == hit["start"] + 2 <= data["lengths"][hit["sequence"]]


def test_exact_is_the_default_mode_and_prefix_matches_starts(logged, client):
    data = logged[1]["words"]
    assert get(client, "/search", tag="words", q="the") == \
        get(client, "/search", tag="words", q="the", mode="exact")
    body = get(client, "/search", tag="words", q="th", mode="prefix")
    assert [h["point"] for h in body["hits"]] == expected_token_hits(data, ["th"], prefix=True)
    assert body["total"] > get(client, "/search", tag="words", q="the")["total"]  # "then" too


def test_regex_search_maps_matches_to_the_tokens_they_cover(logged, client):
    data = logged[1]["words"]
    body = get(client, "/search", tag="words", q="n t", mode="regex")
    expected = set()
    for first, words in sequence_texts(data):
        for start in range(len(words) - 1):
            if words[start].endswith("n") and words[start + 1].startswith("t"):
                expected.add(first + start)
    assert expected and [(h["point"], h["end"] - h["start"]) for h in body["hits"]] == \
        [(p, 2) for p in sorted(expected)]


def test_a_character_vocabulary_is_searched_as_text(logged, client):
    data = logged[1]["chars"]
    body = get(client, "/search", tag="chars", q="(a", mode="exact")
    expected = expected_token_hits(data, ["(", "a"], False)
    assert expected and [h["point"] for h in body["hits"]] == expected
    body = get(client, "/search", tag="chars", q=r"\([^()]*\)", mode="regex")
    expected = []
    for first, chars in sequence_texts(data):
        for match in re.finditer(r"\([^()]*\)", "".join(chars)):
            expected.append((first + match.start(), match.end() - match.start()))
    assert expected and [(h["point"], h["end"] - h["start"]) for h in body["hits"]] == expected


def test_limit_cuts_the_hits_and_total_counts_them_all(client):
    whole = get(client, "/search", tag="words", q="the")
    cut = get(client, "/search", tag="words", q="the", limit=3)
    assert whole["total"] > 3 and cut["total"] == whole["total"]
    assert cut["hits"] == whole["hits"][:3] and cut["truncated"] is True


@pytest.mark.parametrize("params, fragment", [
    (dict(), "missing query parameter 'q'"),
    (dict(q=""), "'q' is empty"),
    (dict(q="  \t"), "'q' is '  \\t', no tokens"),
    (dict(q="the", mode="fuzzy"), "'mode' is 'fuzzy'; expected one of exact, prefix, regex"),
    (dict(q="the", limit="0"), "'limit' is 0; expected an integer in [1, 100000]"),
    (dict(q="the", limit="100001"), "'limit' is 100001"),
    (dict(q="the", limit="many"), "'limit' is 'many'; expected an integer"),
    (dict(q="(the", mode="regex"), "'q' is not a valid regular expression"),
    (dict(q=r"(the) \1", mode="regex"), "'q' is not a valid regular expression"),
    (dict(q="(?=the)", mode="regex"), "'q' is not a valid regular expression"),
])
def test_bad_search_requests_are_400_naming_the_parameter(client, params, fragment):
    body = get(client, "/search", code=400, tag="words", **params)
    assert fragment in body["error"]


def test_a_too_costly_pattern_is_413_and_the_server_goes_on(client):
    body = get(client, "/search", code=413, tag="words", q="a{1000}b{1000}c{1000}", mode="regex")
    assert "'q'" in body["error"] and "instructions" in body["error"]
    assert get(client, "/search", tag="words", q="the")["total"] > 0


def test_search_without_tokens_is_404_and_an_unknown_step_404(client):
    assert "without tokens" in get(client, "/search", code=404, tag="numeric", q="x")["error"]
    response = client.get(PREFIX + "/search?run=r&tag=words&step=7&q=the")
    assert response.status_code == 404


@pytest.mark.parametrize("route", ["/search", "/neighbors"])
def test_only_get_is_allowed(client, route):
    response = client.post(PREFIX + route + "?run=r&tag=words&step=1&q=the&point=0")
    assert response.status_code == 405 and "GET" in json.loads(response.get_data())["error"]


def reference_neighbors(states, point, k):
    query = states[point].astype(np.float64)
    squared = ((states.astype(np.float64) - query) ** 2).sum(axis=1)
    order = sorted((d, p) for p, d in enumerate(squared.tolist()) if p != point)
    return order[:k]


@pytest.mark.parametrize("tag, dtype", [("words", np.float16), ("chars", np.float32)])
def test_neighbors_are_the_exact_nearest_steps(logged, client, tag, dtype):
    data = logged[1][tag]
    states = valid_steps(data["states"], data["lengths"]).astype(dtype)
    offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
    point = len(states) // 2
    body = get(client, "/neighbors", tag=tag, point=point, k=7)
    assert body["point"] == point and body["k"] == 7
    assert body["method"] == "exact" and body["exact"] is True  # small: exact by default
    expected = reference_neighbors(states, point, 7)
    assert [n["point"] for n in body["neighbors"]] == [p for _, p in expected]
    np.testing.assert_allclose([n["distance"] for n in body["neighbors"]],
                               np.sqrt([d for d, _ in expected]), rtol=1e-5)
    for n in body["neighbors"]:
        assert n["point"] == offsets[n["sequence"]] + n["step"]
        assert 0 <= n["step"] < data["lengths"][n["sequence"]]


def test_approximate_neighbors_say_so_and_are_true_distances(logged, client):
    data = logged[1]["words"]
    states = valid_steps(data["states"], data["lengths"]).astype(np.float16)
    body = get(client, "/neighbors", tag="words", point=5, k=20, method="approximate")
    assert body["method"] == "approximate" and isinstance(body["exact"], bool)
    reference = dict((p, d) for d, p in reference_neighbors(states, 5, len(states)))
    distances = [n["distance"] for n in body["neighbors"]]
    assert len(distances) == 20 and distances == sorted(distances)
    np.testing.assert_allclose(np.square(distances),
                               [reference[n["point"]] for n in body["neighbors"]], rtol=1e-4)
    assert get(client, "/neighbors", tag="words", point=5, k=20)["method"] == "exact"


@pytest.mark.parametrize("params, fragment", [
    (dict(), "missing query parameter 'point'"),
    (dict(point="x"), "'point' is 'x'; expected an integer"),
    (dict(point="-1"), "'point' is -1; expected a point index in [0, "),
    (dict(point="100000"), "'point' is 100000; expected a point index in [0, "),
    (dict(point="0", k="0"), "'k' is 0; expected an integer in [1, 1000]"),
    (dict(point="0", k="1001"), "'k' is 1001"),
    (dict(point="0", k="ten"), "'k' is 'ten'; expected an integer"),
    (dict(point="0", method="fast"), "'method' is 'fast'; expected one of exact, approximate"),
])
def test_bad_neighbors_requests_are_400_naming_the_parameter(client, params, fragment):
    body = get(client, "/neighbors", code=400, tag="words", **params)
    assert fragment in body["error"]


def test_the_point_just_past_the_last_is_400(logged, client):
    total = int(np.sum(logged[1]["words"]["lengths"]))
    body = get(client, "/neighbors", code=400, tag="words", point=total)
    assert "[0, %d)" % total in body["error"]
    assert get(client, "/neighbors", tag="words", point=total - 1, k=1)["neighbors"]


def test_the_regex_text_and_the_neighbor_index_are_cached_with_the_checkpoint(logged):
    from tensorboard import context as tb_context

    from tb_rnn_hidden.server import reader as checkpoint_reader
    from tests.support.plugin_client import make_data_provider

    reader = checkpoint_reader.CheckpointReader(make_data_provider(logged[0], {"rnn_hidden": 0}))
    ctx = tb_context.RequestContext()
    first = reader.checkpoint(ctx, "", "r", "words", 1)
    again = reader.checkpoint(ctx, "", "r", "words", 1)  # a later request's Checkpoint
    assert first.token_text is again.token_text
    assert first.neighbor_index is again.neighbor_index
    assert first.token_text.text.decode("utf-8").startswith(
        " ".join(logged[1]["words"]["tokens"][0, :2]))
    assert reader.checkpoint(ctx, "", "r", "numeric", 1).token_text is None
