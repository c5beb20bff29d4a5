# Ouderpeil dashboards image: Superset 6.1 from its own lock file (its Flask/SQLAlchemy pins
# clash with Airflow's) + ouderpeil.superset_bootstrap + dashboards/ as code.
# Build from the repository root:  docker compose build superset
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/ouderpeil

RUN useradd --create-home --uid 50001 --gid 0 superset \
 && python -m venv /opt/venv

WORKDIR /opt/ouderpeil
COPY requirements/superset.lock.txt requirements/superset.lock.txt
COPY docker/requirements-postgres.txt docker/requirements-postgres.txt
RUN pip install --no-deps -r requirements/superset.lock.txt -r docker/requirements-postgres.txt

# Only what runs inside Superset: the bootstrap (stdlib + superset) and the dashboards.
# ouderpeil/__init__.py is copied so `python -m ouderpeil.superset_bootstrap` resolves; the
# rest of the package (DuckDB loaders, dbt, GX) is not installed here.
COPY ouderpeil/__init__.py ouderpeil/__init__.py
COPY ouderpeil/superset_bootstrap ouderpeil/superset_bootstrap
COPY dashboards dashboards

RUN mkdir -p /superset_home && chown -R superset:0 /superset_home

USER superset
