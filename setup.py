"""Packaging for tb-rnn-hidden.

The plugin's frontend is TypeScript in tb_rnn_hidden_frontend/. Its bundle,
tb_rnn_hidden/static/index.js, is git-ignored, so build_py (and develop) run
`npm ci` / `npm run build` first: `pip install .` from a fresh clone then ships
the bundle inside the package. Set TB_RNN_HIDDEN_SKIP_FRONTEND=1 to skip the npm
step (fast Python-only iterations, or when the bundle was built separately).
"""

import os
import re
import shutil
import subprocess
import sys
import time

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop
from setuptools.errors import ExecError

ROOT = os.path.dirname(os.path.abspath(__file__))
FRONTEND_DIR = os.path.join(ROOT, "tb_rnn_hidden_frontend")
BUNDLE = os.path.join(ROOT, "tb_rnn_hidden", "static", "index.js")


def _log(message):
    print("tb-rnn-hidden: " + message, file=sys.stderr, flush=True)


def build_frontend():
    """Builds the frontend bundle with npm, unless skipped or impossible."""
    if os.environ.get("TB_RNN_HIDDEN_SKIP_FRONTEND") == "1":
        _log("TB_RNN_HIDDEN_SKIP_FRONTEND=1: not building the frontend")
        if not os.path.isfile(BUNDLE):
            _log("warning: there is no bundle yet; the plugin will have no frontend")
        return
    npm = shutil.which("npm")
    sources = os.path.isfile(os.path.join(FRONTEND_DIR, "package.json"))
    if npm is None or not sources:
        if os.path.isfile(BUNDLE):
            _log("npm or frontend sources unavailable; using the existing %s" % BUNDLE)
            return
        raise ExecError(
            "Node.js >= 18 and npm are needed to build the tb-rnn-hidden frontend "
            "(tb_rnn_hidden_frontend/ -> tb_rnn_hidden/static/index.js), but %s. "
            "Install Node.js >= 18 (it includes npm) and retry, or build the bundle "
            "elsewhere with `npm ci && npm run build` in tb_rnn_hidden_frontend/."
            % ("npm is not on PATH" if npm is None else "tb_rnn_hidden_frontend/ is missing")
        )

    def run(*args):
        _log("running `npm %s` in tb_rnn_hidden_frontend/" % " ".join(args))
        start = time.monotonic()
        try:
            subprocess.check_call([npm, *args], cwd=FRONTEND_DIR)
        except subprocess.CalledProcessError as e:
            raise ExecError("`npm %s` failed (exit code %d)" % (" ".join(args), e.returncode))
        _log("`npm %s` done in %.1fs" % (" ".join(args), time.monotonic() - start))

    if not os.path.isdir(os.path.join(FRONTEND_DIR, "node_modules")):
        run("ci")
    run("run", "build")
    if not os.path.isfile(BUNDLE):
        raise ExecError("`npm run build` did not produce %s" % BUNDLE)


class BuildPyWithFrontend(build_py):
    """build_py that builds the frontend bundle before collecting package data."""

    def run(self):
        build_frontend()
        # package_data globs are resolved lazily; drop any cached result taken
        # before the bundle existed so that static/index.js is picked up.
        self.__dict__.pop("data_files", None)
        super().run()


class DevelopWithFrontend(develop):
    """Legacy `setup.py develop`, which does not run build_py."""

    def run(self):
        build_frontend()
        super().run()


def _version():
    """The one version number, `__version__` in tb_rnn_hidden/__init__.py (read, not imported)."""
    with open(os.path.join(ROOT, "tb_rnn_hidden", "__init__.py"), encoding="utf-8") as f:
        match = re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M)
    if match is None:
        raise RuntimeError("tb_rnn_hidden/__init__.py has no __version__")
    return match.group(1)


def _long_description():
    path = os.path.join(ROOT, "README.md")
    if not os.path.isfile(path):
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read()


setup(
    name="tb-rnn-hidden",
    version=_version(),
    description="TensorBoard plugin to explore RNN hidden states across training checkpoints.",
    long_description=_long_description(),
    long_description_content_type="text/markdown",
    packages=find_packages(exclude=["tests", "tests.*"]),
    package_data={"tb_rnn_hidden": ["static/*", "http_api.md", "schema/*.json"]},
    python_requires=">=3.9",
    install_requires=[
        "tensorboard>=2.12",
        "numpy>=1.21",
        # C CRC-32C for the TF-free event writer (TensorBoard's is pure Python).
        "google-crc32c>=1.5",
        # 2-D projections of hidden states (tb_rnn_hidden/projection/).
        "openTSNE>=1.0",
        "scikit-learn>=1.3",
        # Regular-expression token search in linear time: no pattern can hang the server
        # (Python's re backtracks exponentially; tb_rnn_hidden/analysis/token_search.py).
        "google-re2>=1.1",
    ],
    extras_require={
        "test": [
            "pytest",
            "hypothesis>=6.100",
            "pillow",  # browser tests read back pixels and exported PNGs
            "pandas",  # GET /export is read back with pandas.read_csv, as a notebook would
            "tensorflow-cpu>=2.12",
            "playwright",
            "werkzeug",
        ],
        "torch": ["torch>=2.0"],
        "umap": ["umap-learn>=0.5"],
    },
    entry_points={
        "tensorboard_plugins": [
            "rnn_hidden = tb_rnn_hidden.server.loader:RnnHiddenLoader",
        ],
    },
    cmdclass={
        "build_py": BuildPyWithFrontend,
        "develop": DevelopWithFrontend,
    },
    zip_safe=False,
)
