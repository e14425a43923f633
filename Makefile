# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes (pytest-xdist). Many tests wait on a bot subprocess, a retry_after or the
# per-chat pace rather than on a core, so twice the cores keeps both cores busy.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))

.PHONY: run test lint typecheck demo bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## run the bot (SQLite under ./data/ unless DATABASE_URL says otherwise)
	$(BIN)/huibao db upgrade
	$(BIN)/huibao run

test: $(STAMP)  ## lint, type-check, import contracts and the whole test suite (SQLite and, when reachable, PostgreSQL)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

demo: $(STAMP)  ## an offline tour: simulated liaisons report, the summary is compiled to ./out/
	$(BIN)/huibao demo

bench: $(STAMP)  ## benchmarks; figures to benchmarks/results.json
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
