"""Retention: delete raw person-level rows older than N school years (docs/spec/PRIVACY.md, default 2),
and the archived and quarantined raw files from before the same cutoff (loading/archive.py).

Monthly; published aggregates stay. It emits no raw Asset event on purpose: the next
regular build picks up the smaller raw layer.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, Param, dag, task

from ouderpeil.orchestration import common, steps


@dag(
    dag_id=common.RETENTION_DAG_ID,
    # No start date, and the next slot only: unpausing (make demo) never purges at once.
    schedule=CronTriggerTimetable(
        "0 3 2 * *", timezone="Europe/Amsterdam", run_immediately=common.NEXT_SLOT_ONLY
    ),
    catchup=False,
    max_active_runs=1,
    default_args=common.default_args(),
    tags=common.TAGS,
    doc_md=__doc__,
    params={
        "keep_school_years": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="empty = OUDERPEIL_RETENTION_SCHOOL_YEARS",
        ),
    },
)
def ouderpeil_retention():
    @task(pool=common.WAREHOUSE_POOL)
    def purge(params=None) -> dict:
        return steps.purge(params.get("keep_school_years"))

    purge()


ouderpeil_retention()
