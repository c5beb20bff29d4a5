"""Retention (docs/spec/PRIVACY.md 5): delete raw person-level rows older than the last N school years,
and the raw input files (archive, quarantine) archived or quarantined before that cutoff.

A school year runs from 1 August to 31 July. With N = 2 on 26 November 2026 the kept years are
2025-2026 and 2026-2027, so everything dated before 1 August 2025 goes. Published aggregates
(marts, serving file, exports) stay: they hold no person-level rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import duckdb

from ouderpeil.catalog import table_exists
from ouderpeil.config import Settings
from ouderpeil.loading import archive

log = logging.getLogger(__name__)

# table -> SQL condition (parameter ? = cutoff date) selecting rows older than the kept years.
# Timestamps without a time zone are local (Europe/Amsterdam) school time; time-zone aware
# ones are compared with local midnight of the cutoff.
LOCAL_CUTOFF = "timezone('Europe/Amsterdam', CAST(? AS TIMESTAMP))"
PURGE_RULES = {
    # An enrolment goes once it ended before the kept years; current families stay.
    "raw.families": "enrolled_to IS NOT NULL AND enrolled_to < CAST(? AS DATE)",
    "raw.contact_logs": "contact_at < CAST(? AS TIMESTAMP)",
    "raw.survey_responses": "submitted_at < CAST(? AS TIMESTAMP)",
    # Events go with their message; events whose message never arrived go by their own date.
    "raw.message_events": "message_id IN (SELECT message_id FROM raw.messages "
    "WHERE sent_at < CAST(? AS TIMESTAMP)) "
    f"OR (occurred_at < {LOCAL_CUTOFF} AND message_id NOT IN "
    "(SELECT message_id FROM raw.messages WHERE message_id IS NOT NULL))",
    "raw.messages": "sent_at < CAST(? AS TIMESTAMP)",
    # Rejected rows carry pseudonyms too; their own date is unknown, so the load date counts.
    "raw.raw_rejects": f"rejected_at < {LOCAL_CUTOFF}",
}


def school_year_start(day: dt.date) -> int:
    return day.year if day.month >= 8 else day.year - 1


def retention_cutoff(today: dt.date, keep_school_years: int) -> tuple[dt.date, list[str]]:
    """First day that is kept, and the kept school years (oldest first)."""
    if keep_school_years < 1:
        raise ValueError("keep_school_years must be at least 1")
    first = school_year_start(today) - (keep_school_years - 1)
    kept = [f"{y}-{y + 1}" for y in range(first, school_year_start(today) + 1)]
    return dt.date(first, 8, 1), kept


def _loaded_file_hashes(con, existing: set[str]) -> dict[str, set[str]]:
    if "raw.raw_load_files" not in existing:
        return {}
    out: dict[str, set[str]] = {}
    for source, file_hash in con.execute(
        "SELECT source, file_hash FROM raw.raw_load_files WHERE status = 'loaded'"
    ).fetchall():
        out.setdefault(source, set()).add(file_hash)
    return out


def _compact(path: Path) -> None:
    """Copy the database into a fresh file and swap it in.

    DuckDB marks deleted rows and reuses their blocks later, so the deleted bytes (pseudonyms,
    dates) would stay readable in the file; a copy holds only live rows.
    """
    fresh = path.with_name(f".{path.name}.compact.tmp")
    fresh.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        catalog = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f"ATTACH '{fresh}' AS compacted")
        con.execute(f'COPY FROM DATABASE "{catalog}" TO compacted')
        con.execute("DETACH compacted")
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(fresh, path)


def purge(
    settings: Settings,
    keep_school_years: int | None = None,
    today: dt.date | None = None,
    compact: bool = True,
) -> dict:
    """Delete raw person-level rows dated before the kept school years; returns what went.

    compact: rewrite the warehouse file afterwards so deleted rows are gone from disk too
    (needs the warehouse to itself, like every write).
    """
    keep = settings.retention_school_years if keep_school_years is None else keep_school_years
    today = today or dt.date.today()
    cutoff, kept = retention_cutoff(today, keep)
    deleted: dict[str, int] = {}
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        existing = {
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
        con.execute("BEGIN TRANSACTION")
        try:
            # Order matters: message events are found through messages before those go.
            for table, condition in PURGE_RULES.items():
                if table not in existing:
                    continue
                n = con.execute(
                    f"DELETE FROM {table} WHERE {condition}", [cutoff] * condition.count("?")
                ).fetchone()[0]
                deleted[table] = n
            con.execute("COMMIT")  # all tables or none
        except BaseException:
            con.execute("ROLLBACK")
            raise
        loaded = _loaded_file_hashes(con, existing)
    finally:
        con.close()
    if compact:
        _compact(settings.warehouse_path)
    # The raw files go by the same cutoff as the raw rows (loading/archive.py).
    raw_files = archive.purge_raw_files(settings, cutoff)
    raw_files["retired_from_inbox"] = archive.sweep_inbox(settings, loaded)
    summary = {
        "today": today.isoformat(),
        "keep_school_years": keep,
        "kept_school_years": kept,
        "cutoff": cutoff.isoformat(),
        "deleted": deleted,
        "raw_files": raw_files,
    }
    log.info("retention: %s", summary)
    return summary


def purge_and_rebuild(
    settings: Settings, keep_school_years: int | None = None, today: dt.date | None = None
) -> dict:
    """purge(), then rebuild the dbt models that hold person-level copies of raw rows.

    Staging and intermediate tables copy raw rows, and the incremental ones only ever add
    rows, so they are full-refreshed; the aggregate history of every school year stays
    (transform.AGGREGATE_HISTORY_TABLES), as docs/spec/PRIVACY.md item 5 asks. A history table
    that does not exist yet (retention before the first build) has nothing to keep: it is
    built with the rest instead of being left out, which would fail every model reading it.
    """
    from ouderpeil.transform import AGGREGATE_HISTORY_TABLES, run_dbt

    summary = purge(settings, keep_school_years=keep_school_years, today=today)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        kept = [t.split(".")[1] for t in AGGREGATE_HISTORY_TABLES if table_exists(con, t)]
    finally:
        con.close()
    run_dbt(settings, command="build", full_refresh=True, exclude=" ".join(kept) or None)
    summary["aggregate_history_kept"] = kept
    return summary
