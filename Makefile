# The README's two commands, from a fresh clone:
#   make demo   set up .venv, then write the quick demo's report to demo-out/index.html
#   make test   set up .venv, then run the test suite
# Each first checks, in about a second, that $(VENV) holds what this checkout needs: torch and
# torchvision at the pins below, every requirement of pyproject.toml (the core and the [dev]
# extra) at a version it allows, torch-lucent, and `attribkit` importable from this checkout.
# Only what fails the check is set up (a missing venv is created with the python3 on the PATH,
# then pip installs), and both commands print what they set up. The demo runs again only when
# the code changed since its last success (or with FORCE=1).
#
# Other targets: make setup (only the environment), make lint (ruff, mypy, strict docs build),
# make clean (removes demo-out/ and .venv/). Variables: PYTHON, VENV (an existing environment
# that already passes the check is used as it is, never re-installed), DEMO_OUT, PYTEST_ARGS,
# SITE_DIR, FORCE.

PYTHON ?= python3
VENV ?= .venv
DEMO_OUT ?= demo-out
SITE_DIR ?= site
PYTEST_ARGS ?=
FORCE ?=
# PyTorch as the project pins it (this machine's wheels come from its local disk, /opt/wheels)
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
# Lucent, for the Lucent interop tests only: its metadata pins kornia<=0.4.1, which does not run
# on current torch, so it goes in without its dependencies; what it imports (kornia>=0.7,
# decorator, ipython) is in [dev].
LUCENT := torch-lucent==0.1.8

BIN := $(VENV)/bin
# make runs this checkout's code, also when VENV is an environment installed from elsewhere
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

# The check: exit 0 when the environment is ready, else print the first thing missing.
define ENV_CHECK
import importlib.util, os, sys
from importlib import metadata


def check(wanted_extra):
    try:
        import tomllib
        from packaging.requirements import Requirement
    except ModuleNotFoundError:  # Python 3.10, or no packaging yet: pip's own copies
        from pip._vendor import tomli as tomllib
        from pip._vendor.packaging.requirements import Requirement
    with open("pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"], *wanted_extra]
    for text in wanted:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            return f"{req.name} is not installed"
        if not req.specifier.contains(have, prereleases=True):
            return f"{req.name} {have} is installed, {req} is needed"
    try:
        metadata.version("attribkit")
    except metadata.PackageNotFoundError:
        return "attribkit is not installed (no `attribkit` command)"
    spec = importlib.util.find_spec("attribkit")
    here = os.path.realpath("attribkit")
    if spec is None or os.path.dirname(os.path.realpath(spec.origin or "")) != here:
        return f"attribkit is not imported from this checkout ({here})"
    return None


try:
    problem = check(sys.argv[1:])
except Exception as err:  # a broken environment: say so in one line
    problem = f"the check failed ({type(err).__name__}: {err})"
sys.exit(problem)
endef
export ENV_CHECK

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint clean

help:
	@echo "make demo    set up $(VENV) and write the quick demo report to $(DEMO_OUT)/index.html"
	@echo "make test    set up $(VENV) and run the test suite"
	@echo "make setup   only set up $(VENV) (from pyproject.toml, with $(PYTHON))"
	@echo "make lint    ruff, mypy and the strict docs build"
	@echo "make clean   remove $(DEMO_OUT)/ and $(VENV)/"

# pip runs with -qq: errors still show, not the warnings about this machine's local indexes.
# System packages (Chromium for the browser test) are not installed here: that needs root, so
# .ci/run does it, and the test skips where it is missing.
setup:
	@set -e; \
	if [ -x $(BIN)/python ] && why=$$($(BIN)/python -c "$$ENV_CHECK" $(TORCH_PINS) $(LUCENT) 2>&1); then \
	  echo "setup: $(VENV) is up to date (nothing to install)"; \
	else \
	  start=$$(date +%s); \
	  if [ ! -e $(BIN)/python ]; then \
	    command -v $(PYTHON) >/dev/null 2>&1 || { echo "setup: $(PYTHON) is not on the PATH"; exit 1; }; \
	    $(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 10))" || { \
	      echo "setup: attribkit needs Python >= 3.10; $(PYTHON) is $$($(PYTHON) --version 2>&1)"; exit 1; }; \
	    echo "setup: creating $(VENV) with $$($(PYTHON) --version 2>&1) ($$(command -v $(PYTHON)))"; \
	    $(PYTHON) -m venv $(VENV); \
	    $(BIN)/python -m pip install -qq --upgrade pip; \
	  elif ! $(BIN)/python -c "" >/dev/null 2>&1; then \
	    echo "setup: $(BIN)/python does not run; remove $(VENV) (make clean) and run again"; exit 1; \
	  else \
	    echo "setup: $(VENV) needs an update: $${why:-the check did not run}"; \
	  fi; \
	  echo "setup: pip install -e '.[dev]' $(TORCH_PINS) (minutes the first time)"; \
	  $(BIN)/python -m pip install -qq -e ".[dev]" $(TORCH_PINS); \
	  echo "setup: pip install --no-deps $(LUCENT)"; \
	  $(BIN)/python -m pip install -qq --no-deps "$(LUCENT)"; \
	  why=$$($(BIN)/python -c "$$ENV_CHECK" $(TORCH_PINS) $(LUCENT) 2>&1) || { \
	    echo "setup: after installing, $(VENV) is still not ready: $$why"; exit 1; }; \
	  echo "setup: installed in $$(( $$(date +%s) - start )) s"; \
	fi
	@$(BIN)/python -c "import sys; from importlib.metadata import version as v; \
	print(f'setup: {sys.prefix}: Python {sys.version.split()[0]}, ' \
	      + ', '.join(f'{p} {v(p)}' for p in ('torch', 'torchvision', 'captum', 'attribkit')))"

# The demo runs again only when the code or pyproject.toml changed since its last success (or
# with FORCE=1); a failed section leaves no success mark, so the next call runs it again.
demo: setup
	@if [ -z "$(FORCE)" ] && [ -f $(DEMO_OUT)/.done ] && [ -z "$$(find attribkit pyproject.toml \
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
	$(BIN)/ruff check attribkit tests benchmarks examples tools
	$(BIN)/mypy attribkit
	$(BIN)/mkdocs build --strict --site-dir $(SITE_DIR)

clean:
	rm -rf $(DEMO_OUT) $(VENV)
