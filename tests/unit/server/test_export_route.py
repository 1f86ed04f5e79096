"""GET /export through TensorBoard's real data provider and WSGI app: every column against
the served arrays (/sequences, /tokens, /probabilities, /projection/points), the CSV read
back by pandas with hostile tokens, the NPZ by numpy without pickle, the 400/404 cases,
and a layout that is not computed yet (none, running, waited for)."""

import io
import json
import time

import numpy as np
import pandas as pd
import pytest

from tb_rnn_hidden import writer
from tb_rnn_hidden.server import export
from tests.support.checkpoints import make_checkpoint
from tests.support.plugin_client import PREFIX, make_client

# Tokens a CSV must carry exactly: separators, quotes, line breaks, formulas, what pandas
# would read as a number or as missing, unicode, markup, blanks.
HOSTILE_TOKENS = [
    "a,b", 'say "hi"', '"', "line\nbreak", "cr\rhere", "crlf\r\nhere", "=1+1", "+1", "-2",
    "@SUM(A1)", "=cmd|' /C calc'!A0", "NA", "null", "NaN", "007", "1e3", " lead", "trail ",
    "", " ", "tab\there", "ünïcode", "\U0001f9e0", "<img src=x onerror=alert(1)>", ";", "'",
]
READ_AS_LOGGED = dict(keep_default_na=False, dtype={"token": str, "label_name": str,
                                                    "prediction_name": str})
PCA = dict(method="pca")


def hostile_checkpoint():
    data = make_checkpoint(seed=4, n=8, t=12, h=6, c=3)
    tokens = data["tokens"]
    flat = [HOSTILE_TOKENS[i % len(HOSTILE_TOKENS)] for i in range(tokens.size)]
    data["tokens"] = np.array(flat, dtype=object).reshape(tokens.shape)
    data["lengths"][:] = 12  # every hostile token is a valid step
    data["class_names"] = ["pos,itive", 'neg "ative"', "=neutral"]
    return data


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    logdir = str(tmp_path_factory.mktemp("logs"))
    numeric = make_checkpoint(seed=5, n=5, t=7, h=4, tokens=False)
    numeric.update(probabilities=None, class_names=None)
    with writer.HiddenStateWriter(logdir + "/r") as w:
        w.add("lstm", step=1, **hostile_checkpoint())
        w.add("lstm", step=2, **make_checkpoint(seed=6, n=30, t=20, h=8))
        w.add("numeric", step=1, **numeric)
        # Big enough that a t-SNE of many iterations is still running when asked.
        w.add("big", step=1, **make_checkpoint(seed=7, n=120, t=40, h=16))
    return logdir


@pytest.fixture(scope="module")
def client(logged):
    return make_client(logged)


def query(tag="lstm", step=1, **params):
    return dict(run="r", tag=tag, step=step, **params)


