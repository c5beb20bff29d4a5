"""Helpers of the loader tests: small files written into a test's inbox, and read-only queries
of its warehouse. The fixture ``schools_loaded`` (conftest.py) uses them."""

from __future__ import annotations

import duckdb
from helpers import TEST_HMAC_KEY

from ouderpeil.loading import FileLoadResult

KEY = bytes.fromhex(TEST_HMAC_KEY)

SCHOOLS_CSV = """school_id,school_name,sector,board_id,board_name,municipality,schoolweging
12AB00,OBS De Regenboog,po,41000,Stichting Primo,Utrecht,31.5
34CD00,Het Lyceum,vo,41000,Stichting Primo,Utrecht,28.0
56EF00,ROC Midden,mbo,42000,ROC Bestuur,Utrecht,
"""

CONTACT_HEADER = (
    "contact_id,school_id,family_ref,student_ref,staff_ref,contact_at,channel,"
    "initiated_by,topic,status,duration_min,interpreter"
)


def write(settings, source: str, name: str, text: str, encoding: str = "utf-8"):
    folder = settings.inbox_dir / source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def by_name(report) -> dict[str, FileLoadResult]:
    return {f.file_name: f for f in report.files}


def query(settings, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def rejects_of(settings, file_name: str) -> list[tuple]:
    return query(
        settings,
        "SELECT row_number, column_name, value, reason FROM raw.raw_rejects "
        "WHERE file_name = ? ORDER BY row_number, column_name",
        [file_name],
    )


def warehouse_snapshot(settings) -> dict[str, list[tuple]]:
    """Every row of every table in the warehouse, order-independent."""
    tables = query(
        settings, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL"
    )
    return {
        f"{s}.{t}": sorted(query(settings, f'SELECT * FROM "{s}"."{t}"'), key=repr)
        for s, t in tables
    }


def assert_counts_add_up(settings) -> None:
    """rows_in = rows_loaded + rows_rejected, and both match what is in the tables."""
    files = query(
        settings,
        "SELECT source, file_name, file_hash, rows_in, rows_loaded, "
        "rows_rejected FROM raw.raw_load_files WHERE status = 'loaded'",
    )
    assert files
    for source, name, file_hash, rows_in, loaded, rejected in files:
        assert rows_in == loaded + rejected, name
        in_table = query(
            settings, f"SELECT count(*) FROM raw.{source} WHERE _file_hash = ?", [file_hash]
        )[0][0]
        rejected_rows = query(
            settings,
            "SELECT count(DISTINCT row_number) FROM raw.raw_rejects WHERE file_hash = ?",
            [file_hash],
        )[0][0]
        assert (in_table, rejected_rows) == (loaded, rejected), name
