# VibeNVR Config. `make run` serves the app; `make test` runs every check. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX := static/vendor/htmx.min.js
CHROMIUM := /usr/lib/chromium/chromium
HOST ?= $(or $(VIBENVR_HOST),127.0.0.1)
PORT ?= $(or $(VIBENVR_PORT),8000)

.PHONY: run test check lock lint deps dev-deps chromium age bench clean

run: deps
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

deps: $(VENV)/.deps $(HTMX)

$(VENV)/.deps: requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

dev-deps: $(VENV)/.dev-deps

$(VENV)/.dev-deps: $(VENV)/.deps requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

# Debian's Chromium for the browser tests, installed when missing and we are root.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing: run 'sudo apt-get install chromium' for the browser tests."; \
	  fi; \
	fi

# Debian's age CLI for the encryption interoperability tests (SPEC §13), installed when missing and root.
age:
	@if ! command -v age >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age >/dev/null; \
	  else \
	    echo "age is missing: run 'sudo apt-get install age' for the encryption interoperability tests."; \
	  fi; \
	fi

lint: dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The inner loop: ruff and every test that needs neither a browser nor a slow real server, stopping at
# the first failure. `make test` is what CI runs.
check: deps dev-deps lint
	$(BIN)/python -m pytest -q -x -p no:cacheprovider -m "not browser and not slow" $(PYTEST_ARGS)

# The whole suite with coverage (browser tests included), the backup core's coverage floor, then the
# database tests again on a throwaway PostgreSQL server (scripts/with-postgres.sh).
PG_TESTS := tests/core tests/api tests/backups tests/auth tests/locations

test: deps dev-deps chromium age lint
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)
	$(BIN)/python -m coverage report --fail-under=90 \
	  --include='vibenvr/backups/document/canonical.py,vibenvr/backups/document/export.py,vibenvr/backups/document/validate.py,vibenvr/backups/store.py,vibenvr/backups/names.py,vibenvr/backups/restore.py'
	scripts/with-postgres.sh $(BIN)/python -m pytest -q -p no:cacheprovider -m "not browser" $(PG_TESTS)

# constraints.txt: every package a fresh venv gets from the two requirement files, pinned (a fresh machine
# installs what CI tested). Run after changing either file.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -r requirements-dev.txt
	{ echo "# Every package make installs, with the version CI tested (transitive ones included). Regenerate with"; \
	  echo "# \`make lock\` after changing requirements.txt or requirements-dev.txt."; \
	  .venv-lock/bin/python -m pip freeze; } > constraints.txt
	rm -rf .venv-lock

bench: deps
	$(BIN)/python bench/backup_bench.py

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .coverage htmlcov test-artifacts
