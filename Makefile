# panel2patch: `make stages` runs the pipeline on the bundled sample and ends by printing the
# path of its HTML report; `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
SYS_PY ?= python3
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: stages test lint bench install install-dev clean

# The CPU torch wheel goes in first, so no extra can pull a CUDA build (README, "Installing").
# `stages` needs the train extra for its closing training run; `test` needs everything.
$(VENV)/.core: pyproject.toml
	$(SYS_PY) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[sample,train]'
	touch $@

$(VENV)/.dev: pyproject.toml
	$(SYS_PY) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[models,train,dev]'
	touch $(VENV)/.core $@

install: $(VENV)/.core
install-dev: $(VENV)/.dev

stages: $(VENV)/.core
	$(PY) -m curate.cli sample sample_corpus
	$(PY) -m curate.cli run manifests/sample.yaml
	$(PY) -m curate.cli status runs/sample
	$(PY) -m curate.cli train manifests/train_tiny.yaml --shards runs/sample/shards --out runs/sample/train
	$(PY) -m curate.cli inspect runs/sample --screenshot

lint: $(VENV)/.dev
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest -q

bench: $(VENV)/.dev
	$(PY) -m bench.run

clean:
	rm -rf runs sample_corpus bench/tmp
