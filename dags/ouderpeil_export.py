"""Export: indicator files for inspectors (csv|parquet|xlsx + datapackage.json + manifest).

Termly (1 January, 1 April, 1 August, Europe/Amsterdam): the school year of the term that just
closed. Trigger by hand with params period / sector / board / format for any other selection.
Reads only the published serving file, so it needs no warehouse slot.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, Param, dag, task

from ouderpeil.orchestration import common, steps
from ouderpeil.orchestration.runs import export_period_for


@dag(
    dag_id=common.EXPORT_DAG_ID,
    # No start date, and the next slot only: unpausing the DAG waits for the next term's end
    # instead of exporting at once (before anything is published).
    schedule=CronTriggerTimetable(
        "0 6 1 1,4,8 *", timezone="Europe/Amsterdam", run_immediately=common.NEXT_SLOT_ONLY
    ),
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
            description="School year, e.g. 2025-2026; empty = the school year of "
            "the term that just closed",
        ),
        "sector": Param(None, type=["null", "string"], enum=[None, "po", "vo", "mbo"]),
        "board": Param(None, type=["null", "string"], description="bestuursnummer; empty = all"),
        "format": Param("csv", type="string", enum=["csv", "parquet", "xlsx"]),
    },
)
def ouderpeil_export():
    @task
    def export_indicators(params=None, dag_run=None, logical_date=None) -> str:
        # Manual runs may have no logical date in Airflow 3: fall back to when it was asked for.
        period = params.get("period") or export_period_for(logical_date or dag_run.run_after)
        return steps.export(
            period, params.get("sector"), params.get("board"), params.get("format") or "csv"
        )

    export_indicators()


ouderpeil_export()
