# callbill: every target creates the virtual environment it needs from the pinned lock.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
WAREHOUSE ?= warehouse/callbill.duckdb
LANDING ?= landing
DEMO_DIR := demo
DEMO_START_MONTH := 2026-02
DEMO_CLOSE_MONTH := 2026-05
# The demo landing is mixed: pbx1's Asterisk files for the first 60 accounts, cdrs/ for the other 240.
DEMO_SWITCH_ACCOUNTS := 60

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export DAGSTER_HOME ?= $(abspath warehouse)/dagster_home

DBT_SOURCES := dbt_project.yml profiles/profiles.yml $(shell find models macros seeds data-tests -type f 2>/dev/null)

.PHONY: install demo test test-fast test-ui test-spark test-ui-and-spark test-ui-and-spark-without-cluster spark-install browser lint ui dashboards docs bench clean

install: $(VENV)/.installed target/manifest.json

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# dagster-dbt loads the dbt manifest when the definitions load: parse before anything imports them.
# A whole parse: the partial parse a close leaves in target/ lost the singular tests' descriptions.
target/manifest.json: $(VENV)/.installed $(DBT_SOURCES)
	$(BIN)/dbt parse --profiles-dir profiles --quiet --no-partial-parse
	touch $@

demo: install
	rm -rf $(DEMO_DIR) $(WAREHOUSE) $(WAREHOUSE).wal
	$(BIN)/callbill --warehouse $(WAREHOUSE) generate $(DEMO_DIR)/landing --accounts 300 \
		--start-month $(DEMO_START_MONTH) --months 3 --calls-per-account-month 1100 --seed 42 \
		--platform asterisk --platform-accounts $(DEMO_SWITCH_ACCOUNTS)
	$(BIN)/callbill --warehouse $(WAREHOUSE) land $(DEMO_DIR)/landing
	$(BIN)/callbill --warehouse $(WAREHOUSE) close $(DEMO_CLOSE_MONTH)
	@$(BIN)/callbill --warehouse $(WAREHOUSE) status > $(DEMO_DIR)/status.txt
	@echo
	@sed -n '/^switches/,/^$$/p' $(DEMO_DIR)/status.txt
	@echo "Warehouse:  $(WAREHOUSE)"
	@echo "  $(BIN)/python -c \"import duckdb; print(duckdb.connect('$(WAREHOUSE)', read_only=True).sql('select * from published.invoices limit 5'))\""
	@echo "Dagster UI: make ui   (http://127.0.0.1:3000)"
	@echo "Dashboards: make dashboards   (http://127.0.0.1:8501)"

# The fast tier (tests/fast: unit, property, definitions, landing, dbt unit tests on an empty build)
# while working; `make test` runs both tiers on two workers, a test file per worker at a time
# (files share their closes through module and session fixtures).
test-fast: install
	$(BIN)/pytest -q tests/fast

# The tests' warehouses and Dagster homes in memory where a tmpfs has room (a run peaks at ~2 GB):
# each close commits ~1,400 Dagster events, each an fsync on a disk; a failed test's folder is kept
# (pyproject.toml).
TEST_TMPDIR := $(shell free_kb=$$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $$4}'); \
	[ -w /dev/shm ] && [ "$${free_kb:-0}" -gt 4000000 ] && echo /dev/shm || echo $${TMPDIR:-/tmp})

# Two workers, a test file per worker at a time, the longest files first (tests/conftest.py).
TWO_WORKERS := -n 2 --dist loadfile --no-loadscope-reorder

test: install
	TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest -q $(TWO_WORKERS) -m "not ui and not spark" tests

# Browser tests: a real web server and Debian's headless chromium (no browser download), with the
# Spark extra installed as after every .ci/run: it must not change the DuckDB path the UI runs.
test-ui: install spark-install browser
	$(BIN)/pytest -q -m ui

# Spark: dbt-spark with an in-process local Spark (Java 17), installed into the venv on demand.
spark-install: $(VENV)/.spark-installed

$(VENV)/.spark-installed: $(VENV)/.installed requirements-spark.lock
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-spark.lock -c requirements.lock
	touch $@

# Two workers: the whole close's file (most of the time) beside the model checks' file.
test-spark: install spark-install
	$(BIN)/pytest -q $(TWO_WORKERS) -m spark

# The browser and Spark tests in one run on two workers. test_spark.py's closes run on one worker
# (most of the time) while the other takes the model checks, then the browser tests.
test-ui-and-spark: install spark-install browser
	$(BIN)/pytest -q $(TWO_WORKERS) -m "ui or spark"

# CI's last step: the browser tests and the Spark tests that start no Spark cluster (those are
# `make test-spark`), test by test on two workers (test_ui.py is most of it).
test-ui-and-spark-without-cluster: install spark-install browser
	TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest -q -n 2 --dist load -m "(ui or spark) and not spark_cluster"

browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# SQL: sqlfluff to the models' conventions (.sqlfluff), a process per core; it renders with the macros, no warehouse.
lint: install
	$(BIN)/ruff check callbill orchestration bench tests lint
	$(BIN)/ruff format --check callbill orchestration bench tests lint
	$(BIN)/sqlfluff lint --processes 0 models macros data-tests

ui: install
	$(BIN)/python -m orchestration.speedups.dagster_events $(DAGSTER_HOME)
	PATH=$(abspath $(BIN)):$$PATH CALLBILL_WAREHOUSE=$(abspath $(WAREHOUSE)) CALLBILL_LANDING=$(abspath $(LANDING)) \
		$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# make bench CDRS=10M  (1M, 10M, 100M; BENCH_ARGS=--next-month adds the next month; see BENCHMARKS.md)
CDRS ?= 1M
bench: install
	$(BIN)/python -m bench --cdrs $(CDRS) $(BENCH_ARGS)

dashboards: install
	$(BIN)/callbill --warehouse $(WAREHOUSE) dashboards

# Finance's data dictionary: dbt's docs site, generated offline and served on 127.0.0.1. Its catalog
# (column types) is read from the warehouse of `make demo`, so run that first.
docs: install
	CALLBILL_WAREHOUSE=$(abspath $(WAREHOUSE)) $(BIN)/dbt docs generate --profiles-dir profiles
	$(BIN)/dbt docs serve --profiles-dir profiles --host 127.0.0.1 --port 8080 --no-browser

clean:
	rm -rf target logs $(DEMO_DIR) warehouse
