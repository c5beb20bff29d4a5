"""Compare the tables two engines built from the same inputs, row for row.

The DuckDB side is a table in the warehouse; the other side a directory of Parquet files the
other engine wrote (Spark: dbt macro export_marts_parquet). Rows are matched on every column
that is not a floating-point number (texts, integers, booleans, dates: they must be equal, null
equal to null), duplicates by their position among equal keys; floating-point columns are
equal within FLOAT_TOLERANCE, relative to the larger magnitude and at least absolute for
values near zero. Why a tolerance at all: both engines sum in parallel and in a different
order, which changes the last bits of a double (about 1e-16 relative); 1e-9 is far below
anything a dashboard shows (value_display has 1 or 2 decimals and is compared exactly, as
text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

FLOAT_TOLERANCE = 1e-9
_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
_SHOW_ROWS = 15


@dataclass
class TableComparison:
    table: str
    rows_left: int = 0
    rows_right: int = 0
    problems: list[str] = field(default_factory=list)
    max_float_difference: float = 0.0

    @property
    def equal(self) -> bool:
        return not self.problems


def _kind(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t.startswith(_FLOAT_TYPES):
        return "float"
    if t in (
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
    ):
        return "integer"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    return t.lower()  # varchar, boolean, date ...


def compare_table(
    con: duckdb.DuckDBPyConnection,
    left_sql: str,
    right_sql: str,
    table: str,
    tolerance: float = FLOAT_TOLERANCE,
    left_name: str = "duckdb",
    right_name: str = "spark",
) -> TableComparison:
    """Compare two relations (SQL of a table or a read_parquet) on `con`."""
    result = TableComparison(table)
    con.execute(f"CREATE OR REPLACE TEMP VIEW cmp_left AS SELECT * FROM {left_sql}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW cmp_right AS SELECT * FROM {right_sql}")
    left_cols = {r[0]: r[1] for r in con.execute("DESCRIBE cmp_left").fetchall()}
    right_cols = {r[0].lower(): (r[0], r[1]) for r in con.execute("DESCRIBE cmp_right").fetchall()}
    result.rows_left = con.execute("SELECT count(*) FROM cmp_left").fetchall()[0][0]
    result.rows_right = con.execute("SELECT count(*) FROM cmp_right").fetchall()[0][0]
    if result.rows_left != result.rows_right:
        result.problems.append(
            f"{result.rows_left} rows on {left_name}, {result.rows_right} on {right_name}"
        )
    missing = [c for c in left_cols if c.lower() not in right_cols]
    extra = [
        orig for low, (orig, _) in right_cols.items() if low not in {c.lower() for c in left_cols}
    ]
    if missing:
        result.problems.append(f"columns missing on {right_name}: {', '.join(missing)}")
    if extra:
        result.problems.append(f"columns only on {right_name}: {', '.join(extra)}")
    columns = [c for c in left_cols if c.lower() in right_cols]
    for c in columns:
        lk, rk = _kind(left_cols[c]), _kind(right_cols[c.lower()][1])
        if lk != rk and {lk, rk} != {"float", "integer"}:
            result.problems.append(
                f"column {c}: {left_cols[c]} on {left_name}, "
                f"{right_cols[c.lower()][1]} on {right_name}"
            )
    floats = [c for c in columns if _kind(left_cols[c]) == "float"]
    keys = [c for c in columns if c not in floats]

    def q(c: str) -> str:
        return '"' + c.replace('"', '""') + '"'

    def numbered(view: str, names: dict) -> str:
        cols = ", ".join(f"{q(names[c])} AS {q(c)}" for c in columns)
        order = ", ".join([q(names[c]) for c in keys + floats]) or "1"
        part = ", ".join(q(names[c]) for c in keys) or "1"
        return (
            f"SELECT {cols}, row_number() OVER (PARTITION BY {part} ORDER BY {order}) "
            f"AS cmp_rn FROM {view}"
        )

    left = numbered("cmp_left", {c: c for c in columns})
    right = numbered("cmp_right", {c: right_cols[c.lower()][0] for c in columns})
    on = " AND ".join(
        [f"l.{q(c)} IS NOT DISTINCT FROM r.{q(c)}" for c in keys] + ["l.cmp_rn = r.cmp_rn"]
    )
    # null only equals null; a null against a number is a difference
    float_ok = [
        f"((l.{q(c)} IS NULL AND r.{q(c)} IS NULL) OR coalesce(abs(l.{q(c)} - r.{q(c)}) "
        f"<= {tolerance} * greatest(1.0, abs(l.{q(c)}), abs(r.{q(c)})), false))"
        for c in floats
    ]
    diff_expr = " , ".join(f"coalesce(abs(l.{q(c)} - r.{q(c)}), 0)" for c in floats)
    side_by_side = ", ".join(
        f"l.{q(c)} AS {q('l_' + c)}, r.{q(c)} AS {q('r_' + c)}" for c in columns
    )
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cmp_joined AS
        SELECT l.cmp_rn IS NOT NULL AS in_left, r.cmp_rn IS NOT NULL AS in_right,
               {("(" + " AND ".join(float_ok) + ")") if floats else "true"} AS floats_ok,
               {("greatest(" + diff_expr + ")") if floats else "0.0"} AS max_diff,
               {side_by_side}
        FROM ({left}) AS l FULL OUTER JOIN ({right}) AS r ON {on}""")
    result.max_float_difference = con.execute(
        "SELECT coalesce(max(max_diff), 0) FROM cmp_joined WHERE in_left AND in_right"
    ).fetchall()[0][0]
    for side, cond, other in (
        (left_name, "in_left AND NOT in_right", right_name),
        (right_name, "in_right AND NOT in_left", left_name),
    ):
        prefix = "l_" if side == left_name else "r_"
        n = con.execute(f"SELECT count(*) FROM cmp_joined WHERE {cond}").fetchall()[0][0]
        if n:
            rows = con.execute(
                f"SELECT {', '.join(q(prefix + c) for c in columns)} FROM cmp_joined "
                f"WHERE {cond} ORDER BY ALL LIMIT {_SHOW_ROWS}"
            ).fetchall()
            shown = "\n".join("    " + _row(columns, r) for r in rows)
            result.problems.append(
                f"{n} rows only on {side} (no row on {other} with the same "
                f"non-float columns), e.g.:\n{shown}"
            )
    n = con.execute(
        "SELECT count(*) FROM cmp_joined WHERE in_left AND in_right AND NOT floats_ok"
    ).fetchall()[0][0]
    if n:
        rows = con.execute(
            f"SELECT {', '.join(q('l_' + c) for c in keys)}, "
            f"{', '.join(q('l_' + c) + ', ' + q('r_' + c) for c in floats)} FROM cmp_joined "
            f"WHERE in_left AND in_right AND NOT floats_ok ORDER BY max_diff DESC LIMIT {_SHOW_ROWS}"
        ).fetchall()
        head = keys + [f"{c} ({left_name}|{right_name})" for c in floats]
        shown = "\n".join(
            "    "
            + _row(keys, r[: len(keys)])
            + " | "
            + ", ".join(
                f"{c}: {r[len(keys) + 2 * i]!r} | {r[len(keys) + 2 * i + 1]!r}"
                for i, c in enumerate(floats)
            )
            for r in rows
        )
        result.problems.append(
            f"{n} rows differ beyond {tolerance} in a float column "
            f"({', '.join(head[len(keys) :])}), e.g.:\n{shown}"
        )
    return result


