# Two commands a newcomer needs: `make demo` (the whole warehouse, end to end) and
# `make test` (the suite). Everything runs from the virtual environment in .venv,
# installed from requirements.lock (exact pins, hashes), the same lock CI uses.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export DAGSTER_HOME ?= $(CURDIR)/dagster_home
export DBT_PROFILES_DIR ?= $(CURDIR)
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export WAREHOUSE_DIR ?= $(CURDIR)/.warehouse
export LANDING_DIR ?= $(CURDIR)/data/landing
export TRUTH_DIR ?= $(CURDIR)/data/truth
# the warehouse: `make demo TARGET=postgres` (connection from PGHOST, PGPORT, PGUSER,
# PGDATABASE, PGPASSWORD; without PGHOST the demo starts a throwaway server of its own)
ifdef TARGET
export WAREHOUSE_TARGET := $(TARGET)
endif

.PHONY: help venv prepare generate demo test ui bench bench-targets clean spark-cluster-start spark-cluster-stop spark-cluster-status

help:
	@echo "make demo   generate the default company and materialize every asset through Dagster"
	@echo "            (TARGET=postgres: into PostgreSQL; TARGET=spark: a local Spark session;"
	@echo "            TARGET=spark_thrift: a Spark cluster, started for the demo unless SPARK_THRIFT_HOST is set)"
	@echo "make test   run the whole test suite"
	@echo "make ui     the Dagster UI on http://127.0.0.1:3000"
	@echo "make bench  the benchmark (outside the test suite)"
	@echo "make bench-targets  the whole pipeline timed on each warehouse target, marts compared"
	@echo "make spark-cluster-start / -stop / -status"
	@echo "            a standalone Spark cluster on 127.0.0.1 (master, SPARK_WORKERS workers, Thrift"
	@echo "            server on SPARK_THRIFT_PORT) for TARGET=spark_thrift"

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# uv (pinned with its hashes in the same lock) installs the rest in seconds
	@awk '/^uv==/{p=1} p{print} p&&!/\\$$/{exit}' requirements.lock > $(VENV)/uv-requirement.txt
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r $(VENV)/uv-requirement.txt
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(PY) --require-hashes requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

# dbt's manifest, which the Dagster definitions read instead of parsing dbt at import time.
prepare: venv
	$(PY) -m orchestration.prepare

generate: venv
	$(PY) -m orchestration.sources.generate --out $(LANDING_DIR) --truth $(TRUTH_DIR)

demo: venv
	$(PY) -m orchestration.demo

# two workers (pytest-xdist): whole groups of tests per worker, tests/conftest.py says which
TEST_WORKERS ?= 2
test: venv
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

ui: prepare
	$(VENV)/bin/dagster dev --host 127.0.0.1 --port 3000

# every stage against the same work done directly in DuckDB (bench/README.md); a smoke
# test of every stage in a few minutes: make bench BENCH_ARGS=--quick
BENCH_ARGS ?= --scales 1.1,11,110 --runs 3
bench: venv
	$(PY) -m bench.pipeline $(BENCH_ARGS)

# the whole Dagster run on each warehouse target, one process each, and every mart compared
# by checksum (bench/README.md, "Per warehouse target"); e.g.
# make bench-targets BENCH_TARGETS_ARGS="--scale 110 --landing /tmp/g110/landing --targets duckdb,postgres"
BENCH_TARGETS_ARGS ?= --scale 1.1 --targets duckdb,postgres,spark
bench-targets: venv
	$(PY) -m bench.targets $(BENCH_TARGETS_ARGS)

# a standalone Spark cluster on 127.0.0.1 for the spark_thrift target (orchestration/spark/cluster.py:
# ports from SPARK_MASTER_PORT, SPARK_MASTER_WEBUI_PORT, SPARK_WORKER_WEBUI_PORT, SPARK_THRIFT_PORT)
SPARK_WORKERS ?= 2
spark-cluster-start: venv
	$(PY) -m orchestration.spark.cluster start --workers $(SPARK_WORKERS)

spark-cluster-stop: venv
	$(PY) -m orchestration.spark.cluster stop

spark-cluster-status: venv
	$(PY) -m orchestration.spark.cluster status

clean:
	rm -rf target logs .warehouse data .artifacts dagster_home/storage dagster_home/logs dagster_home/history dagster_home/schedules
