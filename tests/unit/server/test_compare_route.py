"""GET /compare and GET /training through TensorBoard's real data provider and WSGI app
over event files written by our writer: every figure against a direct per-sequence
loop over the arrays as logged, the probe-set check's 409s, and every 4xx."""

import json
import math

import numpy as np
import pytest

from tb_rnn_hidden import writer
from tb_rnn_hidden.records import codec, metadata
from tests.support.checkpoints import make_checkpoint, valid_steps
from tests.support.plugin_client import PREFIX, make_client
from tests.support.records import flip_byte, forge, raw_summary

N, T, H, C = 14, 12, 6, 3
LSTM_STEPS = [0, 1, 2, 3]


def _probe(seed=0):
    """The probe set every matching checkpoint shares: lengths, tokens, labels."""
    base = make_checkpoint(seed=seed, n=N, t=T, h=H, c=C)
    return dict(lengths=base["lengths"], tokens=base["tokens"], labels=base["labels"],
                class_names=base["class_names"])


def _model(seed, h=H, sharp=1.0):
    """States and probabilities of one model on the probe set (`sharp` scales the logits:
    larger, more flips above a threshold)."""
    rng = np.random.default_rng(100 + seed)
    states = np.tanh(rng.standard_normal((N, T, h))).astype(np.float32)
    logits = sharp * rng.standard_normal((N, T, C))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    return dict(states=states, probabilities=probabilities.astype(np.float32))


def _rotation(h, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((h, h)))
    return q


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """{(run, tag, step): the arrays as logged}; runs of the same probe set and of others."""
    logdir = str(tmp_path_factory.mktemp("logs"))
    probe = _probe()
    arrays = {}

    def add(w, run, tag, step, **record):
        w.add(tag, step=step, precision="float32", **record)
        arrays[run, tag, step] = record

    with writer.HiddenStateWriter(logdir + "/r") as w:
        for step in LSTM_STEPS:
            add(w, "r", "lstm", step, **_model(step, sharp=1.0 + step), **probe)
        add(w, "r", "gru", 2, **_model(7, h=H + 3), **probe)
    lstm3 = arrays["r", "lstm", 3]
    with writer.HiddenStateWriter(logdir + "/rotated") as w:  # run "r"'s step 3, rotated
        rotated = dict(lstm3, states=(lstm3["states"] @ _rotation(H, 5)).astype(np.float32))
        add(w, "rotated", "lstm", 0, **rotated)
    with writer.HiddenStateWriter(logdir + "/other") as w:  # probe sets that differ
        add(w, "other", "fewer", 0, **_cut(_model(1), probe, N - 1))
        longer = dict(probe, lengths=probe["lengths"].copy())
        longer["lengths"][5] = T if longer["lengths"][5] < T else T - 1
        add(w, "other", "lengths", 0, **_model(1), **longer)
        tokens = dict(probe, tokens=probe["tokens"].copy())
        tokens["tokens"][3, 0] = "changed"
        add(w, "other", "tokens", 0, **_model(1), **tokens)
        labels = dict(probe, labels=probe["labels"].copy())
        labels["labels"][9] = (labels["labels"][9] + 1) % C
        add(w, "other", "labels", 0, **_model(1), **labels)
        add(w, "other", "unlabelled", 0, **_model(2), **dict(probe, labels=None))
        add(w, "other", "no_probabilities", 0, states=_model(3)["states"],
            **dict(probe, class_names=None))
    with writer.HiddenStateWriter(logdir + "/mixed") as w:  # the probe set changes at step 1
        add(w, "mixed", "lstm", 0, **_model(1), **probe)
        add(w, "mixed", "lstm", 1, **_model(2), **labels)
        add(w, "mixed", "lstm", 2, **_model(3), **labels)
    with writer.HiddenStateWriter(logdir + "/broken") as w:  # a corrupt and a newer record among good ones
        add(w, "broken", "lstm", 0, **_model(1), **probe)
        good = codec.encode_checkpoint(**_model(2), **probe, precision="float32")
        w.add_summary(raw_summary("lstm", flip_byte(good, metadata.BLOB_STATES)), 1)
        w.add_summary(raw_summary("lstm", forge({"version": 4})), 2)
        add(w, "broken", "lstm", 3, **_model(3), **probe)
        add(w, "broken", "lstm", 4, **_model(4), **probe)
    return logdir, arrays