def _row(columns, values) -> str:
    return ", ".join(f"{c}={v!r}" for c, v in zip(columns, values))


def compare_with_parquet(
    warehouse: Path,
    tables: list[tuple[str, str]],
    parquet_root: Path,
    tolerance: float = FLOAT_TOLERANCE,
) -> list[TableComparison]:
    """Each (schema, table) of the DuckDB warehouse against <parquet_root>/<table>/*.parquet."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = []
        for schema, table in tables:
            directory = parquet_root / table
            files = sorted(p for p in directory.glob("*.parquet")) if directory.is_dir() else []
            files = (
                files or sorted(p for p in directory.glob("part-*"))
                if directory.is_dir()
                else files
            )
            if not files:
                out.append(
                    TableComparison(
                        table,
                        problems=[
                            f"no Parquet files of {table} in {directory}: the other engine built or "
                            f"exported nothing"
                        ],
                    )
                )
                continue
            file_list = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
            out.append(
                compare_table(
                    con, f"{schema}.{table}", f"read_parquet({file_list})", table, tolerance
                )
            )
        return out
    finally:
        con.close()


def report(comparisons: list[TableComparison]) -> str:
    lines = []
    for c in comparisons:
        state = "equal" if c.equal else "DIFFERENT"
        lines.append(
            f"{c.table}: {state} ({c.rows_left} rows duckdb, {c.rows_right} spark; "
            f"largest float difference {c.max_float_difference:.3g})"
        )
        lines += ["  " + p for p in c.problems]
    return "\n".join(lines)
