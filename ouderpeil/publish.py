"""Build the serving DuckDB file from the warehouse marts and swap it in atomically.

Superset and the exports read only this file, never the warehouse. It is written complete to a
temporary file next to the target and then moved over it with os.replace: a reader that opened
the old file keeps reading the old inode, a new connection sees the new file, and nobody ever
sees half a file. Nothing is written unless the marts gate passed for this run and the marts
are still exactly what the gate saw.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
from importlib import metadata
from pathlib import Path

import duckdb

from ouderpeil.config import REPO_ROOT, Settings
from ouderpeil.contracts import SOURCES
from ouderpeil.errors import QualityGateFailed
from ouderpeil.quality import records

log = logging.getLogger(__name__)

# serving table <- warehouse table, and the order that makes the file reproducible.
SERVED_MARTS = {
    "indicator": (
        "marts.mart_indicator_dashboard",
        "indicator_code, period_type, period, sector, board_id, school_id, ses_group",
    ),
    "channel_mix": (
        "marts.mart_channel_mix",
        "period_type, period, sector, board_id, school_id, ses_group, stream, channel",
    ),
    "national_reference": ("marts.mart_national_reference", "sector, indicator_code"),
    "equity_gap": ("marts.mart_equity_gap", "period, sector, board_id, school_id, indicator_code"),
}
# Columns that identify a person: a served table with one of these is family-level data.
PERSON_COLUMNS = {c.name for s in SOURCES.values() for c in s.columns if c.person_id} | {
    "contact_id",
    "message_id",
    "event_id",
    "response_id",
}


def code_version() -> str:
    """`git describe` of the checkout when there is one, else the installed package version."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--tags", "--dirty"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return f"ouderpeil {metadata.version('ouderpeil')}"


def _require_passed_gate(settings: Settings, run_id: str) -> dict:
    record = records.read_record(settings, "marts", run_id)
    if record is None:
        raise QualityGateFailed(
            f"publish refused: no marts quality gate result for run {run_id!r} "
            f"(run `ouderpeil validate --layer marts --run-id {run_id}` first)"
        )
    if not record["success"]:
        failed = "; ".join(
            f"{f['table']} {f['column']}: {f['expectation']}" for f in record["failures"]
        )
        raise QualityGateFailed(
            f"publish refused: the marts quality gate failed for run {run_id!r}: {failed}"
        )
    return record


def _require_unchanged_marts(record: dict, con) -> None:
    if record.get("fingerprint") != records.marts_fingerprint(con, catalog="wh"):
        raise QualityGateFailed(
            f"publish refused: the marts changed after the quality gate passed for run "
            f"{record['run_id']!r}; run the gate again"
        )


def _find_catalogue(con) -> str:
    """The dbt seed with the indicator definitions (schema depends on the dbt profile)."""
    rows = con.execute(
        "SELECT table_schema FROM information_schema.tables "
        "WHERE table_catalog = 'wh' AND table_name = 'indicator_catalogue' "
        "ORDER BY table_schema IN ('main', 'seeds') DESC, table_schema"
    ).fetchall()
    if not rows:
        raise QualityGateFailed(
            "publish refused: the indicator_catalogue seed is not in the "
            "warehouse (run `ouderpeil build`)"
        )
    return f"wh.{rows[0][0]}.indicator_catalogue"


def _copy_marts(con) -> dict[str, int]:
    counts = {}
    catalogue = _find_catalogue(con)
    tables = dict(
        SERVED_MARTS, indicator_catalogue=(catalogue.removeprefix("wh."), "indicator_code")
    )
    for target, (source, order) in tables.items():
        con.execute(f"CREATE TABLE main.{target} AS SELECT * FROM wh.{source} ORDER BY {order}")
        cols = {r[0] for r in con.execute(f"DESCRIBE main.{target}").fetchall()}
        if cols & PERSON_COLUMNS:
            raise QualityGateFailed(
                f"publish refused: {source} has person-level columns "
                f"{sorted(cols & PERSON_COLUMNS)}"
            )
        counts[target] = con.execute(f"SELECT count(*) FROM main.{target}").fetchone()[0]
    return counts


def _input_files(con) -> list[dict]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog "
        "= 'wh' AND table_schema = 'raw' AND table_name = 'raw_load_files'"
    ).fetchone()[0]
    if not exists:
        return []
    rows = con.execute(
        "SELECT source, file_name, file_hash, rows_loaded FROM wh.raw.raw_load_files "
        "WHERE status = 'loaded' ORDER BY source, file_name, file_hash"
    ).fetchall()
    return [{"source": s, "file_name": f, "file_hash": h, "rows_loaded": n} for s, f, h, n in rows]


def _write_publish_run(
    con, settings: Settings, run_id: str, record: dict, counts: dict[str, int]
) -> None:
    con.execute("""CREATE TABLE main.publish_run (run_id VARCHAR, published_at TIMESTAMPTZ,
        code_version VARCHAR, validation_success BOOLEAN, validated_at VARCHAR,
        rows_indicator BIGINT, rows_channel_mix BIGINT, rows_national_reference BIGINT,
        rows_indicator_catalogue BIGINT, input_files JSON)""")
    # Keep the history of earlier publishes: the gate compares row counts with the last one.
    if settings.serving_path.exists():
        try:
            con.execute(f"ATTACH '{settings.serving_path}' AS old (READ_ONLY)")
            con.execute("INSERT INTO main.publish_run BY NAME SELECT * FROM old.main.publish_run")
            con.execute("DETACH old")
        except duckdb.Error as exc:  # an old file without (compatible) history
            log.warning("publish: earlier publish_run not carried over: %s", exc)
    con.execute(
        "INSERT INTO main.publish_run VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            dt.datetime.now(dt.UTC).replace(microsecond=0),
            code_version(),
            record["success"],
            record.get("checked_at"),
            counts["indicator"],
            counts["channel_mix"],
            counts["national_reference"],
            counts["indicator_catalogue"],
            json.dumps(_input_files(con), sort_keys=True),
        ],
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(target: Path) -> list[Path]:
    """Temporary files of publishes that were killed (`.<name>.<pid>.tmp` and its `.wal`):
    removed unless their process still runs (a publish at this very moment)."""
    removed = []
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):
        pid = stale.name[len(target.name) + 2 :].split(".", 1)[0]
        if not stale.name.endswith((".tmp", ".tmp.wal")) or not pid.isdigit():
            continue
        if int(pid) == os.getpid() or not _alive(int(pid)):
            stale.unlink(missing_ok=True)
            removed.append(stale)
    if removed:
        log.info("publish: removed %d temporary file(s) of interrupted publishes", len(removed))
    return removed


def publish(settings: Settings, run_id: str) -> Path:
    """Write the serving file for `run_id` and swap it in; returns settings.serving_path."""
    target = settings.serving_path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    remove_stale_temp_files(target)

    record = _require_passed_gate(settings, run_id)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("SET TimeZone = 'UTC'")
        # One read-only attach for check and copy: the gate's fingerprint and the copied rows
        # come from the same snapshot (a writer cannot take the file while it is attached).
        con.execute(f"ATTACH '{settings.warehouse_path}' AS wh (READ_ONLY)")
        _require_unchanged_marts(record, con)
        counts = _copy_marts(con)
        _write_publish_run(con, settings, run_id, record, counts)
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
        con.close()
        # Make the bytes durable before the rename makes them visible.
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        raise
    log.info("published run %s to %s: %s", run_id, target, counts)
    return target