@pytest.fixture(scope="module")
def client(logged):
    return make_client(logged[0])


def _cut(model, probe, n):
    return dict({k: v[:n] for k, v in model.items()}, **{k: v[:n] if k != "class_names" else v
                                                         for k, v in probe.items()})


def get(client, route, query, expected_code=200):
    response = client.get(PREFIX + route + "?" + query)
    assert response.status_code == expected_code, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.get_data())


def compare(client, a, b, threshold=None, expected_code=200):
    query = "run=%s&tag=%s&step=%d&run_b=%s&tag_b=%s&step_b=%d" % (a + b)
    if threshold is not None:
        query += "&flip_threshold=%r" % threshold
    return get(client, "/compare", query, expected_code)


# -- direct computations, one sequence at a time -----------------------------------------

def argmax(row):
    best, best_value = 0, -math.inf
    for k, value in enumerate(row):
        if value > best_value:
            best, best_value = k, value
    return best


def last_flip(probabilities, threshold):
    """domain/flips.ts over one sequence's [length, C] probabilities (float32 changes)."""
    for t in range(len(probabilities) - 1, 0, -1):
        change = max(float(np.float32(abs(float(p) - float(q))))
                     for p, q in zip(probabilities[t], probabilities[t - 1]))
        if argmax(probabilities[t]) != argmax(probabilities[t - 1]) and change >= threshold:
            return t
    return 0


def final_predictions(record):
    """[(class, confidence)] at each sequence's last valid step."""
    out = []
    for i, length in enumerate(record["lengths"]):
        row = [float(v) for v in record["probabilities"][i, length - 1]]
        out.append((argmax(row), row[argmax(row)]))
    return out


def mean_units(record):
    steps = valid_steps(record["states"], record["lengths"]).astype(np.float64)
    return [sum(steps[:, u]) / len(steps) for u in range(steps.shape[1])]


# -- the change table and the transition matrix ------------------------------------------

@pytest.mark.parametrize("threshold", [None, 0.0, 0.3, 1.0])
def test_change_table_of_two_checkpoints_is_the_direct_computation(client, logged, threshold):
    arrays = logged[1]
    a, b = ("r", "lstm", 1), ("r", "lstm", 3)
    body = compare(client, a, b, threshold)
    threshold = 0.1 if threshold is None else threshold
    A, B = arrays[a], arrays[b]
    labels = [int(v) for v in A["labels"]]
    pred_a, pred_b = final_predictions(A), final_predictions(B)
    assert body["a"] == dict(run="r", tag="lstm", step=1)
    assert body["b"] == dict(run="r", tag="lstm", step=3)
    assert (body["num_sequences"], body["num_classes"]) == (N, C)
    assert body["class_names"] == list(A["class_names"])
    assert body["labels"] == labels
    assert body["prediction_a"] == [p for p, _ in pred_a]
    assert body["prediction_b"] == [p for p, _ in pred_b]
    assert body["confidence_a"] == [c for _, c in pred_a]
    assert body["confidence_b"] == [c for _, c in pred_b]
    expected_change, transitions = [], [[0, 0], [0, 0]]
    for label, (p, _), (q, _) in zip(labels, pred_a, pred_b):
        was, now = p == label, q == label
        expected_change.append(
            ("still_correct" if was else "became_correct") if now
            else ("became_wrong" if was else "still_wrong"))
        transitions[int(was)][int(now)] += 1
    assert body["change"] == expected_change
    assert body["transitions"] == transitions
    assert sum(map(sum, body["transitions"])) == N
    for side, record in (("a", A), ("b", B)):
        assert body["last_flip_" + side] == [
            last_flip(record["probabilities"][i, :length], threshold)
            for i, length in enumerate(record["lengths"])]
    assert body["flip_threshold"] == threshold


