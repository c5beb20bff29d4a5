"""Names and defaults shared by every Ouderpeil DAG."""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

from ouderpeil.orchestration import callbacks

INGEST_DAG_ID = "ouderpeil_ingest"
BUILD_DAG_ID = "ouderpeil_build"
EXPORT_DAG_ID = "ouderpeil_export"
RETENTION_DAG_ID = "ouderpeil_retention"
# The order in which the local runner (make demo, tests) runs them.
PIPELINE_DAG_IDS = (INGEST_DAG_ID, BUILD_DAG_ID, EXPORT_DAG_ID)

# DuckDB allows one read-write process per database file and a writer locks out every other
# process, readers included. Every task that opens the warehouse therefore takes a slot of this
# one-slot pool, so Airflow queues them instead of letting them fail on the file lock.
WAREHOUSE_POOL = "duckdb_writer"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = (
    "Ouderpeil: tasks that open the DuckDB warehouse (one writer process at a time)"
)

START_DATE = pendulum.datetime(2025, 8, 1, tz="Europe/Amsterdam")
# For the cron DAGs without a start date (export, retention): unpausing never runs the slot
# that has just passed, only the next one. Not run_immediately=False: Airflow 3 takes False
# to mean "run the past slot if it was less than a tenth of the gap between slots ago" (three
# days for the monthly retention, nine for the termly export), so a scheduler unpaused on
# 2 December purged at once. A zero window runs a past slot only at its exact second.
NEXT_SLOT_ONLY = dt.timedelta(0)
TAGS = ["ouderpeil"]

# A data problem (unreadable file, failed expectation, failing dbt model/test, unknown export
# selection) gives the same result on every try: fail at once and say why. Anything else
# (file lock, full disk, network for a webhook) is retried with exponential backoff.
DATA_ERRORS_FAIL_FAST = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception="ouderpeil.errors.OuderpeilError",
            action=RetryAction.FAIL,
            reason="data error: a retry would give the same result; fix the input",
        ),
        RetryRule(
            exception="cosmos.exceptions.CosmosDbtRunError",
            action=RetryAction.FAIL,
            reason="dbt failed (a model, a test or the project; the task log says "
            "which): a retry would give the same result",
        ),
    ]
)


def retries() -> int:
    """Retries per task: OUDERPEIL_AIRFLOW_RETRIES (default 3)."""
    return int(os.environ.get("OUDERPEIL_AIRFLOW_RETRIES", "3"))


def default_args() -> dict:
    """default_args of every Ouderpeil DAG (read at parse time, so env changes need a reparse)."""
    delay = float(os.environ.get("OUDERPEIL_AIRFLOW_RETRY_DELAY_SECONDS", "60"))
    return {
        "owner": "ouderpeil",
        "retries": retries(),
        "retry_delay": dt.timedelta(seconds=delay),
        # 1 min, 2 min, 4 min ... capped: a locked file or a busy disk gets time to clear.
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=30),
        "retry_policy": DATA_ERRORS_FAIL_FAST,
        "on_failure_callback": callbacks.on_failure,
    }
