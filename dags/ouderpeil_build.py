"""Build: plan -> raw gate -> dbt (one task per model) -> marts gate -> publish.

Scheduled on the ingest DAG's Asset ``ouderpeil_inbox_loaded`` (one event per ingest run that
loaded a new file, after all its loads). ``plan_build`` picks the school years the
new loads touch (ouderpeil.build_plan; every year after a project change or a new schools or
families file) and dbt rebuilds only those. A failing gate or dbt node stops the run before
``publish``, so Superset and the exports keep the last validated serving file.

Backfill one school year without touching the others: trigger with
``{"period": "2024-2025"}``; dbt then builds only that year (``OUDERPEIL_SCHOOL_YEARS``, the
macro ``build_school_years``) and the incremental indicator tables replace only its rows.
"""

from __future__ import annotations

from airflow.sdk import Param, chain, dag, task

from ouderpeil.config import Settings
from ouderpeil.orchestration import common, steps
from ouderpeil.orchestration.assets import INBOX_LOADED_ASSET, MARTS_ASSET, SERVING_ASSET
from ouderpeil.orchestration.dbt import dbt_task_group
from ouderpeil.orchestration.runs import pipeline_run_id


def _run_id(context) -> str:
    return pipeline_run_id(context["dag"].dag_id, context["run_id"])


@dag(
    dag_id=common.BUILD_DAG_ID,
    schedule=INBOX_LOADED_ASSET,
    start_date=common.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=common.default_args(),
    tags=common.TAGS,
    doc_md=__doc__,
    params={
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{4}$",
            description="Backfill: rebuild only this school year (e.g. 2024-2025);"
            " empty = every year",
        ),
    },
)
def ouderpeil_build():
    @task(pool=common.WAREHOUSE_POOL)
    def plan_build(params=None) -> dict:
        return steps.plan_build(params.get("period"))

    @task(pool=common.WAREHOUSE_POOL)
    def gate_raw(**context) -> str:
        return steps.gate("raw", _run_id(context))

    plan = plan_build()
    dbt = dbt_task_group(Settings.from_env())  # parse time: only paths, nothing is created
    if dbt is None:  # one task for the whole build (no manifest at parse time, or asked for)

        @task(task_id="dbt_build", pool=common.WAREHOUSE_POOL)
        def dbt_build(plan: dict) -> str:
            return steps.run_dbt_build(plan)

        dbt = dbt_build(plan)

    @task(pool=common.WAREHOUSE_POOL, outlets=[MARTS_ASSET])
    def gate_marts(**context) -> str:
        return steps.gate("marts", _run_id(context))

    @task(pool=common.WAREHOUSE_POOL, outlets=[SERVING_ASSET])
    def publish(**context) -> str:
        return steps.publish(_run_id(context))

    chain(plan, gate_raw(), dbt, gate_marts(), publish())


ouderpeil_build()
