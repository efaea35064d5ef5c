# Quick start: `make demo` then `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench bench-peers clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -e '.[test,postgres,dagster]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/spm-sync demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=20

bench: $(STAMP)
	@for script in $(filter-out benchmarks/bench_peers.py,$(wildcard benchmarks/bench_*.py)); do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Airbyte's HubSpot/Salesforce sources from PyPI side by side with spm-sync (not in CI; ~45 min at medium).
bench-peers: $(STAMP)
	nice $(BIN)/python benchmarks/bench_peers.py

clean:
	rm -rf $(VENV) state/spm_sync.duckdb state/pipelines state/cache .pytest_cache