def test_flips_depend_on_the_threshold(client):
    """The fixture's mild step-0 model has small confidence changes: fewer flips at 0.3."""
    low = compare(client, ("r", "lstm", 0), ("r", "lstm", 3), 0.0)["last_flip_a"]
    high = compare(client, ("r", "lstm", 0), ("r", "lstm", 3), 0.3)["last_flip_a"]
    assert sum(f > 0 for f in high) < sum(f > 0 for f in low)
    assert all(h == 0 or h <= lo for h, lo in zip(high, low))


def test_same_layer_moves_and_unit_drift_are_raw(client, logged):
    arrays = logged[1]
    body = compare(client, ("r", "lstm", 0), ("r", "lstm", 2))
    A, B = arrays["r", "lstm", 0], arrays["r", "lstm", 2]
    moved = [float(np.linalg.norm(A["states"][i, n - 1].astype(np.float64)
                                  - B["states"][i, n - 1].astype(np.float64)))
             for i, n in enumerate(A["lengths"])]
    assert body["units"] == "same"
    assert body["moved_max"] == pytest.approx(max(moved), rel=1e-12)
    assert body["moved"] == pytest.approx([m / max(moved) for m in moved], rel=1e-12)
    assert max(body["moved"]) == 1.0
    means_a, means_b = mean_units(A), mean_units(B)
    drift = [abs(mb - ma) for ma, mb in zip(means_a, means_b)]
    order = sorted(range(H), key=lambda u: (-drift[u], u))
    assert body["unit_drift"]["units"] == order
    assert body["unit_drift"]["drift"] == pytest.approx([drift[u] for u in order], abs=1e-12)
    assert body["unit_drift"]["mean_a"] == pytest.approx([means_a[u] for u in order], abs=1e-12)
    assert body["unit_drift"]["mean_b"] == pytest.approx([means_b[u] for u in order], abs=1e-12)


def test_a_checkpoint_against_itself_moved_nothing(client):
    body = compare(client, ("r", "lstm", 2), ("r", "lstm", 2))
    assert body["moved"] == [0.0] * N and body["moved_max"] == 0.0
    assert set(body["change"]) <= {"still_correct", "still_wrong"}
    assert body["transitions"][0][1] == body["transitions"][1][0] == 0
    assert body["unit_drift"]["drift"] == [0.0] * H


def test_a_rotated_copy_moved_nothing_under_procrustes(client, logged):
    body = compare(client, ("r", "lstm", 3), ("rotated", "lstm", 0))
    assert body["units"] == "procrustes" and body["unit_drift"] is None
    assert body["moved_max"] < 1e-6
    assert body["change"] == ["still_correct" if p == label else "still_wrong"
                              for p, label in zip(body["prediction_a"], body["labels"])]
    # Raw, the same states rotated moved far.
    arrays = logged[1]
    raw = np.linalg.norm(arrays["r", "lstm", 3]["states"] - arrays["rotated", "lstm", 0]["states"],
                         axis=-1)
    assert raw.max() > 0.5


