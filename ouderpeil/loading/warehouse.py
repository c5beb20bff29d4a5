"""The raw layer of the warehouse: connection, tables and the load bookkeeping tables."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import duckdb

from ouderpeil import duckdb_settings
from ouderpeil.config import Settings
from ouderpeil.contracts import SOURCES, raw_table_ddl
from ouderpeil.errors import OuderpeilError

RAW_REJECTS_DDL = """
CREATE TABLE IF NOT EXISTS raw.raw_rejects (
  load_id VARCHAR,
  source VARCHAR,
  file_name VARCHAR,
  file_hash VARCHAR,
  row_number BIGINT,      -- CSV/XLSX row (header = 1), JSONL line; NULL for a whole-file note
  column_name VARCHAR,    -- canonical column; NULL for a malformed row or line
  value VARCHAR,          -- the offending value; person ids as pseudonym, never in clear
  reason VARCHAR,         -- ouderpeil.loading.reasons
  rejected_at TIMESTAMPTZ
)"""

RAW_LOAD_FILES_DDL = """
CREATE TABLE IF NOT EXISTS raw.raw_load_files (
  load_id VARCHAR,
  source VARCHAR,
  file_name VARCHAR,
  file_hash VARCHAR,      -- sha256 of the file's bytes: the same file is loaded once
  profile VARCHAR,
  rows_in BIGINT,         -- = rows_loaded + rows_rejected
  rows_loaded BIGINT,
  rows_rejected BIGINT,
  ignored_columns VARCHAR,  -- JSON array of header cells that were never read
  status VARCHAR,         -- loaded | quarantined | replaced (new content, same name)
  loaded_at TIMESTAMPTZ
)"""


LOCK_TIMEOUT_ENV, LOCK_TIMEOUT_DEFAULT = "OUDERPEIL_WAREHOUSE_LOCK_TIMEOUT", 120.0


class WarehouseLocked(OuderpeilError):
    """Another process holds the warehouse's write lock for longer than we wait."""


def _lock_holder(message: str) -> str:
    """The process DuckDB names as the holder of the lock, with its command line if known."""
    pid = re.search(r"PID (\d+)", message)
    if not pid:
        return "an unknown process"
    try:
        cmd = Path(f"/proc/{pid.group(1)}/cmdline").read_bytes().replace(b"\0", b" ")
        cmd = cmd.decode(errors="replace").strip()[:200]
    except OSError:
        cmd = ""
    return f"process {pid.group(1)}" + (f" ({cmd})" if cmd else "")


def connect(settings: Settings, timeout: float | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection to the warehouse. DuckDB allows one writing process per file:
    while another holds it we wait up to ``timeout`` seconds (OUDERPEIL_WAREHOUSE_LOCK_TIMEOUT,
    default 120), then fail with a message naming the holder."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    if timeout is None:
        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, LOCK_TIMEOUT_DEFAULT))
    deadline = time.monotonic() + timeout
    while True:
        try:
            con = duckdb.connect(str(settings.warehouse_path))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"warehouse {settings.warehouse_path} is in use by {_lock_holder(str(exc))}; "
                    f"waited {timeout:g} s for its lock. Wait until that run ends (or stop it) "
                    f"and start again; {LOCK_TIMEOUT_ENV} sets how long to wait"
                ) from None
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    # Row order of staged files must follow the file (row numbers of rejects).
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")  # logs stay readable in Airflow
    duckdb_settings.apply(con, settings.warehouse_path)  # spill instead of 80 % of RAM
    return con


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for source in SOURCES.values():
        con.execute(raw_table_ddl(source))
    con.execute(RAW_REJECTS_DDL)
    con.execute(RAW_LOAD_FILES_DDL)


def file_already_loaded(con: duckdb.DuckDBPyConnection, source: str, file_hash: str) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM raw.raw_load_files WHERE source = ? AND file_hash = ? "
            "AND status = 'loaded'",
            [source, file_hash],
        ).fetchall()[0][0]
        > 0
    )


def schools_known(con: duckdb.DuckDBPyConnection) -> bool:
    """School ids are checked only once there is a school list to check them against."""
    return con.execute("SELECT count(*) FROM raw.schools").fetchall()[0][0] > 0


def loaded_under_name(con: duckdb.DuckDBPyConnection, source: str, file_name: str) -> list[str]:
    """Hashes of the loaded files of ``source`` under ``file_name`` (different content)."""
    return [
        h
        for (h,) in con.execute(
            "SELECT DISTINCT file_hash FROM raw.raw_load_files WHERE source = ? AND file_name = ? "
            "AND status = 'loaded' ORDER BY 1",
            [source, file_name],
        ).fetchall()
    ]


def remove_earlier_load(
    con: duckdb.DuckDBPyConnection, source: str, file_name: str, hashes: list[str]
) -> int:
    """Inside the caller's transaction: remove the rows and rejects an earlier content of the
    same file name brought in, and mark its load as replaced. Returns the rows removed."""
    if not hashes:
        return 0
    marks = ", ".join("?" for _ in hashes)
    removed = con.execute(
        f"DELETE FROM raw.{source} WHERE _file_name = ? AND _file_hash IN ({marks})",
        [file_name, *hashes],
    ).fetchall()[0][0]
    con.execute(
        f"DELETE FROM raw.raw_rejects WHERE source = ? AND file_name = ? "
        f"AND file_hash IN ({marks})",
        [source, file_name, *hashes],
    )
    con.execute(
        f"UPDATE raw.raw_load_files SET status = 'replaced' WHERE source = ? "
        f"AND file_name = ? AND file_hash IN ({marks}) AND status = 'loaded'",
        [source, file_name, *hashes],
    )
    return removed
