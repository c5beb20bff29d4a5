# Ouderpeil pipeline image: Airflow 3 (api-server, scheduler with LocalExecutor, dag-processor,
# triggerer) + dbt + Great Expectations + the ouderpeil package, all from the lock file.
# Build from the repository root:  docker compose build airflow-init
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN useradd --create-home --uid 50000 --gid 0 airflow \
 && python -m venv /opt/venv

WORKDIR /opt/ouderpeil
# Dependencies first (cached layer): exactly the lock file, plus the Postgres driver.
COPY requirements/airflow.lock.txt requirements/airflow.lock.txt
COPY docker/requirements-postgres.txt docker/requirements-postgres.txt
RUN pip install --no-deps -r requirements/airflow.lock.txt -r docker/requirements-postgres.txt

# The package (editable, so Settings' repo-relative defaults point at /opt/ouderpeil), the
# DAGs, the dbt project and the expectation suites.
COPY pyproject.toml ./
COPY ouderpeil ouderpeil
COPY dags dags
COPY dbt_project dbt_project
COPY expectations expectations
COPY dashboards dashboards
RUN pip install --no-deps -e .

# dbt manifest for the per-model tasks of the build DAG (cosmos LoadMode.DBT_MANIFEST): parsed
# once here, so the dag-processor never starts dbt. The warehouse path is only a placeholder.
ENV OUDERPEIL_DBT_MANIFEST=/opt/ouderpeil/dbt_manifest/manifest.json
RUN OUDERPEIL_WAREHOUSE=/tmp/parse-only.duckdb DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    dbt parse --project-dir dbt_project --profiles-dir dbt_project \
              --target-path /opt/ouderpeil/dbt_manifest --log-path /tmp/dbt-logs \
 && rm -rf /tmp/dbt-logs /tmp/parse-only.duckdb \
 && mkdir -p /opt/airflow /data \
 && chown -R airflow:0 /opt/airflow /data /opt/ouderpeil/dbt_project

USER airflow
