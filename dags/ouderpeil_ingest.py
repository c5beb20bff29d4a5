"""Ingest: new inbox files -> raw.<source>, one task per source, one Asset event per raw table.

Runs on a schedule (OUDERPEIL_INGEST_SCHEDULE, default every 15 minutes); each run takes a short
look at the inbox (``find_new_files``: files whose content hash the loader has not loaded).
A source without new files is skipped and emits no Asset event; ``inbox_loaded`` runs after
every load and emits ``ouderpeil_inbox_loaded`` (the build DAG's schedule) only when at least
one load succeeded and none failed, so a build never starts on half-loaded data. Logic lives in ouderpeil.orchestration.steps.
"""

from __future__ import annotations

import os

from airflow.sdk import dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from ouderpeil.orchestration import common, steps
from ouderpeil.orchestration.assets import INBOX_LOADED_ASSET, RAW_ASSETS, SOURCES


@dag(
    dag_id=common.INGEST_DAG_ID,
    schedule=os.environ.get("OUDERPEIL_INGEST_SCHEDULE", "*/15 * * * *"),
    start_date=common.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=common.default_args(),
    tags=common.TAGS,
    doc_md=__doc__,
)
def ouderpeil_ingest():
    @task(pool=common.WAREHOUSE_POOL)
    def find_new_files() -> dict[str, list[str]]:
        pending = steps.pending_by_source(SOURCES)
        if pending is None:  # warehouse locked by a process outside Airflow: retry later
            raise RuntimeError("warehouse is locked by another process; retrying")
        print(f"new inbox files: {pending or 'none'}")
        return pending

    previous = find_new_files()
    loads = []
    for source in SOURCES:
        # Sources load in contract order (schools first: school ids are checked against it);
        # none_failed lets a source load when an earlier one had nothing new (skipped), but
        # not after an earlier load failed.
        @task(
            task_id=f"load_{source}",
            pool=common.WAREHOUSE_POOL,
            outlets=[RAW_ASSETS[source]],
            trigger_rule="none_failed",
        )
        def load(source: str = source) -> dict:
            pending = get_current_context()["ti"].xcom_pull(task_ids="find_new_files") or {}
            if source not in pending:
                raise AirflowSkipException(f"no new files for {source}")
            return steps.load_source(source)

        current = load()
        previous >> current
        previous = current
        loads.append(current)

    @task(outlets=[INBOX_LOADED_ASSET], trigger_rule="none_failed_min_one_success")
    def inbox_loaded() -> list[str]:
        return steps.loaded_sources(SOURCES)

    loads >> inbox_loaded()


ouderpeil_ingest()
