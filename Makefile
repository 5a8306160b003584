# o2c — order-to-cash warehouse. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_SYSTEM ?= python3
VENV          := .venv
PY            := $(VENV)/bin/python
STAMP         := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-12)

export O2C_LANDING_DIR ?= $(CURDIR)/data/landing
export O2C_WAREHOUSE   ?= $(CURDIR)/data/warehouse.duckdb
export DAGSTER_HOME    ?= $(CURDIR)/.dagster_home
# dagster-dbt looks for `dbt` on PATH when it prepares the manifest under `dagster dev`.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Sample size of the embedded default (make run); SCALE and REPEAT are for make bench.
SAMPLE_ORDERS ?= 2000
SAMPLE_DAYS   ?= 14
SAMPLE_SEED   ?= 42
SCALE         ?= 100000
REPEAT        ?= 1
ENGINE        ?= duckdb
# The question of make metrics (docs/metrics.md).
Q             ?= net_revenue_cny by channel by month

# The headless browser of tests/browser (the offline report and validation pages).
CHROMIUM      ?= chromium

.PHONY: help venv browser sample manifest run test test-fast dev docs validate metrics diff bench clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock
	@test -x $(PY) || { echo ">> creating virtualenv in $(VENV)"; $(PYTHON_SYSTEM) -m venv $(VENV); }
	@echo ">> installing pinned dependencies from requirements.lock (first run takes a few minutes)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar off -r requirements.lock
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create the virtualenv with pinned dependencies

# Quiet when a browser is there; installs Debian's chromium when root (CI images); otherwise says
# the browser tests will skip (they fail instead under CI=true). Never fails make by itself.
browser: ## the headless browser the offline-page tests use (installs chromium with apt-get when root)
	@if [ -n "$$O2C_CHROMIUM" ] || command -v $(CHROMIUM) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo ">> installing chromium (the headless browser of tests/browser)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
	  || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; } \
	  || echo ">> could not install chromium: tests/browser will skip (and fail under CI=true)"; \
	else echo ">> no $(CHROMIUM) and not root: tests/browser will skip (fail under CI=true); sudo apt-get install chromium"; fi

sample: venv ## generate the default sample landing folder if it is missing
	@if [ -d "$(O2C_LANDING_DIR)/oms" ]; then echo ">> landing data present in $(O2C_LANDING_DIR)"; \
	else $(PY) -m ingest.simulate --orders $(SAMPLE_ORDERS) --days $(SAMPLE_DAYS) --seed $(SAMPLE_SEED) --out "$(O2C_LANDING_DIR)"; fi

manifest: venv ## compile the dbt manifest that Dagster loads at import (skipped when nothing it is parsed from changed)
	$(PY) -m orchestration.prepare

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(DAGSTER_HOME); cp $< $@

run: sample manifest $(DAGSTER_HOME)/dagster.yaml ## install what is missing and run the whole pipeline on the sample (O2C_ENGINE=spark: docs/spark.md)
	@mkdir -p "$(dir $(O2C_WAREHOUSE))"
	@$(PY) -m orchestration.engines
	$(PY) -m orchestration.run_pipeline

test: venv manifest browser ## install what is missing and run the test suite
	$(PY) -m pytest

test-fast: venv manifest browser ## the test suite without the end-to-end runs
	$(PY) -m pytest -m "not slow"

dev: sample manifest $(DAGSTER_HOME)/dagster.yaml ## open the Dagster UI on http://127.0.0.1:3000
	$(VENV)/bin/dagster dev -h 127.0.0.1 -p 3000   # code location "o2c" from pyproject.toml

metrics: manifest ## a finance metric on the published file: make metrics Q="net_revenue_cny by channel by month"
	$(PY) -m metrics "$(Q)"

diff: venv ## what the working warehouse would change in the published version (OLD=/NEW= a .duckdb file or Parquet folder)
	$(PY) -m orchestration.release diff $(if $(OLD),--old "$(OLD)") $(if $(NEW),--new "$(NEW)")

docs: manifest ## generate the dbt docs site (dbt_project/target/index.html)
	cd dbt_project && ../$(VENV)/bin/dbt docs generate --profiles-dir . --project-dir .
	@echo ">> open dbt_project/target/index.html (or: cd dbt_project && ../$(VENV)/bin/dbt docs serve --profiles-dir .)"

validate: venv ## run every expectation suite against the warehouse; non-zero exit if a blocking one fails
	$(PY) -m expectations.validate

bench: venv ## benchmarks at SCALE orders (make bench SCALE=1000000 REPEAT=3; ENGINE=spark: Spark next to DuckDB)
	$(PY) -m bench.run --scale $(SCALE) --repeat $(REPEAT) --engine $(ENGINE)

clean: ## remove the warehouse, sample data and Dagster state (keeps the virtualenv)
	rm -rf data $(DAGSTER_HOME) dbt_project/target dbt_project/logs

distclean: clean ## also remove the virtualenv
	rm -rf $(VENV)
