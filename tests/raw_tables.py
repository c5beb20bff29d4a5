"""Raw tables by hand: the loader's raw.<source> tables (contracts.py DDL) filled with rows a
test writes itself, for dbt tests that must control every row."""

from __future__ import annotations

import datetime as dt

from ouderpeil import contracts


def insert_raw(con, source: str, rows: list[dict], loaded_at: dt.datetime, load_id: str) -> None:
    src = contracts.SOURCES[source]
    meta = [name for name, _ in contracts.LOAD_METADATA_COLUMNS]
    for r in rows:
        unknown = set(r) - set(src.column_names)
        assert not unknown, f"{source}: unknown columns {unknown}"
    values = [
        [r.get(c) for c in src.column_names]
        + [f"{source}-{load_id}.csv", f"hash-{load_id}", i, loaded_at, "canonical", load_id]
        for i, r in enumerate(rows, 1)
    ]
    cols = src.column_names + meta
    con.executemany(
        f"INSERT INTO raw.{source} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        values,
    )


def create_raw_tables(con) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for source in contracts.SOURCES.values():
        con.execute(contracts.raw_table_ddl(source))
