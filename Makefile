# Two commands matter on a fresh machine: `make run` and `make test`. Each bootstraps .venv itself.
SHELL := /bin/bash
# Found before PATH below puts the venv first (a venv is never made from its own python).
ifndef PYTHON
PYTHON := $(shell command -v python3.11 || command -v python3)
endif
VENV ?= .venv
BIN := $(VENV)/bin

# The venv's executables first for every recipe: dagster-dbt and `dagster dev` look `dbt` up on PATH, and a fresh
# shell has no activated venv.
export PATH := $(abspath $(BIN)):$(PATH)
export DAGSTER_HOME ?= $(CURDIR)
export DAGSTER_STORAGE_DIR ?= $(CURDIR)/.dagster
export CONTACT_WAREHOUSE_DB ?= $(CURDIR)/data/warehouse.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False

.PHONY: install run test dev manifest build lint fmt clean bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,scale]'
	touch $@

install: $(BIN)/.installed

## Load the bundled sample exports (seeds/) and build the whole warehouse into data/warehouse.duckdb.
run: install
	mkdir -p $(DAGSTER_STORAGE_DIR)
	$(BIN)/contact-warehouse run

## The test suite (what CI runs).
test: install
	$(BIN)/python -m pytest

## dbt_project/target/manifest.json (`dbt parse`), which the dbt assets are built from.
manifest: install
	$(BIN)/python -m orchestration.project

dev: install manifest
	mkdir -p $(DAGSTER_STORAGE_DIR)
	$(BIN)/dagster dev -m orchestration.definitions

## Benchmark floor, full build and nightly increment at ~100k, 1M and 10M events and 1M-a-month over 120 days
## (SIZES=small for a quick run).
SIZES ?= small,medium,long,large
bench: install
	$(BIN)/contact-warehouse bench --sizes $(SIZES)

build: install
	cd dbt_project && ../$(BIN)/dbt build --profiles-dir .

## ruff (check and format) on the Python, sqlfluff (dbt templater, .sqlfluff) on the dbt models (it skips macro
## files: their SQL is linted where it renders, inside the models).
## sqlfluff compiles the project against a throw-away DuckDB file: linting never opens the warehouse.
LINT_DB ?= $(CURDIR)/.lint/warehouse.duckdb
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p $(dir $(LINT_DB))
	CONTACT_WAREHOUSE_DB=$(LINT_DB) $(BIN)/sqlfluff lint dbt_project/models

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf .dagster .lint data dbt_project/target dbt_project/logs
