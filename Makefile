# Refuge: `make run` to try it, `make test` to prove it. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?= -n auto

.PHONY: run test check bench clean lock advisories i18n-extract i18n-update i18n-compile

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Exactly the locked versions, each checked against its hash (pyproject.toml keeps the ranges
# they were resolved from; `make lock` resolves them again). The build requirements are locked
# too, so Refuge itself is built without fetching anything unhashed. Reinstall only when a lock,
# pyproject.toml or setup.py changed since the last install.
RUN_LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
$(RUN_STAMP): pyproject.toml setup.py $(RUN_LOCK) | $(PY)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(RUN_LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(DEV_STAMP): pyproject.toml setup.py $(DEV_LOCK) | $(PY)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(DEV_LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e '.[dev]'
	touch $@ $(RUN_STAMP)

# Compiled catalogues are built, never committed; rebuilt whenever a .po or the .pot changes.
LOCALES := server/locales
MO_STAMP := $(LOCALES)/.compiled
$(MO_STAMP): $(RUN_STAMP) $(wildcard $(LOCALES)/messages.pot $(LOCALES)/*/LC_MESSAGES/messages.po)
	$(PY) -m server.i18n.tools compile
	touch $@

# axe-core (npm) for the accessibility checks of the browser tests; never served to anyone.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "make: npm not found; browser accessibility checks will skip (or fail when required)"; fi

run: $(RUN_STAMP) $(MO_STAMP)
	$(VENV)/bin/refuge demo

test: $(DEV_STAMP) $(MO_STAMP) $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS)

check: $(DEV_STAMP)
	$(VENV)/bin/ruff check server tests bench deps setup.py
	$(VENV)/bin/ruff format --check server tests bench deps setup.py
	$(VENV)/bin/mypy
	$(PY) -m server.i18n.tools check
	$(PY) deps/advisories.py check
	@dir=$$(mktemp -d) && env $$($(VENV)/bin/refuge keys generate) REFUGE_ENV=development REFUGE_LOG_LEVEL=WARNING REFUGE_INSTANCE_PATH=$$dir REFUGE_DATABASE_URL=sqlite:///$$dir/check.sqlite3 $(VENV)/bin/refuge db check; status=$$?; rm -rf "$$dir"; exit $$status

# Translators: see docs/translating.md.
i18n-extract: $(DEV_STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output --width=100 \
	    --add-comments=Translators: --project=Refuge --copyright-holder="Refuge contributors" \
	    --msgid-bugs-address=translators@refuge.invalid -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k lazy_ngettext:1,2 -k N_ \
	    -o $(LOCALES)/messages.pot .
	$(PY) -m server.i18n.tools normalise-pot

i18n-update: i18n-extract
	$(VENV)/bin/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --width=100 \
	    --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

i18n-compile: $(RUN_STAMP)
	$(PY) -m server.i18n.tools compile
	touch $(MO_STAMP)

# Online (PyPI): resolve pyproject.toml's ranges again into hashed lock files, then take a new
# advisory snapshot for them. Hashes are PyPI's own, not those of a local mirror or wheel cache.
LOCK_TOOLS := .venv-lock
COMPILE := env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(LOCK_TOOLS)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --all-build-deps --strip-extras --no-emit-index-url
lock:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install --quiet pip-tools
	$(COMPILE) --upgrade --output-file=$(RUN_LOCK) pyproject.toml
	$(COMPILE) --upgrade --extra=dev --output-file=$(DEV_LOCK) pyproject.toml
	$(MAKE) advisories

# Online (PyPI): a new dated snapshot of the advisories of the locked versions.
advisories:
	$(PYTHON) deps/advisories.py refresh

bench: $(DEV_STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) .pytest_cache .mypy_cache .ruff_cache node_modules
