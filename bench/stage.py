"""Run ONE pipeline stage in this process and write its timing as JSON.

`python -m bench.stage <stage> --result out.json [--period 2025-2026] [--run-id ID] [--profile f]`

bench.run starts every stage in a fresh process, so each stage pays its own imports and its
peak memory is its own (VmHWM, plus the subprocesses it waits for: dbt). The settings come from the OUDERPEIL_* environment the
harness sets. `seconds` is the time inside the stage function only (imports excluded); the
harness adds the wall time of the whole process beside it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.rss import peak_rss_mib
from ouderpeil.config import Settings

STAGES: dict[str, Callable] = {}


def stage(*names: str):
    def register(fn):
        for name in names:
            STAGES[name] = fn
        return fn

    return register


@stage("load", "load_day")
def run_load(settings: Settings, args) -> dict:
    from ouderpeil.loading import load_inbox

    report = load_inbox(settings)
    return {"report": _summary(report)}


@stage("gate_raw", "gate_raw_day")
def run_gate_raw(settings: Settings, args) -> dict:
    from ouderpeil.quality import gate

    gate(settings, "raw", args.run_id)
    return {}


@stage("dbt_build", "dbt_build_incremental")
def run_dbt_build(settings: Settings, args) -> dict:
    from ouderpeil.transform import build

    result = build(settings)  # as the build DAG: the school years new loads touch
    if getattr(result, "success", True) is False:
        raise RuntimeError(f"dbt build failed: {result}")
    details = {"result": _summary(result)}
    if hasattr(result, "timings"):  # per model and test, slowest first: where dbt's time goes
        timings = sorted(result.timings().items(), key=lambda kv: kv[1], reverse=True)
        details["dbt_elapsed"] = getattr(result, "elapsed", None)
        details["node_seconds_total"] = sum(t for _, t in timings)
        details["slowest_nodes"] = dict(timings[:25])
    return details


@stage("gate_marts", "gate_marts_day")
def run_gate_marts(settings: Settings, args) -> dict:
    from ouderpeil.quality import gate

    gate(settings, "marts", args.run_id)
    return {}


@stage("daily_one_process")
def run_daily_one_process(settings: Settings, args) -> dict:
    """The day through load, raw gate, build, marts gate and publish in ONE process
    (`ouderpeil run`): Great Expectations is imported once, not once per gate."""
    from ouderpeil.pipeline import run_chain

    serving, seconds = run_chain(settings, args.run_id)
    return {"serving_file": str(serving), "step_seconds": seconds}


@stage("publish", "publish_day")
def run_publish(settings: Settings, args) -> dict:
    from ouderpeil.publish import publish

    return {"serving_file": str(publish(settings, args.run_id))}


@stage("export")
def run_export(settings: Settings, args) -> dict:
    from ouderpeil.export import export

    period = args.period or latest_school_year(settings.serving_path)
    out = export(settings, period=period, fmt=args.format)
    return {"period": period, "format": args.format, "out": str(out)}


@stage("disclosure_audit")
def run_disclosure_audit(settings: Settings, args) -> dict:
    """The attacker on the published serving file (ouderpeil/disclosure_audit.py) and what
    disclosure control costs (share withheld, laag-hoog gaps still shown per grain)."""
    import duckdb

    from ouderpeil.disclosure_audit import audit_file
    from ouderpeil.disclosure_metrics import gap_visibility, suppressed_share

    res = audit_file(settings.serving_path)
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        share, gaps = suppressed_share(con), gap_visibility(con)
    finally:
        con.close()
    return {
        "summary": res.summary(),
        "cells": res.cells,
        "suppressed": res.suppressed,
        "recovered": len(res.recovered),
        "unknowns": res.unknowns,
        "lps": res.lps,
        "suppressed_share": share,
        "gaps_shown": gaps,
    }


@stage("airflow")
def run_airflow(settings: Settings, args) -> dict:
    """The whole chain through Airflow's DAGs; bench.run subtracts the stage times."""
    from ouderpeil.orchestration.local import run_pipeline_dags

    details: dict = {}
    states = run_pipeline_dags(
        settings, airflow_home=settings.data_dir / "airflow", details=details
    )
    states = {str(k): str(v) for k, v in dict(states).items()}
    failed = {k: v for k, v in states.items() if "success" not in v.lower()}
    if failed:
        raise RuntimeError(f"DAG runs did not succeed: {failed}")
    dag_seconds = {
        k: getattr(v, "seconds", None) for k, v in details.items() if hasattr(v, "seconds")
    }
    tasks = {
        k: len(getattr(v, "task_states", {}) or {})
        for k, v in details.items()
        if hasattr(v, "task_states")
    }
    return {
        "dag_states": states,
        "dag_seconds": dag_seconds,
        "tasks_per_dag": tasks,
        "prepare_seconds": details.get("prepare"),
    }


