# regua — make help lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO ?= data/demo
DEMO_CUSTOMERS ?= 50000
DEMO_AS_OF ?= 2026-10-30
DEMO_USER ?= demo
DEMO_PASSWORD ?= regua-demo-senha

.DEFAULT_GOAL := help
.PHONY: help install demo test test-slow lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies

# The demo keeps everything under $(DEMO): REGUA_DATA_DIR moves every default folder there
# (raw exports, store, outputs, reports, the MLflow SQLite file and its artifacts), and
# Prefect's temporary server keeps its database in $(DEMO)/prefect. MLFLOW_TRACKING_URI or
# PREFECT_API_URL, when set, send the runs to those servers instead.
DEMO_ENV = REGUA_DATA_DIR=$(DEMO) PREFECT_HOME=$${PREFECT_HOME:-$(abspath $(DEMO))/prefect}

demo: $(STAMP) ## Simulate 50k customers, ingest, train, run the nightly flow, write the report
	@# a new simulation each time: the store would otherwise merge it with the previous one
	rm -rf $(DEMO)/raw $(DEMO)/store $(DEMO)/workbench.db
	$(DEMO_ENV) $(BIN)/regua simulate --customers $(DEMO_CUSTOMERS) --months 24 --seed 7 --error-rate 0.001
	$(DEMO_ENV) $(BIN)/regua ingest
	$(DEMO_ENV) $(BIN)/regua train --truth $(DEMO)/raw/truth/truth.parquet --auto-promote
	$(DEMO_ENV) $(BIN)/regua nightly --as-of $(DEMO_AS_OF)
	$(DEMO_ENV) $(BIN)/regua report --as-of $(DEMO_AS_OF)
	@# the workbench's demo user (a supervisor, so every queue shows); password from stdin
	echo "$(DEMO_PASSWORD)" | $(DEMO_ENV) $(BIN)/regua users add $(DEMO_USER) --role supervisor --password-stdin
	@echo
	@echo "Outputs for the collection tools: $(DEMO)/out/$(DEMO_AS_OF)/ (actions.parquet/.csv, segments, limits, manifest.json)"
	@echo "Portfolio report (HTML): $(DEMO)/reports/portfolio-$(DEMO_AS_OF).html"
	@echo "Model reports (HTML):"; find $(DEMO)/mlartifacts -name model_report.html -newer $(DEMO)/store/CURRENT | sed 's/^/  /'
	@echo "Data docs of the ingest: $(DEMO)/store/versions/*/data_docs/index.html"
	@echo "Notebooks: REGUA_DATA_DIR=$(abspath $(DEMO)) $(BIN)/jupyter execute notebooks/01-portfolio.ipynb"
	@echo "Analysts' workbench: REGUA_DATA_DIR=$(DEMO) $(BIN)/regua web  (then http://127.0.0.1:8000, user $(DEMO_USER), password $(DEMO_PASSWORD))"
	@echo "MLflow UI:  $(BIN)/mlflow ui --backend-store-uri sqlite:///$(DEMO)/mlflow.db  (then http://127.0.0.1:5000)"
	@echo "Prefect UI: PREFECT_HOME=$(abspath $(DEMO))/prefect $(BIN)/prefect server start  (then http://127.0.0.1:4200)"

test: $(STAMP) lint ## Lint, then run the test suite (runs marked slow excluded: make test-slow)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow" --durations=15

test-slow: $(STAMP) ## The long runs only (multi-night books of 1,000 customers and more)
	$(BIN)/python -m pytest -n 2 -m slow

# import-linter reads the package as installed (the stage folders are regua.<stage> only
# there), so the layers are checked on a throwaway install under build/lint.
lint: $(STAMP) ## ruff check and format check, then the import layers (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	rm -rf build
	$(BIN)/python -m pip install --quiet --no-deps --target build/lint .
	cd build/lint && $(abspath $(BIN))/lint-imports --no-cache --config $(CURDIR)/pyproject.toml

format: $(STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## Run the benchmarks (large data under /tmp; minutes)
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_nightly.py --tracking-uri sqlite:///$${REGUA_BENCH_DIR:-/tmp/regua-bench}/train/mlflow/mlflow.db

clean: ## Remove the virtualenv and generated demo data
	rm -rf $(VENV) $(DEMO)
