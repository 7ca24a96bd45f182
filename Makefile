# regua — make help lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO ?= data/demo
DEMO_CUSTOMERS ?= 20000
DEMO_AS_OF ?= 2026-10-30

.DEFAULT_GOAL := help
.PHONY: help install demo test lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies

demo: $(STAMP) ## Simulate a portfolio and run the pipeline end to end on embedded defaults
	$(BIN)/regua simulate --customers $(DEMO_CUSTOMERS) --months 24 --seed 7 --error-rate 0.001 --out $(DEMO)/raw
	$(BIN)/regua ingest --raw $(DEMO)/raw --store $(DEMO)/store
	REGUA_MLFLOW_ARTIFACT_DIR=$(DEMO)/mlartifacts MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///$(DEMO)/mlflow.db} \
	  $(BIN)/regua train --store $(DEMO)/store --truth $(DEMO)/raw/truth/truth.parquet
	REGUA_MLFLOW_ARTIFACT_DIR=$(DEMO)/mlartifacts MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///$(DEMO)/mlflow.db} \
	  $(BIN)/regua score --store $(DEMO)/store --as-of $(DEMO_AS_OF) --out $(DEMO)/out
	@echo "MLflow UI: $(BIN)/mlflow ui --backend-store-uri sqlite:///$(DEMO)/mlflow.db"

test: $(STAMP) lint ## Lint, then run the test suite
	$(BIN)/python -m pytest -n 2

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## Run the benchmarks (large data under /tmp; minutes)
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_features.py

clean: ## Remove the virtualenv and generated demo data
	rm -rf $(VENV) $(DEMO)
