"""Run bench/floor.sql, the fair floor, against an inbox folder (`python -m bench.floor <inbox>`).

The shared definitions of baseline.sql (date/time parsing macros, the label table, header sets)
run first, then floor.sql, in a fresh DuckDB file: the floor writes its typed tables and
indicators as the pipeline does. Windows-1252 files are transcoded first, as for the baseline,
and that time counts.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.baseline import BASELINE_SQL, utf8_mirror
from ouderpeil import duckdb_settings

FLOOR_SQL = Path(__file__).with_name("floor.sql")
SHARED_END = "-- @shared-definitions-end"


def floor_script() -> str:
    shared = BASELINE_SQL.read_text().split(SHARED_END, 1)[0]
    return shared + "\n" + FLOOR_SQL.read_text()


def run_floor_sql(inbox_dir: Path, work_dir: Path | None = None) -> dict:
    import duckdb

    inbox_dir = Path(inbox_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="ouderpeil-floor-", dir=work_dir) as tmp:
        start = time.perf_counter()
        files = utf8_mirror(inbox_dir, Path(tmp) / "inbox")
        transcode_seconds = time.perf_counter() - start
        database = Path(tmp) / "floor.duckdb"
        con = duckdb.connect(str(database))
        try:
            # The pipeline's own memory cap and spill folder: the floor does the same work
            # under the same limit (without one DuckDB takes 80 % of RAM: 16 GiB at region).
            duckdb_settings.apply(con, database)
            con.execute(f"SET file_search_path = '{Path(tmp) / 'inbox'}'")
            con.execute("SET TimeZone = 'UTC'")
            start = time.perf_counter()
            summary = con.execute(floor_script()).fetchall()
            columns = [d[0] for d in con.description]
            con.execute("CHECKPOINT")  # written to the file, as the pipeline's tables are
            sql_seconds = time.perf_counter() - start
            rejects = con.execute(
                "SELECT source, column_name, reason, n FROM floor_rejects ORDER BY ALL"
            ).fetchall()
        finally:
            con.close()
        size = database.stat().st_size
    return {
        **dict(zip(columns, summary[0])),
        "transcode_seconds": transcode_seconds,
        "sql_seconds": sql_seconds,
        "database_bytes": size,
        "rejects_by_column": [list(r) for r in rejects],
        "files": files,
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.floor <inbox folder>")
    info = run_floor_sql(Path(sys.argv[1]))
    for key, value in info.items():
        print(f"{key}: {value}")
