# The two set-up commands of README.md:
#   make demo   train the demo LSTM and GRU, log their hidden states every epoch, open TensorBoard
#   make nesting  the same for LSTMVis' bracket language (demo/nesting.py, README's LSTMVis story)
#   make test   install everything (Python packages, frontend build, Chromium, Bazel) and run all tests
#
# Both create the virtual environment .venv/ on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of TensorFlow: tests and demo need no GPU.
TENSORFLOW ?= tensorflow-cpu==2.21.0
# PyTorch for the PyTorch logging path (the CPU build, pinned so pip takes no CUDA build).
TORCH ?= torch==2.13.0
LOGDIR ?= demo_logs
NESTING_LOGDIR ?= nesting_logs
PORT ?= 6006
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: demo nesting test install install-test chromium python-tests frontend-tests bazel-check clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

# `pip install .` runs the npm build of the frontend into the package (see setup.py).
install: $(PY)
	$(PY) -m pip install "$(TENSORFLOW)" .

install-test: $(PY)
	$(PY) -m pip install "$(TENSORFLOW)" "$(TORCH)" ".[test,torch,umap]"

demo: install
	$(PY) demo/train.py --logdir $(LOGDIR) --port $(PORT)

nesting: install
	$(PY) demo/nesting.py --logdir $(NESTING_LOGDIR) --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

python-tests: install-test chromium
	$(PY) -m pytest tests -v -rfEs --tb=short

frontend-tests:
	cd tb_rnn_hidden_frontend && npm ci && npm test

bazel-check:
	bash .ci/bazel_check.sh

# pytest last, so its summary is the closing line of the run.
test: frontend-tests bazel-check python-tests

clean:
	rm -rf $(VENV) .setuptools-build *.egg-info tb_rnn_hidden/static tb_rnn_hidden_frontend/node_modules test-artifacts
