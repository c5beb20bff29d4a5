"""Build: raw gate -> dbt (one task per model) -> marts gate -> publish.

Scheduled on the raw tables' Assets (any new load). A failing gate or dbt node stops the run
before ``publish``, so Superset and the exports keep the last validated serving file.

Backfill one school year without touching the others: trigger with
``{"period": "2024-2025"}``; dbt then gets ``--vars '{"school_year": "2024-2025"}'`` and
the incremental indicator tables replace only that year's rows.
"""
from __future__ import annotations

from airflow.sdk import AssetAny, Param, chain, dag, task

from ouderpeil.config import Settings
from ouderpeil.orchestration import common, steps
from ouderpeil.orchestration.assets import MARTS_ASSET, RAW_ASSETS, SERVING_ASSET
from ouderpeil.orchestration.dbt import dbt_task_group
from ouderpeil.orchestration.runs import pipeline_run_id


def _run_id(context) -> str:
    return pipeline_run_id(context["dag"].dag_id, context["run_id"])


@dag(
    dag_id=common.BUILD_DAG_ID,
    schedule=AssetAny(*RAW_ASSETS.values()),
    start_date=common.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=common.default_args(),
    tags=common.TAGS,
    doc_md=__doc__,
    params={
        "period": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{4}$",
                        description="Backfill: rebuild only this school year (e.g. 2024-2025);"
                                    " empty = every year"),
    },
)
def ouderpeil_build():
    @task
    def check_params(params=None) -> str | None:
        return steps.check_period(params.get("period"))

    @task(pool=common.WAREHOUSE_POOL)
    def gate_raw(**context) -> str:
        return steps.gate("raw", _run_id(context))

    dbt = dbt_task_group(Settings.from_env())  # parse time: only paths, nothing is created
    if dbt is None:  # no dbt manifest at parse time: one task for the whole build
        @task(task_id="dbt_build", pool=common.WAREHOUSE_POOL)
        def dbt_build(params=None) -> str:
            return steps.run_dbt_build(params.get("period"))

        dbt = dbt_build()

    @task(pool=common.WAREHOUSE_POOL, outlets=[MARTS_ASSET])
    def gate_marts(**context) -> str:
        return steps.gate("marts", _run_id(context))

    @task(pool=common.WAREHOUSE_POOL, outlets=[SERVING_ASSET])
    def publish(**context) -> str:
        return steps.publish(_run_id(context))

    chain(check_params(), gate_raw(), dbt, gate_marts(), publish())


ouderpeil_build()
