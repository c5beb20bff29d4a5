"""What a DuckDB database holds (only duckdb is imported: DAG parsing reaches this module)."""

from __future__ import annotations


def table_exists(con, qualified: str) -> bool:
    """Whether `schema.table` exists in the connection's database."""
    schema, table = qualified.split(".")
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
        > 0
    )  # fetchall: DuckDB 2 refuses the next con.sql() after a fetchone()
