"""One version number: the package root's, which setup.py and the frontend's package.json repeat."""

import json
import os

import tb_rnn_hidden
from tests.support.paths import ROOT


def test_frontend_package_version_is_the_python_version():
    with open(os.path.join(ROOT, "tb_rnn_hidden_frontend", "package.json"), encoding="utf-8") as f:
        assert json.load(f)["version"] == tb_rnn_hidden.__version__


def test_the_schema_files_ship_in_the_package():
    from tb_rnn_hidden import schemas

    assert [f["name"] for f in schemas.load("record_header")["fields"]][0] == "version"
    assert schemas.load("projection_params")["params"][0]["name"] == "method"
