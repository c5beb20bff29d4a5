"""The raw layer of the warehouse: connection, tables and the load bookkeeping tables."""
from __future__ import annotations

import duckdb

from ouderpeil import duckdb_settings
from ouderpeil.config import Settings
from ouderpeil.contracts import SOURCES, raw_table_ddl

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
  status VARCHAR,         -- loaded | quarantined
  loaded_at TIMESTAMPTZ
)"""


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
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
    return con.execute(
        "SELECT count(*) FROM raw.raw_load_files WHERE source = ? AND file_hash = ? "
        "AND status = 'loaded'", [source, file_hash]).fetchall()[0][0] > 0


def schools_known(con: duckdb.DuckDBPyConnection) -> bool:
    """School ids are checked only once there is a school list to check them against."""
    return con.execute("SELECT count(*) FROM raw.schools").fetchall()[0][0] > 0