def test_another_layer_is_aligned_by_procrustes(client, logged):
    """A narrower layer against a wider one: padded, centred, scaled, rotated; the moves
    are those of scipy's orthogonal Procrustes on the final states, done here directly."""
    import scipy.linalg

    arrays = logged[1]
    body = compare(client, ("r", "lstm", 2), ("r", "gru", 2))
    assert body["units"] == "procrustes" and body["unit_drift"] is None
    finals = []
    for record in (arrays["r", "lstm", 2], arrays["r", "gru", 2]):
        rows = np.array([record["states"][i, n - 1] for i, n in enumerate(record["lengths"])],
                        dtype=np.float64)
        rows -= rows.mean(axis=0)
        rows /= math.sqrt(sum(float(r @ r) for r in rows) / len(rows))
        finals.append(np.hstack([rows, np.zeros((len(rows), H + 3 - rows.shape[1]))]))
    rotation, _ = scipy.linalg.orthogonal_procrustes(finals[1], finals[0])
    moved = [float(np.linalg.norm(finals[0][i] - finals[1][i] @ rotation)) for i in range(N)]
    assert body["moved_max"] == pytest.approx(max(moved), rel=1e-9)
    assert body["moved"] == pytest.approx([m / max(moved) for m in moved], rel=1e-9)


def test_without_labels_the_change_is_whether_the_prediction_changed(client, logged):
    body = compare(client, ("r", "lstm", 1), ("other", "unlabelled", 0))
    assert body["labels"] is None and body["transitions"] is None
    assert body["change"] == ["prediction_changed" if p != q else "prediction_kept"
                              for p, q in zip(body["prediction_a"], body["prediction_b"])]
    assert "prediction_changed" in body["change"]


def test_without_probabilities_b_has_no_predictions(client):
    body = compare(client, ("r", "lstm", 1), ("other", "no_probabilities", 0))
    assert body["prediction_a"] is not None and body["num_classes"] == C
    for field in ("prediction_b", "confidence_b", "last_flip_b", "change", "transitions"):
        assert body[field] is None, field
    assert body["labels"] is not None and len(body["moved"]) == N


def test_the_answer_is_cached_per_pair_and_threshold(client):
    first = compare(client, ("r", "lstm", 0), ("r", "lstm", 3), 0.2)
    assert compare(client, ("r", "lstm", 0), ("r", "lstm", 3), 0.2) == first
    other = compare(client, ("r", "lstm", 0), ("r", "lstm", 3), 0.0)
    assert other["flip_threshold"] == 0.0 and other["prediction_a"] == first["prediction_a"]


# -- the probe-set check -------------------------------------------------------------------

A_NAME = "A (run 'r', tag 'lstm', step 1)"


@pytest.mark.parametrize("tag, expected", [
    ("fewer", "the probe sets differ: %s has %d sequences, B (run 'other', tag 'fewer', "
              "step 0) has %d; compare needs the same sequences (lengths, tokens, labels)"
     % (A_NAME, N, N - 1)),
    ("lengths", "sequence 5 has {a} steps in %s, {b} in B (run 'other', tag 'lengths', step 0)"
     % A_NAME),
    ("tokens", "sequence 3's tokens differ at step 0: {a!r} in %s, 'changed' in B (run "
               "'other', tag 'tokens', step 0)" % A_NAME),
    ("labels", "sequence 9's label is {a} in %s, {b} in B (run 'other', tag 'labels', step 0)"
     % A_NAME),
])
def test_different_probe_sets_are_409_naming_what_differs_and_where(
        client, logged, tag, expected):
    arrays = logged[1]
    a, b = arrays["r", "lstm", 1], arrays["other", tag, 0]
    values = dict(lengths=(a["lengths"][5], b["lengths"][5]), tokens=(a["tokens"][3, 0], None),
                  labels=(a["labels"][9], b["labels"][9])).get(tag, (None, None))
    expected = expected.format(a=values[0], b=values[1])
    body = compare(client, ("r", "lstm", 1), ("other", tag, 0), expected_code=409)
    assert expected in body["error"]
    assert body["error"].startswith("the probe sets differ: ")
    assert body["error"].endswith("compare needs the same sequences (lengths, tokens, labels)")


# -- /training ------------------------------------------------------------------------------