def laid_out(client, **q):
    """Starts the layout of `q` (POST /projection) and waits until it is done."""
    body = dict(q, step=int(q["step"]))
    response = client.post(PREFIX + "/projection", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    deadline = time.monotonic() + 120
    while True:
        status = json.loads(client.get(PREFIX + "/projection", query_string=q).get_data())
        if status["state"] not in ("queued", "running"):
            assert status["state"] == "done", status
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def served_array(client, route, q):
    response = client.get(PREFIX + route, query_string=q)
    assert response.status_code == 200, response.get_data(as_text=True)
    shape = tuple(int(d) for d in response.headers["X-Array-Shape"].split(","))
    return np.frombuffer(response.get_data(), dtype=response.headers["X-Array-Dtype"]).reshape(shape)


def served_columns(client, q):
    """What every column must hold, from the routes the tab reads."""
    address = {k: q[k] for k in ("run", "tag", "step")}
    meta = json.loads(client.get(PREFIX + "/sequences", query_string=address).get_data())
    lengths = np.array(meta["lengths"])
    sequences = np.repeat(np.arange(len(lengths)), lengths)
    steps = np.concatenate([np.arange(length) for length in lengths])
    coords = served_array(client, "/projection/points", q)
    expected = dict(sequence=sequences, step=steps, x=coords[:, 0], y=coords[:, 1])
    if meta["has_tokens"]:
        vocabulary = meta["vocabulary"]
        expected["token"] = [vocabulary[i] for i in served_array(client, "/tokens", address)]
    if meta["has_labels"]:
        expected["label"] = np.array(meta["labels"])[sequences]
        if meta["class_names"]:
            expected["label_name"] = [meta["class_names"][i] for i in expected["label"]]
    if meta["has_probabilities"]:
        probabilities = served_array(client, "/probabilities", address)
        expected["prediction"] = probabilities.argmax(axis=1)
        if meta["class_names"]:
            expected["prediction_name"] = [meta["class_names"][i] for i in expected["prediction"]]
        expected["confidence"] = probabilities.max(axis=1)
    return expected


def export_response(client, code=200, **q):
    response = client.get(PREFIX + "/export", query_string=q)
    assert response.status_code == code, response.get_data(as_text=True)
    return response


def assert_columns_equal(actual, expected):
    assert list(actual) == list(expected)
    for name, values in expected.items():
        if isinstance(values, list):
            assert list(actual[name]) == values, name
        elif values.dtype.kind == "f":  # exactly the float32 served
            np.testing.assert_array_equal(np.asarray(actual[name], dtype=np.float32), values)
        else:
            np.testing.assert_array_equal(np.asarray(actual[name]), values)


def test_csv_read_by_pandas_is_every_point_as_served_hostile_tokens_included(client):
    q = query(**PCA)
    laid_out(client, **q)
    response = export_response(client, **q)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="rnn_hidden-r-lstm-step1-pca.csv"'
    table = pd.read_csv(io.BytesIO(response.get_data()), **READ_AS_LOGGED)
    expected = served_columns(client, q)
    assert set(HOSTILE_TOKENS) <= set(expected["token"])
    assert_columns_equal({name: table[name].tolist() if name.endswith(("token", "_name"))
                          else table[name].to_numpy() for name in table.columns}, expected)


def test_csv_is_rfc_4180(client):
    q = query(**PCA)
    laid_out(client, **q)
    text = export_response(client, **q).get_data().decode("utf-8")
    header, _, rest = text.partition("\r\n")
    assert header == "sequence,step,x,y,token,label,label_name,prediction,prediction_name,confidence"
    assert '"say ""hi"""' in rest and '"a,b"' in rest and '"line\nbreak"' in rest
    assert text.endswith("\r\n")
    # The default read of pandas works too (tokens such as "NA" or "007" then read as pandas
    # guesses them: http_api.md gives the read that keeps them as logged).
    table = pd.read_csv(io.StringIO(text))
    assert len(table) == 8 * 12 and list(table.columns) == header.split(",")


def test_formulas_escape_prefixes_formula_like_text_with_a_quote(client):
    q = query(**PCA)
    laid_out(client, **q)
    kept = pd.read_csv(io.BytesIO(export_response(client, **q).get_data()), **READ_AS_LOGGED)
    escaped = pd.read_csv(io.BytesIO(export_response(client, formulas="escape", **q).get_data()),
                          **READ_AS_LOGGED)
    for column in ("token", "label_name", "prediction_name"):
        for logged, written in zip(kept[column], escaped[column]):
            formula = logged.startswith(("=", "+", "-", "@", "\t", "\r"))
            assert written == ("'" + logged if formula else logged)
    assert (escaped["token"] == "'=1+1").any() and (escaped["label_name"] == "'=neutral").any()
    np.testing.assert_array_equal(kept["x"], escaped["x"])


def test_npz_loads_without_pickle_one_array_per_column(client):
    q = query(**PCA)
    laid_out(client, **q)
    response = export_response(client, format="npz", **q)
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].endswith('step1-pca.npz"')
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    with np.load(io.BytesIO(response.get_data()), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    assert arrays["sequence"].dtype == np.int32 and arrays["x"].dtype == np.float32
    assert arrays["token"].dtype.kind == "U"
    assert_columns_equal({name: (values.tolist() if values.dtype.kind == "U" else values)
                          for name, values in arrays.items()}, served_columns(client, q))


def test_the_export_is_the_layout_the_projection_serves_for_the_same_parameters(client):
    q = query(step=2, method="tsne", perplexity="5", iterations="250", seed="3")
    laid_out(client, **q)
    coords = served_array(client, "/projection/points", q)
    table = pd.read_csv(io.BytesIO(export_response(client, **q).get_data()), **READ_AS_LOGGED)
    np.testing.assert_array_equal(table[["x", "y"]].to_numpy(np.float32), coords)
    # Another seed is another layout, not yet computed.
    assert export_response(client, 409, **dict(q, seed="4")).json["state"] == "none"


def test_a_checkpoint_without_tokens_labels_or_probabilities_has_the_columns_it_has(client):
    q = query(tag="numeric", **PCA)
    laid_out(client, **q)
    table = pd.read_csv(io.BytesIO(export_response(client, **q).get_data()))
    assert list(table.columns) == ["sequence", "step", "x", "y", "label"]
    assert_columns_equal({name: table[name].to_numpy() for name in table.columns},
                         served_columns(client, q))


def test_the_csv_is_the_same_written_in_small_chunks(client, monkeypatch):
    q = query(**PCA)
    laid_out(client, **q)
    whole = export_response(client, **q).get_data()
    monkeypatch.setattr(export, "CSV_CHUNK_ROWS", 7)
    assert export_response(client, **q).get_data() == whole


def test_head_answers_the_headers_only(client):
    q = query(**PCA)
    laid_out(client, **q)
    response = client.head(PREFIX + "/export", query_string=q)
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_a_layout_never_asked_for_is_409_saying_how_to_start_it(client):
    q = query(method="pca", metric="cosine")
    body = export_response(client, 409, **q).json
    assert body["state"] == "none"
    assert "POST /projection" in body["error"] and '"metric": "cosine"' in body["error"]
    # GET /export never starts a job (a page of another site can send a GET).
    status = json.loads(client.get(PREFIX + "/projection", query_string=q).get_data())
    assert status["state"] == "none"


def test_a_running_layout_is_503_with_retry_after_and_its_progress(client):
    q = query(tag="big", method="tsne", iterations="5000", seed="11")
    started = client.post(PREFIX + "/projection", json=dict(q, step=1)).json
    try:
        assert started["state"] in ("queued", "running")
        response = export_response(client, 503, wait="1", **q)
        body = response.json
        assert response.headers["Retry-After"].isdigit()
        assert body["state"] in ("queued", "running") and "wait=" in body["error"]
        assert "%" in body["error"] and 0.0 <= body["progress"] <= 1.0
    finally:
        client.post(PREFIX + "/projection/cancel", json=dict(q, step=1))


def test_wait_answers_a_layout_that_finishes_within_it(client):
    q = query(step=2, method="pca", metric="cosine")
    client.post(PREFIX + "/projection", json=dict(q, step=2))
    response = export_response(client, 200, wait="60", **q)
    assert len(pd.read_csv(io.BytesIO(response.get_data()))) == \
        len(served_array(client, "/projection/points", q))


@pytest.mark.parametrize("params, name", [
    (dict(format="xml"), "format"),
    (dict(format=""), "format"),
    (dict(wait="-1"), "wait"),
    (dict(wait="61"), "wait"),
    (dict(wait="soon"), "wait"),
    (dict(formulas="strip"), "formulas"),
    (dict(perplexity="many", method="tsne"), "perplexity"),
    (dict(method="lda"), "method"),
    (dict(foo="1"), "foo"),
    (dict(retry="1"), "retry"),
    (dict(step="one"), "step"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, params, name):
    q = dict(query(**PCA), **params)
    response = export_response(client, 400, **q)
    assert response.headers["Content-Type"] == "application/json"
    assert name in response.json["error"]


@pytest.mark.parametrize("missing", ["run", "tag", "step"])
def test_a_missing_checkpoint_parameter_is_400(client, missing):
    q = {k: v for k, v in query(**PCA).items() if k != missing}
    assert missing in export_response(client, 400, **q).json["error"]


@pytest.mark.parametrize("changes", [dict(run="nope"), dict(tag="nope"), dict(step=99)])
def test_an_unknown_run_tag_or_step_is_404(client, changes):
    response = export_response(client, 404, **dict(query(**PCA), **changes))
    assert "error" in response.json


def test_post_is_405(client):
    response = client.post(PREFIX + "/export", query_string=query(**PCA))
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


def test_an_npz_over_the_bound_is_413_naming_csv(client, monkeypatch):
    q = query(**PCA)
    laid_out(client, **q)
    monkeypatch.setattr(export, "NPZ_MAX_BYTES", 1000)
    assert "format=csv" in export_response(client, 413, format="npz", **q).json["error"]
