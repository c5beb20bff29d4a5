"""The bodies of the DAG tasks: settings from the environment, one stage function each.

Each returns something small and JSON-serialisable (it becomes the task's XCom and shows in
the UI) and prints the stage's own report to the task log.
"""

from __future__ import annotations

import logging

import duckdb
from airflow.sdk.exceptions import AirflowSkipException

from ouderpeil.config import Settings
from ouderpeil.orchestration import callbacks
from ouderpeil.orchestration.runs import check_school_year

log = logging.getLogger(__name__)


def settings() -> Settings:
    """Settings of this worker: the OUDERPEIL_* environment (compose, local runner).

    Also lets go of a warehouse connection an earlier dbt task left open in this process.
    """
    from ouderpeil.orchestration.preflight import require_environment

    require_environment()  # a setup error, said once by the DAG's first task
    release_inprocess_dbt()
    s = Settings.from_env()
    s.ensure_dirs()
    return s


def release_inprocess_dbt() -> None:
    """Close the DuckDB handle dbt-duckdb caches per process.

    Under `airflow dags test` (local runner, tests) every task runs in the same process, and
    cosmos runs dbt in-process: dbt-duckdb keeps the warehouse open afterwards, and DuckDB then
    refuses the read-only connection of the quality gate ("different configuration"). With a
    real executor each task has its own process and dbt-duckdb is never imported here.
    """
    import sys

    if "dbt.adapters.duckdb.connections" not in sys.modules:
        return
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def pending_files(s: Settings, source: str) -> list[str] | None:
    """Inbox files of ``source`` the loader has not loaded yet (same test: content hash).

    None means "cannot tell right now": the warehouse is locked by a process outside Airflow.
    """
    from ouderpeil.loading.hash_cache import HashCache
    from ouderpeil.loading.loader import file_sha256, inbox_entries

    entries = inbox_entries(s.inbox_dir / source)
    files = [p for p, refusal in entries if refusal is None]
    # Links, folders and devices are pending too: the load reports and quarantines them.
    refused = [p.name for p, refusal in entries if refusal is not None]
    if not files:
        return refused
    loaded: set[str] = set()
    if s.warehouse_path.exists():
        try:
            con = duckdb.connect(str(s.warehouse_path), read_only=True)
        except duckdb.IOException as exc:  # another process holds the write lock
            log.info("warehouse busy (%s); will look again at the next poke", exc)
            return None
        try:
            loaded = {
                h
                for (h,) in con.execute(
                    "SELECT file_hash FROM raw.raw_load_files WHERE source = ? AND status = 'loaded'",
                    [source],
                ).fetchall()
            }
        except duckdb.CatalogException:  # no load has run yet
            loaded = set()
        finally:
            con.close()
    hashes = HashCache(s)
    pending = refused + [p.name for p in files if file_sha256(p, hashes) not in loaded]
    hashes.save()
    return pending


def pending_by_source(sources) -> dict[str, list[str]] | None:
    s = settings()
    out = {}
    for source in sources:
        files = pending_files(s, source)
        if files is None:
            return None
        if files:
            out[source] = files
    return out


def load_source(source: str) -> dict:
    """Load the new inbox files of one source; skip (no asset event) when none were new."""
    from ouderpeil.loading import load_inbox

    s = settings()
    report = load_inbox(s, sources=[source])
    print(report.to_text())
    loaded = [f.file_name for f in report.files if f.status == "loaded"]
    quarantined = [f for f in report.files if f.status == "quarantined"]
    for f in quarantined:
        # Not a task failure (the other files loaded), but someone has to look at the file.
        note = (
            f"Ouderpeil ingest: {source}/{f.file_name} was quarantined to "
            f"{s.quarantine_dir / source}: {f.message}"
        )
        log.warning("%s", note)
        callbacks.write_failure_log(s, note, kind="QUARANTINED")
        callbacks.notify(note)
    summary = {
        "source": source,
        "files_loaded": loaded,
        "files_quarantined": [f.file_name for f in quarantined],
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
    }
    if not loaded:
        # A skipped task emits no asset event, so the build DAG is not triggered for nothing.
        raise AirflowSkipException(f"no new files loaded for {source}: {summary}")
    return summary


def loaded_sources(sources) -> list[str]:
    """The sources whose load task of this ingest run loaded a file (skipped ones pushed
    nothing); the inbox_loaded task's XCom, so the build's trigger says what changed."""
    from airflow.sdk import get_current_context

    ti = get_current_context()["ti"]
    return [s for s in sources if ti.xcom_pull(task_ids=f"load_{s}")]


def check_period(period: str | None) -> str | None:
    """Validate the build/backfill param before anything touches the warehouse."""
    if period in (None, ""):
        return None
    return check_school_year(period)


def plan_build(period: str | None) -> dict:
    """What this build passes to dbt (build_plan.BuildArgs as a dict): the backfill param,
    else the school years new loads touch. Checks the param before anything else."""
    from ouderpeil.build_plan import build_args
    from ouderpeil.orchestration.dbt import manifest_path
    from ouderpeil.orchestration.preflight import check_dbt_project

    period = check_period(period)
    s = settings()
    # A dbt project that does not parse fails here once, not in every dbt task.
    if check_dbt_project(s, manifest_path(s)):
        print("the dbt project changed since its manifest was written: parsed it again")
    args = build_args(s, period)
    print(f"dbt builds {args.what}")
    return args.as_dict()


def run_dbt_build(plan: dict) -> str:
    """One task for the whole build (OUDERPEIL_DBT_TASKS=single, or no manifest at parse
    time); plan: the XCom of plan_build."""
    from ouderpeil.build_plan import BuildArgs
    from ouderpeil.transform import run_build

    result = run_build(settings(), BuildArgs(**plan))
    print(result)
    return str(result).splitlines()[0]


def gate(layer: str, run_id: str) -> str:
    """The Great Expectations gate; raises QualityGateFailed naming each failed expectation."""
    from ouderpeil.orchestration.preflight import check_calendar
    from ouderpeil.quality import gate as quality_gate

    s = settings()
    result = quality_gate(s, layer, run_id=run_id)  # prints the summary to the log
    if layer == "raw":
        # Dates are in range now: every school year with activity needs its holidays.
        check_calendar(s)
    return result.summary().splitlines()[0]


def publish(run_id: str) -> str:
    from ouderpeil.publish import publish as publish_serving

    path = publish_serving(settings(), run_id=run_id)
    print(f"published {path} for run {run_id}")
    return str(path)


def export(period: str, sector: str | None, board: str | None, fmt: str) -> str:
    from ouderpeil.export import export as export_indicators

    check_school_year(period)
    out = export_indicators(
        settings(), period=period, sector=sector or None, board=board or None, fmt=fmt
    )
    print(f"export written to {out}")
    return str(out)


def purge(keep_school_years: int | None) -> dict:
    from ouderpeil.retention import purge_and_rebuild

    result = purge_and_rebuild(settings(), keep_school_years=keep_school_years)
    print(result)
    return result
