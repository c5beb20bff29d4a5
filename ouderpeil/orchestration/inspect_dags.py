"""`python -m ouderpeil.orchestration.inspect_dags`: parse dags/ like the dag-processor does and
print every DAG's schedule, params and tasks (pool, retries, trigger rule, outlets) as JSON.

Needs no metadata database, so it is what the DagBag test and a quick "did my DAG import?"
check use. Exit status 1 when any DAG file has an import error.
"""

from __future__ import annotations

import argparse
import json
import sys

from ouderpeil.config import REPO_ROOT


def _cron_timetable(timetable) -> dict | None:
    from airflow.serialization.encoders import encode_timetable

    encoded = encode_timetable(timetable)
    fields = encoded.get("__var") or {}
    return fields if "expression" in fields else None


def _asset_names(condition) -> set[str]:
    """Names of the Assets in an asset schedule (Asset, AssetAny/AssetAll trees)."""
    if condition is None:
        return set()
    if hasattr(condition, "objects"):
        return set().union(*(_asset_names(o) for o in condition.objects))
    return {getattr(condition, "name", str(condition))}


def describe(dag_folder: str | None = None) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    from ouderpeil.orchestration.common import WAREHOUSE_POOL

    # known_pools: a task naming a pool that is not in this set is an import error.
    bag = DagBag(
        dag_folder=dag_folder or str(REPO_ROOT / "dags"),
        known_pools={"default_pool", WAREHOUSE_POOL},
    )
    out: dict = {
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dags": {},
    }
    for dag_id, dag in sorted(bag.dags.items()):
        tasks = {}
        for t in dag.tasks:
            tasks[t.task_id] = {
                "operator": type(t).__name__,
                "pool": t.pool,
                "retries": t.retries,
                "retry_exponential_backoff": float(t.retry_exponential_backoff or 0),
                "max_retry_delay": t.max_retry_delay.total_seconds() if t.max_retry_delay else None,
                "has_retry_policy": bool(getattr(t, "retry_policy", None)),
                "on_failure_callback": bool(t.on_failure_callback),
                "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
                "outlets": [getattr(o, "name", str(o)) for o in (t.outlets or [])],
                "upstream": sorted(t.upstream_task_ids),
                "vars": getattr(t, "vars", None),
                # dbt tasks: only the plan's variables (the rest of os.environ is not ours)
                "env": {
                    k: v
                    for k, v in (getattr(t, "env", None) or {}).items()
                    if k.startswith("OUDERPEIL_")
                },
            }
        out["dags"][dag_id] = {
            "timetable": type(dag.timetable).__name__,
            "start_date": dag.start_date.isoformat() if dag.start_date else None,
            "schedule": getattr(dag.timetable, "_expression", None),
            # A cron timetable as the scheduler stores it: a test rebuilds it to ask when it runs.
            "cron_timetable": _cron_timetable(dag.timetable),
            "asset_schedule": sorted(_asset_names(getattr(dag.timetable, "asset_condition", None))),
            "params": {k: dag.params[k] for k in dag.params},
            "max_active_runs": dag.max_active_runs,
            "catchup": dag.catchup,
            "tasks": tasks,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dags-folder", help="default: <repo>/dags")
    parser.add_argument("--json", help="write the JSON here (Airflow logs to stdout too)")
    args = parser.parse_args(argv)
    result = describe(args.dags_folder)
    text = json.dumps(result, indent=2, default=str)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        print(text)
    return 1 if result["import_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
