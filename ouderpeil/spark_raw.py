"""The raw layer for Spark: the loader's raw tables exported to Parquet, one file per load.

The loader keeps writing the DuckDB warehouse (one transaction per file, rejects,
quarantine); this step, run after a load, copies every load that is not exported yet to
``<root>/<table>/load-<load_id>.parquet``. Spark reads each directory as one external table
(dbt macro register_raw_tables, dbt_project/macros/portable/spark_raw.sql). Why per load: a load's rows
never change after the load (append-only), so an export is a set of new files, never a rewrite,
and the same load exported twice gives the same file name (idempotent). Files are written
under a hidden name first (Spark skips names starting with '.') and then renamed, so a reader
never sees half a file. Each directory also gets a zero-row ``schema.parquet``, so a table with
no load yet (no rejects, say) still has its columns on Spark.

Not here (docs/SCALE_OUT.md): object storage instead of a local directory, and retention,
which deletes old raw rows in DuckDB and must delete or rewrite the same loads' files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ouderpeil.catalog import table_exists
from ouderpeil.config import Settings
from ouderpeil.contracts import SOURCES
from ouderpeil.errors import OuderpeilError

# Raw table -> column holding the load id (the loader's uuid4 hex).
RAW_TABLES: dict[str, str] = {
    **{name: "_load_id" for name in SOURCES},
    "raw_rejects": "load_id",
    "raw_load_files": "load_id",
}
_LOAD_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
# Rows without a load id (raw tables made by hand, e.g. in tests) go to one file that is
# written again on every export.
NO_LOAD_FILE = "load-none.parquet"
SCHEMA_FILE = "schema.parquet"


class SparkRawExportError(OuderpeilError):
    """The raw layer cannot be exported for Spark (e.g. an unexpected load id)."""


@dataclass
class SparkRawExport:
    root: Path
    files_written: dict[str, int] = field(default_factory=dict)  # table -> new load files
    rows_written: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        done = ", ".join(f"{t} {n}" for t, n in sorted(self.files_written.items()) if n)
        return f"raw layer for Spark in {self.root}: new load files: {done or 'none'}"


def default_root(settings: Settings) -> Path:
    return settings.data_dir / "spark" / "raw"


def export_raw(settings: Settings, root: Path | None = None) -> SparkRawExport:
    """Export every load not exported yet of every raw table to Parquet under `root`."""
    root = Path(root) if root else default_root(settings)
    report = SparkRawExport(root)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        for table, key in RAW_TABLES.items():
            if not table_exists(con, f"raw.{table}"):
                continue
            report.files_written[table], report.rows_written[table] = _export_table(
                con, table, key, root / table
            )
    finally:
        con.close()
    return report


def _export_table(con, table: str, key: str, directory: Path) -> tuple[int, int]:
    directory.mkdir(parents=True, exist_ok=True)
    _copy(con, f"SELECT * FROM raw.{table} LIMIT 0", directory / SCHEMA_FILE)
    done = {p.name for p in directory.glob("load-*.parquet")}
    counts = con.execute(
        f"SELECT {key}, count(*) FROM raw.{table} GROUP BY 1 ORDER BY 1"
    ).fetchall()
    files = rows = 0
    for load_id, n in counts:
        if load_id is None:
            _copy(con, f"SELECT * FROM raw.{table} WHERE {key} IS NULL", directory / NO_LOAD_FILE)
            rows += n
            continue
        if not _LOAD_ID.match(str(load_id)):
            raise SparkRawExportError(
                f"raw.{table}: column {key} holds {str(load_id)[:80]!r}, which is not a load id "
                f"of the loader; nothing of this table was exported after it"
            )
        name = f"load-{load_id}.parquet"
        if name in done:
            continue
        # The load id is checked above: safe to put into the statement (COPY takes no
        # parameters).
        _copy(con, f"SELECT * FROM raw.{table} WHERE {key} = '{load_id}'", directory / name)
        files += 1
        rows += n
    return files, rows


def _copy(con, query: str, target: Path) -> None:
    tmp = target.with_name("." + target.name + ".tmp")
    path = str(tmp).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)")
    os.replace(tmp, target)