def test_training_is_the_direct_computation_over_every_checkpoint(client, logged):
    arrays = logged[1]
    body = get(client, "/training", "run=r&tag=lstm&flip_threshold=0.2")
    assert (body["run"], body["tag"], body["steps"]) == ("r", "lstm", LSTM_STEPS)
    assert body["flip_threshold"] == 0.2
    records = [arrays["r", "lstm", step] for step in LSTM_STEPS]
    for i, record in enumerate(records):
        predictions = final_predictions(record)
        labels = record["labels"]
        assert body["accuracy"][i] == pytest.approx(
            sum(p == label for (p, _), label in zip(predictions, labels)) / N, abs=1e-12)
        assert body["flips"][i] == sum(
            last_flip(record["probabilities"][j, :n], 0.2) > 0
            for j, n in enumerate(record["lengths"]))
        assert body["separation"][i] == pytest.approx(separation(record), rel=1e-9)
    assert body["change"][0] is None
    assert body["top_units"][0] == [] and body["top_unit_moves"][0] == []
    for i in range(1, len(records)):
        before = valid_steps(records[i - 1]["states"], records[i - 1]["lengths"]).astype(float)
        after = valid_steps(records[i]["states"], records[i]["lengths"]).astype(float)
        distances = [float(np.linalg.norm(after[p] - before[p])) for p in range(len(before))]
        rms = math.sqrt(sum(float(row @ row) for row in before) / len(before))
        assert body["change"][i] == pytest.approx(sum(distances) / len(distances) / rms,
                                                  rel=1e-5)
        moves = [abs(m - p) for p, m in zip(mean_units(records[i - 1]), mean_units(records[i]))]
        top = sorted(range(H), key=lambda u: (-moves[u], u))[:5]
        assert body["top_units"][i] == top
        assert body["top_unit_moves"][i] == pytest.approx([moves[u] for u in top], abs=1e-12)


def separation(record):
    """Between-class over total sum of squares of the final states, one loop per sequence."""
    finals = [record["states"][j, n - 1].astype(float) for j, n in enumerate(record["lengths"])]
    mean = sum(finals) / len(finals)
    total = sum(float((f - mean) @ (f - mean)) for f in finals)
    between = 0.0
    for label in set(record["labels"].tolist()):
        members = [f for f, y in zip(finals, record["labels"]) if y == label]
        centre = sum(members) / len(members)
        between += len(members) * float((centre - mean) @ (centre - mean))
    return between / total


def test_separation_is_one_for_classes_that_are_points_and_none_without_labels():
    from tb_rnn_hidden.analysis.derived import class_separation

    finals = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, -1.0], [2.0, -1.0]])
    assert class_separation(finals, np.array([0, 0, 1, 1])) == pytest.approx(1.0)
    assert class_separation(finals, np.array([0, 1, 0, 1])) == pytest.approx(0.0)
    assert class_separation(finals, None) is None
    assert class_separation(finals, np.array([3, 3, 3, 3])) is None
    assert class_separation(np.ones((4, 2)), np.array([0, 0, 1, 1])) is None


def test_training_has_no_change_where_the_probe_set_changed(client, logged):
    body = get(client, "/training", "run=mixed&tag=lstm")
    assert body["steps"] == [0, 1, 2]
    assert body["change"][:2] == [None, None] and body["change"][2] > 0
    assert body["top_units"][:2] == [[], []] and len(body["top_units"][2]) == 5
    assert body["top_unit_moves"][:2] == [[], []]
    assert body["top_unit_moves"][2] == sorted(body["top_unit_moves"][2], reverse=True)


def test_training_flips_default_to_the_tables_threshold(client):
    assert get(client, "/training", "run=r&tag=lstm")["flip_threshold"] == 0.1