@stage("airflow_day")
def run_airflow_day(settings: Settings, args) -> dict:
    """One new day through the ingest and build DAGs of the Airflow home that just ran the full
    chain (stage `airflow`); bench.run subtracts the daily stage times."""
    from ouderpeil.orchestration.local import BUILD, INGEST, airflow_env, run_dag

    home = settings.data_dir / "airflow"
    env = airflow_env(settings, home)
    dag_seconds = {
        dag_id: run_dag(settings, home, dag_id, env=env).seconds for dag_id in (INGEST, BUILD)
    }
    return {"dag_seconds": dag_seconds}


@stage("baseline")
def run_baseline(settings: Settings, args) -> dict:
    from bench.baseline import run_baseline_sql

    return run_baseline_sql(settings.inbox_dir)


@stage("floor")
def run_floor(settings: Settings, args) -> dict:
    from bench.floor import run_floor_sql

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return run_floor_sql(settings.inbox_dir, settings.data_dir)


def latest_school_year(serving_path: Path) -> str:
    import duckdb

    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        row = con.execute(
            "SELECT max(period) FROM indicator WHERE period_type = 'school_year'"
        ).fetchone()
    finally:
        con.close()
    if not row or not row[0]:
        raise RuntimeError(f"no school-year period in {serving_path}")
    return row[0]


def _summary(obj, limit: int = 2000) -> str:
    text = obj.to_text() if hasattr(obj, "to_text") else str(obj)
    return text if len(text) <= limit else text[:limit] + " …"


def children_peak_rss_mib() -> float:
    """Largest peak of the subprocesses this stage waited for (dbt runs as one). Inflated at
    most up to this process's RSS at fork time, which peak_rss_mib already bounds."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("stage", choices=sorted(STAGES))
    p.add_argument("--result", required=True, help="write the JSON result here")
    p.add_argument("--run-id", default="bench")
    p.add_argument("--period", help="export period (default: latest school year served)")
    p.add_argument("--format", default="csv", help="export format")
    p.add_argument("--profile", help="write a cProfile .prof file of the stage here")
    args = p.parse_args(argv)

    settings = Settings.from_env()
    settings.ensure_dirs()
    result: dict = {"stage": args.stage, "ok": False}
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()

    start = time.perf_counter()
    try:
        if profiler:
            profiler.enable()
        try:
            result["details"] = STAGES[args.stage](settings, args)
        finally:
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
        result["ok"] = True
    except ModuleNotFoundError as exc:  # a part of the pipeline that is not written yet
        result["error"] = f"missing module: {exc.name}"
        result["missing"] = True
    except Exception as exc:  # noqa: BLE001 - reported in the JSON, the harness goes on
        result["error"] = f"{type(exc).__name__}: {exc}"[:4000]
        result["traceback"] = traceback.format_exc()[-4000:]
    result["seconds"] = time.perf_counter() - start
    result["maxrss_self_mib"] = peak_rss_mib()
    result["maxrss_children_mib"] = children_peak_rss_mib()
    Path(args.result).write_text(json.dumps(result, indent=2, default=str))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
