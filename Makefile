# Two commands set everything up on a fresh machine:
#   make run    the service with embedded SQLite, the in-process broker and the demo feed
#   make test   lint, types and the whole test suite (SQLite and PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check lint browser wrk bench bench-quick bench-replicas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tcpr serve --demo --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The UI tests drive Debian's chromium through Playwright (never a Playwright browser download).
# As root (CI) a missing chromium is installed with apt; otherwise the UI tests skip outside CI.
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "chromium missing: installing it with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "chromium not found and not root: run 'sudo apt-get install chromium' to run the UI tests (they skip without it)"; \
	fi

# The ingest benchmarks drive load with Debian's wrk (a Python client cannot generate enough).
# As root a missing wrk is installed with apt; otherwise the ingest part of the benchmark fails
# with a message and the other parts still run.
wrk:
	@if command -v wrk >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "wrk missing: installing it with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	else \
		echo "wrk not found and not root: run 'sudo apt-get install wrk' for the ingest benchmarks"; \
	fi

test: lint browser
	$(BIN)/python -m pytest

check: test

bench-quick: $(STAMP) wrk
	$(BIN)/python -m bench --quick

bench: $(STAMP) wrk
	$(BIN)/python -m bench

bench-replicas: $(STAMP)
	$(BIN)/python -m bench.replicas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
