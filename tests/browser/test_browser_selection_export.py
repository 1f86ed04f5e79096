"""The selection's export in the tab, in Chromium against a real `tensorboard` (both loaders).

A checkpoint whose tokens are hostile text (commas, quotes, line breaks,
formulas, "NA", markup, unicode) is logged with the real writer. The test
brushes a box in the projection and searches a token (lit steps),
downloads the selected sequences and the brushed and lit steps as CSV, the selection as JSON and the whole layout as CSV
(Playwright's `expect_download`), parses each file and checks every value
against the routes the tab reads (/sequences, /tokens, /probabilities,
/projection/points, /export), never against the page it checks.
"""

import io
import json
import pathlib
import urllib.parse

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from tb_rnn_hidden import writer
from tests.support.browser import TIMEOUT_MS, BrowserEvents, plugin_frame, screenshot, shift_drag, clear_box
from tests.support.checkpoints import make_checkpoint
from tests.support.tensorboard_process import http_get, running_tensorboard

N, T = 24, 10
HOSTILE_TOKENS = ["a,b", 'say "hi"', "line\nbreak", "=1+1", "NA", "007", " lead",
                  "ünï", "<img src=x onerror=alert(1)>", "@x", "-2", "plain"]
CLASS_NAMES = ["pos,itive", 'neg "a"', "=neutral"]
PARAMS = dict(method="pca", align="neighbor")
READ_AS_LOGGED = dict(keep_default_na=False, dtype={"token": str, "text": str, "label_name": str,
                                                    "prediction_name": str})
LOADERS = ["data_server", "python_loader"]
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("selection_export") / "logs"
    data = make_checkpoint(seed=21, n=N, t=T, h=6)
    tokens = [HOSTILE_TOKENS[(i * 5 + j) % len(HOSTILE_TOKENS)] for i in range(N) for j in range(T)]
    data["tokens"] = np.array(tokens, dtype=object).reshape(N, T)
    data["class_names"] = CLASS_NAMES
    with writer.HiddenStateWriter(str(logdir / "train")) as w:
        w.add("lstm", step=3, **data)
    return str(logdir)


