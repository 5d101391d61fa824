# Refuge: `make run` to try it, `make test` to prove it. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?= -n auto

.PHONY: run test check bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changed since the last install.
$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(VENV)/bin/refuge demo

test: $(DEV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

check: $(DEV_STAMP)
	$(VENV)/bin/ruff check server tests bench migrations
	$(VENV)/bin/ruff format --check server tests bench migrations
	$(VENV)/bin/mypy

bench: $(DEV_STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
