# The README's two commands, from a fresh clone:
#   make demo   set up .venv, then write the quick demo's report to demo-out/index.html
#   make test   set up .venv, then run the test suite
# .venv is made once with the python3 on the PATH and re-installed only when pyproject.toml
# (or this file's install recipe) changes: the stamp file is named after their hash. Both commands print what they set up and
# are fast when nothing changed (the demo runs again only when the code changed, or FORCE=1).
#
# Other targets: make setup (only the environment), make lint (ruff, mypy, strict docs build),
# make clean (removes demo-out/ and .venv/). Variables: PYTHON, VENV, DEMO_OUT, PYTEST_ARGS,
# SITE_DIR, FORCE.

PYTHON ?= python3
VENV ?= .venv
DEMO_OUT ?= demo-out
PYTEST_ARGS ?=
FORCE ?=

BIN := $(VENV)/bin
# the set-up's key: pyproject.toml and this file (its install recipe)
HASH := $(shell $(PYTHON) -c "import hashlib; print(hashlib.sha256(open('pyproject.toml', 'rb').read() + open('Makefile', 'rb').read()).hexdigest()[:12])" 2>/dev/null)
STAMP := $(VENV)/.setup-$(HASH)
SITE_DIR ?= site

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint clean

help:
	@echo "make demo    set up $(VENV) and write the quick demo report to $(DEMO_OUT)/index.html"
	@echo "make test    set up $(VENV) and run the test suite"
	@echo "make setup   only set up $(VENV) (from pyproject.toml, with $(PYTHON))"
	@echo "make lint    ruff, mypy and the strict docs build"
	@echo "make clean   remove $(DEMO_OUT)/ and $(VENV)/"

# The environment: attribkit in editable mode with the [dev] extra (tests, docs, lint), plus
# torch-lucent for the Lucent interop tests. Lucent's metadata pins kornia<=0.4.1, which does not
# run on current torch, so it goes in without its dependencies; the few it imports (kornia>=0.7,
# decorator, ipython) are in [dev]. System packages (Chromium for the browser test) are not
# installed here: that needs root, so .ci/run does it, and the test skips where it is missing.
# pip runs with -qq: errors still show, not the warnings about this machine's local indexes.
$(STAMP):
	@set -e; start=$$(date +%s); \
	command -v $(PYTHON) >/dev/null 2>&1 || { echo "setup: $(PYTHON) is not on the PATH"; exit 1; }; \
	$(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 10))" || { \
	  echo "setup: attribkit needs Python >= 3.10; $(PYTHON) is $$($(PYTHON) --version 2>&1)"; exit 1; }; \
	if $(BIN)/python -c "" >/dev/null 2>&1; then \
	  echo "setup: pyproject.toml or the Makefile changed (hash $(HASH)): updating $(VENV)"; \
	else \
	  echo "setup: creating $(VENV) with $$($(PYTHON) --version 2>&1) ($$(command -v $(PYTHON)))"; \
	  rm -rf $(VENV); $(PYTHON) -m venv $(VENV); \
	fi; \
	echo "setup: pip install -e '.[dev]' into $(VENV) (minutes the first time)"; \
	$(BIN)/python -m pip install -qq --upgrade pip; \
	$(BIN)/python -m pip install -qq -e ".[dev]"; \
	echo "setup: pip install --no-deps torch-lucent==0.1.8"; \
	$(BIN)/python -m pip install -qq --no-deps "torch-lucent==0.1.8"; \
	rm -f $(VENV)/.setup-*; touch $@; \
	echo "setup: installed in $$(( $$(date +%s) - start )) s"

setup: $(STAMP)
	@$(BIN)/python -c "import sys; from importlib.metadata import version as v; \
	print(f'setup: {sys.prefix} is ready (set-up hash $(HASH)): Python {sys.version.split()[0]}, ' \
	      + ', '.join(f'{p} {v(p)}' for p in ('torch', 'torchvision', 'captum', 'attribkit')))"

# The demo runs again only when the code or the environment changed since its last success
# (or with FORCE=1); a failed section leaves no success mark, so the next call runs it again.
demo: setup
	@if [ -z "$(FORCE)" ] && [ -f $(DEMO_OUT)/.done ] && [ -z "$$(find attribkit $(STAMP) \
	    -newer $(DEMO_OUT)/.done -type f ! -name '*.pyc' | head -n 1)" ]; then \
	  echo "demo: nothing changed since the last run (make demo FORCE=1 runs it again)"; \
	else \
	  echo "demo: attribkit demo --quick --out $(DEMO_OUT)"; \
	  rm -f $(DEMO_OUT)/.done; \
	  $(BIN)/attribkit demo --quick --out $(DEMO_OUT) && touch $(DEMO_OUT)/.done; \
	fi
	@echo "demo: the report is $(abspath $(DEMO_OUT))/index.html"

test: setup
	@echo "test: python -m pytest $(PYTEST_ARGS)"
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check attribkit tests benchmarks examples
	$(BIN)/mypy attribkit
	$(BIN)/mkdocs build --strict --site-dir $(SITE_DIR)

clean:
	rm -rf $(DEMO_OUT) $(VENV)