@pytest.fixture(scope="module", params=LOADERS)
def base(request, logdir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("selection_export_cache")
    extra = ["--load_fast=false"] if request.param == "python_loader" else []
    with running_tensorboard(logdir, "--rnn_hidden_precompute=none", "--rnn_hidden_cache_dir",
                             str(cache), *extra) as url:
        yield url, request.param


def _get(base, route, **query):
    query = dict(dict(run="train", tag="lstm", step=3), **query)
    status, headers, body = http_get(base + "/data/plugin/rnn_hidden/" + route + "?"
                                     + urllib.parse.urlencode(query))
    assert status == 200, body
    return headers, body


def _array(base, route, **query):
    headers, body = _get(base, route, **query)
    shape = [int(d) for d in headers["X-Array-Shape"].split(",")]
    return np.frombuffer(body, headers["X-Array-Dtype"]).reshape(shape)


def _served(base):
    """What the files must hold, from the routes."""
    meta = json.loads(_get(base, "sequences")[1])
    probabilities = _array(base, "probabilities")
    return dict(
        meta=meta, offsets=np.concatenate([[0], np.cumsum(meta["lengths"])]),
        tokens=[meta["vocabulary"][i] for i in _array(base, "tokens")],
        prediction=probabilities.argmax(axis=1), confidence=probabilities.max(axis=1),
        coords=_array(base, "projection/points", **PARAMS),
    )


def _screen(frame, coords):
    """CSS px in the page for data coords, through the view's published transform."""
    area = frame.locator("#projection-area")
    t = json.loads(area.get_attribute("data-transform"))
    box = area.bounding_box()
    return np.stack([box["x"] + coords[:, 0] * t["k"] + t["tx"],
                     box["y"] + t["ty"] - coords[:, 1] * t["k"]], axis=1)


def _brush_box(page, frame, coords):
    """Shift-drags a box over the middle of the plot with no point near its edges; the points inside."""
    (x0, y0, x1, y1), inside = clear_box(frame.locator("#projection-area").bounding_box(), _screen(frame, coords))
    inside = np.flatnonzero(inside)
    assert 0 < len(inside) < len(coords)
    shift_drag(page, x0, y0, x1, y1)
    expect(frame.locator("#projection-brush-count")).to_have_text("%d points brushed" % len(inside))
    return inside


def _download(page, frame, entry):
    """Chooses `entry` of the selection's export menu; (suggested file name, bytes)."""
    frame.locator("[data-export-menu='selection'] summary").click()
    button = frame.locator("[data-export-menu='selection'] [data-export='%s']" % entry)
    expect(button).to_be_enabled()
    with page.expect_download() as info:
        button.click()
    download = info.value
    return download.suggested_filename, pathlib.Path(download.path()).read_bytes()


def _check_sequences(table, served, sequences):
    meta = served["meta"]
    assert table["sequence"].tolist() == sequences
    for _, row in table.iterrows():
        i = int(row["sequence"])
        start, end = served["offsets"][i], served["offsets"][i + 1]
        assert row["text"] == " ".join(served["tokens"][start:end])
        assert row["length"] == meta["lengths"][i]
        assert row["label"] == meta["labels"][i] and row["label_name"] == CLASS_NAMES[meta["labels"][i]]
        assert row["prediction"] == meta["predictions"][i]
        assert row["prediction_name"] == CLASS_NAMES[meta["predictions"][i]]
        assert np.float32(row["confidence"]) == np.float32(meta["confidences"][i])
        assert row["correct"] == (meta["labels"][i] == meta["predictions"][i])


def _check_points(rows, served, points):
    """`rows` (dicts) are `points`, in order, with the served values at each."""
    meta, offsets = served["meta"], served["offsets"]
    assert [int(r["point"]) for r in rows] == list(points)
    for row in rows:
        p = int(row["point"])
        sequence = int(np.searchsorted(offsets, p, side="right") - 1)
        assert (int(row["sequence"]), int(row["step"])) == (sequence, p - offsets[sequence])
        assert row["token"] == served["tokens"][p]
        assert int(row["label"]) == meta["labels"][sequence]
        assert row["label_name"] == CLASS_NAMES[meta["labels"][sequence]]
        assert int(row["prediction"]) == served["prediction"][p]
        assert row["prediction_name"] == CLASS_NAMES[served["prediction"][p]]
        assert np.float32(row["confidence"]) == served["confidence"][p]
        assert np.float32(row["x"]) == served["coords"][p, 0]
        assert np.float32(row["y"]) == served["coords"][p, 1]


def test_the_selection_and_the_layout_download_as_served(browser, base):
    url, loader = base
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    events = BrowserEvents(page)
    page.goto(url + "/#rnn_hidden&rh_p_method=pca&rh_sel=1,4&rh_focus=1")
    frame = plugin_frame(page)
    area = frame.locator("#projection-area")
    expect(area).to_have_attribute("data-state", "ready")
    expect(area).to_have_attribute("data-animating", "false")
    served = _served(url)

    # Before a brush: the sequences can be exported, the steps cannot (the reason is said).
    frame.locator("[data-export-menu='selection'] summary").click()
    steps_entry = frame.locator("[data-export='points-csv']")
    expect(steps_entry).to_be_disabled()
    expect(steps_entry).to_have_attribute("title", "no step is brushed or lit: brush in the "
                                          "projection, or search, match or filter")
    screenshot(page, "selection_export_menu_%s.png" % loader)
    page.keyboard.press("Escape")
    name, body = _download(page, frame, "sequences-csv")
    assert name == "rnn_hidden-train-lstm-step3-sequences.csv"
    _check_sequences(pd.read_csv(io.BytesIO(body), **READ_AS_LOGGED), served, [1, 4])

    # A box brush: its points, and their sequences, selected.
    inside = _brush_box(page, frame, served["coords"])
    sequences = sorted(set(np.searchsorted(served["offsets"], inside, side="right") - 1))
    name, body = _download(page, frame, "points-csv")
    assert name == "rnn_hidden-train-lstm-step3-steps.csv"
    table = pd.read_csv(io.BytesIO(body), **READ_AS_LOGGED)
    assert table["brushed"].all() and not table["lit"].any()
    _check_points(table.to_dict("records"), served, inside)
    _, body = _download(page, frame, "sequences-csv")
    _check_sequences(pd.read_csv(io.BytesIO(body), **READ_AS_LOGGED), served, sequences)

    # The JSON: the same, with where it came from.
    name, body = _download(page, frame, "selection-json")
    assert name == "rnn_hidden-train-lstm-step3-selection.json"
    document = json.loads(body)
    assert document["source"]["run"] == "train" and document["source"]["tag"] == "lstm"
    assert document["source"]["step"] == 3
    assert document["source"]["layout"]["kind"] == "final"
    assert document["source"]["layout"]["params"]["method"] == "pca"
    assert document["brushed_points"] == inside.tolist() and document["lit"] is None
    assert [s["sequence"] for s in document["selected_sequences"]] == sequences
    for entry in document["selected_sequences"]:
        start, end = served["offsets"][entry["sequence"]], served["offsets"][entry["sequence"] + 1]
        assert entry["tokens"] == served["tokens"][start:end]
    _check_points(document["points"], served, inside)

    # A search lights the steps of a token: the steps file holds brushed and lit steps, flagged.
    frame.locator("#lstmvis-toggle").click()
    frame.locator("#search-mode").select_option("exact")
    frame.locator("#search-query").fill("plain")
    lit = np.flatnonzero(np.array(served["tokens"]) == "plain")
    expect(frame.locator("#search-status")).to_have_attribute("data-lit-count", str(len(lit)))
    _, body = _download(page, frame, "points-csv")
    table = pd.read_csv(io.BytesIO(body), **READ_AS_LOGGED)
    union = sorted(set(inside.tolist()) | set(lit.tolist()))
    _check_points(table.to_dict("records"), served, union)
    assert table["brushed"].tolist() == [p in set(inside.tolist()) for p in union]
    assert table["lit"].tolist() == [p in set(lit.tolist()) for p in union]
    document = json.loads(_download(page, frame, "selection-json")[1])
    assert document["lit"]["source"] == "search" and document["lit"]["points"] == lit.tolist()
    screenshot(page, "selection_export_lit_%s.png" % loader)
    frame.locator("#lstmvis-toggle").click()

    # The whole layout: GET /export of the parameters shown, byte for byte.
    name, body = _download(page, frame, "layout-csv")
    assert name == "rnn_hidden-train-lstm-step3-pca.csv"
    headers, direct = _get(url, "export", **PARAMS)
    assert body == direct and headers["Content-Type"] == "text/csv; charset=utf-8"
    layout = pd.read_csv(io.BytesIO(body), **READ_AS_LOGGED)
    rows = layout.assign(point=np.arange(len(layout))).to_dict("records")
    _check_points(rows, served, range(len(served["coords"])))
    name, body = _download(page, frame, "layout-npz")
    with np.load(io.BytesIO(body), allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["x"], served["coords"][:, 0])
        assert npz["token"].tolist() == served["tokens"]
    screenshot(page, "selection_export_brushed_%s.png" % loader)
    events.assert_clean()
    page.close()
