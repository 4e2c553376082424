# Two commands set everything up on a fresh machine:
#   make run    the service with embedded SQLite, the in-process broker and the demo feed
#   make test   lint, types and the whole test suite (SQLite and PostgreSQL)
#
# Everything installs from uv.lock (exact versions with hashes, runtime and development sets) and
# nothing else: `make lock` is the one way to move a version, and its result is its own commit.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# uv itself comes from the lock too: requirements-uv.txt is its hashed pin, exported by `make lock`.
TOOLS := .tools
UV := $(TOOLS)/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000
# The interpreter is this machine's; uv never downloads one.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test check lint lock upgrade browser wrk bench bench-quick bench-replicas clean

$(UV): requirements-uv.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements-uv.txt
	touch $(UV)

# --frozen: install exactly what uv.lock says, never re-resolve; --exact removes anything else.
$(STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --frozen --exact --python $(PYTHON)
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tcpr serve --demo --host $(HOST) --port $(PORT)

# Re-resolve within pyproject.toml's ranges, keeping every pin that still fits (add a dependency,
# narrow a range); `make upgrade` moves every package to the newest release its range allows.
lock: $(UV)
	$(UV) lock --python $(PYTHON)
	$(UV) export --frozen --only-group tools --no-emit-project --output-file requirements-uv.txt

upgrade: $(UV)
	$(UV) lock --upgrade --python $(PYTHON)
	$(UV) export --frozen --only-group tools --no-emit-project --output-file requirements-uv.txt

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

# Tests run in parallel processes (pytest-xdist), more than the cores: most of a test's time is a
# server, a browser or a deadline waiting, not the CPU. Work stealing keeps the long tests (kill
# drills, replicas, Hypothesis over both databases) from all ending up at the end of one worker.
TEST_WORKERS ?= 4
test: lint browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

check: test

bench-quick: $(STAMP) wrk
	$(BIN)/python -m bench --quick

bench: $(STAMP) wrk
	$(BIN)/python -m bench

bench-replicas: $(STAMP)
	$(BIN)/python -m bench.replicas

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