def test_training_of_a_run_without_probabilities(client, logged):
    body = get(client, "/training", "run=other&tag=no_probabilities")
    # Separation reads the hidden states and the labels, not the predictions.
    expected = separation(logged[1]["other", "no_probabilities", 0])
    assert body.pop("separation") == [pytest.approx(expected, rel=1e-9)]
    assert body == dict(run="other", tag="no_probabilities", steps=[0], accuracy=[None],
                        flips=[None], change=[None], top_units=[[]], top_unit_moves=[[]],
                        flip_threshold=0.1, unreadable={})


def test_training_charts_around_checkpoints_that_cannot_be_read(client, logged):
    """A corrupt record (step 1) and one of a newer format (step 2): no figures and no change to
    or from them, each named with its reason; the good checkpoints are charted as usual."""
    body = get(client, "/training", "run=broken&tag=lstm")
    assert body["steps"] == [0, 1, 2, 3, 4]
    assert sorted(body["unreadable"]) == ["1", "2"]
    assert "checksum" in body["unreadable"]["1"]
    assert "format version 4" in body["unreadable"]["2"]
    records = {step: logged[1]["broken", "lstm", step] for step in (0, 3, 4)}
    for i, step in enumerate(body["steps"]):
        if step in records:
            predictions = final_predictions(records[step])
            expected = sum(p == y for (p, _), y in zip(predictions, records[step]["labels"])) / N
            assert body["accuracy"][i] == pytest.approx(expected, abs=1e-12)
            assert body["separation"][i] == pytest.approx(separation(records[step]), rel=1e-9)
        else:
            assert (body["accuracy"][i], body["flips"][i], body["separation"][i]) == (None, None, None)
    assert body["change"][:4] == [None, None, None, None] and body["change"][4] > 0
    assert body["top_units"][:4] == [[], [], [], []]


# -- bad requests ----------------------------------------------------------------------------

GOOD = "run=r&tag=lstm&step=1&run_b=r&tag_b=lstm&step_b=2"


@pytest.mark.parametrize("query, code, message", [
    ("run=r&tag=lstm&step=1&run_b=r&tag_b=lstm", 400, "missing query parameter 'step_b'"),
    ("run=r&tag=lstm&step=1&tag_b=lstm&step_b=2", 400, "missing query parameter 'run_b'"),
    ("run=r&step=1&run_b=r&tag_b=lstm&step_b=2", 400, "missing query parameter 'tag'"),
    (GOOD.replace("step_b=2", "step_b=x"), 400, "'step_b' is 'x'; expected an integer"),
    (GOOD + "&flip_threshold=1.5", 400, "'flip_threshold' is '1.5'; expected a number in [0, 1]"),
    (GOOD + "&flip_threshold=nan", 400, "'flip_threshold' is 'nan'; expected a number in [0, 1]"),
    (GOOD + "&flip_threshold=", 400, "'flip_threshold' is ''; expected a number in [0, 1]"),
    (GOOD.replace("step_b=2", "step_b=9"), 404, "run 'r', tag 'lstm' has no checkpoint at step 9"),
    (GOOD.replace("run_b=r", "run_b=nope"), 404, "no hidden states for run 'nope', tag 'lstm'"),
    (GOOD.replace("tag=lstm", "tag=nope", 1), 404, "no hidden states for run 'r', tag 'nope'"),
])
def test_bad_compare_requests(client, query, code, message):
    assert message in get(client, "/compare", query, code)["error"]


@pytest.mark.parametrize("query, code, message", [
    ("tag=lstm", 400, "missing query parameter 'run'"),
    ("run=r&tag=lstm&flip_threshold=-0.1", 400, "'flip_threshold' is '-0.1'; expected a number"),
    ("run=r&tag=nope", 404, "no hidden states for run 'r', tag 'nope'"),
])
def test_bad_training_requests(client, query, code, message):
    assert message in get(client, "/training", query, code)["error"]


def test_post_is_405(client):
    for route in ("/compare?" + GOOD, "/training?run=r&tag=lstm"):
        response = client.post(PREFIX + route)
        assert response.status_code == 405
        assert "GET" in response.headers["Allow"]
