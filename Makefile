# Ouderpeil: every environment the project needs is built here from the lock files in
# requirements/. Nothing is installed by hand.
#   make demo   start Airflow (:8080), run the pipeline on sample data, start Superset (:8088)
#   make test   run the test suite (what .ci/run calls)
SHELL := /bin/bash
PYTHON ?= python3.11
ROOT := $(abspath .)
TOOLS := $(ROOT)/.tools
UV := $(TOOLS)/bin/uv
VENV := $(ROOT)/.venv
SUPERSET_VENV := $(ROOT)/.venv-superset
LINT_VENV := $(ROOT)/.venv-lint
SPARK_VENV := $(ROOT)/.venv-spark
export UV_CACHE_DIR ?= $(HOME)/.cache/uv
export UV_LINK_MODE := copy
# Compile bytecode at install: otherwise every task process recompiles GX, dbt and Airflow.
export UV_COMPILE_BYTECODE := 1

.PHONY: demo test test-fast test-spark env superset-env spark-env lint-env lint fix java browser bench stop clean-data lock help

help:
	@echo "make demo   - start Airflow on :8080 (scheduler, UI), run the pipeline on sample data, serve Superset on :8088"
	@echo "make test   - install what the tests need and run them"
	@echo "make test-fast - the tests not marked slow (a few minutes)"
	@echo "make lint   - ruff and sqlfluff, check only (what .ci/run calls first)"
	@echo "make fix    - ruff format, ruff check --fix, sqlfluff fix"
	@echo "make stop   - stop the demo's Airflow and Superset"
	@echo "make bench  - benchmarks at board and region scale (bench/results/)"
	@echo "make test-spark - the dbt project on Spark local[2], compared row for row with DuckDB"
	@echo "make lock   - re-resolve requirements/*.lock.txt from requirements/*.in"

$(UV): requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet -r requirements/tools.txt
	@touch $(UV)

# Pipeline environment: Airflow 3 + dbt 1.11 + GX + the ouderpeil package (editable).
$(VENV)/.installed: $(UV) requirements/airflow.lock.txt pyproject.toml
	test -x $(VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(VENV) $(UV) pip sync --quiet requirements/airflow.lock.txt
	VIRTUAL_ENV=$(VENV) $(UV) pip install --quiet --no-deps -e .
	@touch $@

# Superset has its own environment: its Flask/SQLAlchemy pins clash with Airflow's.
$(SUPERSET_VENV)/.installed: $(UV) requirements/superset.lock.txt
	test -x $(SUPERSET_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(SUPERSET_VENV)
	VIRTUAL_ENV=$(SUPERSET_VENV) $(UV) pip sync --quiet requirements/superset.lock.txt
	@touch $@

# Lint tools have their own environment: sqlfluff's dbt templater brings dbt-core and
# dbt-duckdb at the pipeline's versions (requirements/lint.in).
$(LINT_VENV)/.installed: $(UV) requirements/lint.lock.txt
	test -x $(LINT_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(LINT_VENV)
	VIRTUAL_ENV=$(LINT_VENV) $(UV) pip sync --quiet requirements/lint.lock.txt
	@touch $@

# Spark has its own environment (pyspark + dbt-spark in session mode): the same dbt project
# on a second engine, for the engine comparison (make test-spark, docs/SCALE_OUT.md).
$(SPARK_VENV)/.installed: $(UV) requirements/spark.lock.txt
	test -x $(SPARK_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(SPARK_VENV)
	VIRTUAL_ENV=$(SPARK_VENV) $(UV) pip sync --quiet requirements/spark.lock.txt
	@touch $@

env: $(VENV)/.installed
superset-env: $(SUPERSET_VENV)/.installed
lint-env: $(LINT_VENV)/.installed
spark-env: $(SPARK_VENV)/.installed

# sqlfluff's dbt templater compiles the project: it needs a profile target, not a warehouse
# with data (a throwaway DuckDB file under the lint venv; compiling reads no table).
LINT_DBT_ENV := OUDERPEIL_WAREHOUSE=$(LINT_VENV)/lint.duckdb DBT_SEND_ANONYMOUS_USAGE_STATS=false \
	DBT_NO_VERSION_CHECK=true DO_NOT_TRACK=1

# Check only: changes nothing, fails on any finding.
lint: lint-env
	$(LINT_VENV)/bin/ruff format --check .
	$(LINT_VENV)/bin/ruff check .
	$(LINT_DBT_ENV) $(LINT_VENV)/bin/sqlfluff lint dbt_project

# Rewrites files: the fixable lint findings, then the format (a fix can lengthen a line);
# what is left needs a hand edit.
fix: lint-env
	-$(LINT_VENV)/bin/ruff check --fix .
	$(LINT_VENV)/bin/ruff format .
	-$(LINT_DBT_ENV) $(LINT_VENV)/bin/sqlfluff fix dbt_project

# Spark needs a Java runtime; Debian's OpenJDK 17 (like chromium, from apt).
java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing Debian openjdk-17-jre-headless (Spark)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

# Headless Chromium for the dashboard screenshots comes from Debian.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium (browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: env superset-env
	$(VENV)/bin/python -m ouderpeil.demo

stop:
	-$(VENV)/bin/python -m ouderpeil.demo --stop

# On both cores: pytest-xdist, whole modules per worker (tests/conftest.py, SUPERSET_MODULES).
test: env superset-env browser
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile

# The dbt project on Spark local[2] next to DuckDB on the same inputs (tests/spark/).
# Its own --basetemp: a second pytest session under /tmp/pytest-of-<user> resets that folder's
# mode, which would lock the unprivileged Superset of a `make test` running beside it out.
test-spark: env spark-env java
	OUDERPEIL_SPARK_VENV=$(SPARK_VENV) $(VENV)/bin/python -m pytest -m spark -rP \
	  --basetemp=$(ROOT)/.pytest-spark tests/spark

# Everything not marked slow: no warehouse build, no Airflow, Superset or browser.
test-fast: env
	$(VENV)/bin/python -m pytest -m "not slow"

bench: env superset-env
	$(VENV)/bin/python -m bench.run

lock: $(UV)
	$(UV) pip compile --quiet --python-version 3.11 requirements/airflow.in -o requirements/airflow.lock.txt
	$(UV) pip compile --quiet --python-version 3.11 requirements/superset.in -o requirements/superset.lock.txt
	$(UV) pip compile --quiet --python-version 3.11 requirements/lint.in -o requirements/lint.lock.txt
	$(UV) pip compile --quiet --python-version 3.11 requirements/spark.in -o requirements/spark.lock.txt

clean-data:
	rm -rf data
