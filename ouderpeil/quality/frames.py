"""What the gate looks at: warehouse tables read into pandas DataFrames, plus the run-time
parameters the suites refer to with {"$PARAMETER": ...}.

The warehouse is opened read-only, so a gate can run beside a reader and never changes data.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa

from ouderpeil import duckdb_settings
from ouderpeil.catalog import table_exists
from ouderpeil.config import Settings
from ouderpeil.contracts import SECTORS

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
MEMORY_LIMIT_ENV = "OUDERPEIL_GX_DUCKDB_MEMORY"
DEFAULT_MEMORY_LIMIT = "512MB"
BATCH_ROWS_ENV = "OUDERPEIL_GX_BATCH_ROWS"
DEFAULT_BATCH_ROWS = 2_000_000


class MissingTable(Exception):
    """The table a suite is about does not exist in the warehouse."""


def connect_warehouse(settings: Settings) -> duckdb.DuckDBPyConnection:
    if not settings.warehouse_path.exists():
        raise MissingTable(f"warehouse {settings.warehouse_path} does not exist")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    # Time-zone aware columns come back in UTC whatever the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB would take up to 80 % of RAM for the key ranks and reference joins; with a limit it
    # spills to <warehouse>.tmp instead, so the gate's memory is about the pandas frames only.
    duckdb_settings.apply(
        con,
        settings.warehouse_path,
        os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
        reader=True,
    )
    return con


# Expectations about the table's shape, not its values: checked on the column names alone.
SHAPE_EXPECTATIONS = frozenset({"expect_table_columns_to_match_set"})
# Expectations about the number of rows: need every row, not just new ones.
TABLE_LEVEL_EXPECTATIONS = frozenset({"expect_table_row_count_to_be_between"})


# Expectations that only ask whether a value is null, or equal to another value of its column.
NULLNESS = frozenset({"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"})
EQUALITY = NULLNESS | {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


def column_uses(suite: dict) -> dict[str, set[str]]:
    """Column -> the expectation types that name it (column, column_list, column_A/B), in the
    order the suite first names them. A row condition may look at any column, so it counts as
    a use of every column."""
    uses: dict[str, set[str]] = {}
    conditional = any(e["kwargs"].get("row_condition") for e in suite["expectations"])
    for exp in suite["expectations"]:
        kw = exp["kwargs"]
        named = [
            kw.get("column"),
            *kw.get("column_list", ()),
            kw.get("column_A"),
            kw.get("column_B"),
        ]
        for c in filter(None, named):
            uses.setdefault(c, set()).add(exp["type"])
    if conditional:
        for types in uses.values():
            types.add("row_condition")
    return uses


def suite_columns(suite: dict) -> list[str]:
    """The columns a suite's expectations name, in order."""
    return list(column_uses(suite))


def split_off(suite: dict, types: frozenset[str], suffix: str) -> tuple[dict | None, dict]:
    """(the suite's expectations of `types` as a suite of their own named <name>_<suffix>, or
    None; the rest)."""
    part = [e for e in suite["expectations"] if e["type"] in types]
    if not part:
        return None, suite
    rest = [e for e in suite["expectations"] if e["type"] not in types]
    return (
        {**suite, "name": f"{suite['name']}_{suffix}", "expectations": part},
        {**suite, "expectations": rest},
    )


def split_shape(suite: dict) -> tuple[dict | None, dict]:
    """(the suite's shape expectations as a suite of their own or None, the rest).

    The shape suite runs on `SELECT * ... LIMIT 0` (all column names, no rows) and the rest on
    only the columns it names, so pseudonyms and load metadata nobody checks are never read.
    """
    return split_off(suite, SHAPE_EXPECTATIONS, "columns")


def split_table_level(suite: dict) -> tuple[dict | None, dict]:
    """(the row-count expectations as a suite of their own or None, the rest): when the gate
    looks at new rows only, these still need the whole table."""
    return split_off(suite, TABLE_LEVEL_EXPECTATIONS, "table")


def unique_keys(suite: dict) -> list[tuple[str, ...]]:
    """The column (tuples) a suite expects to be unique."""
    keys = []
    for exp in suite["expectations"]:
        if exp["type"] == "expect_column_values_to_be_unique":
            keys.append((exp["kwargs"]["column"],))
        elif exp["type"] == "expect_compound_columns_to_be_unique":
            keys.append(tuple(exp["kwargs"]["column_list"]))
    return keys


def table_columns(con, table: str) -> dict[str, str]:
    """Column name -> DuckDB type, in table order."""
    schema, name = table.split(".")
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
    )


# Arrow -> pandas the way DuckDB's .df() does it: nullable integers and booleans.
_PANDAS_TYPES = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _arrow_frame(con, sql: str) -> pd.DataFrame:
    """A query result as pandas through Arrow.

    DuckDB's .df() peaks at ~5x the final frame (1.3 GB for the 3.5M message events at board
    scale); a relation's Arrow table, converted with self_destruct, at ~2x (0.57 GB).
    """
    table = con.sql(sql).to_arrow_table()
    return table.to_pandas(types_mapper=_PANDAS_TYPES.get, date_as_object=False, self_destruct=True)


def _select(column: str, db_type: str, uses: set[str] | None) -> str:
    """How a column is read for the expectations in `uses` (None: as it is).

    A column checked only for nulls is read as a 1/NULL flag, one checked only for nulls and
    equality (unique keys) as its dense rank: same nulls, same duplicates, so the same results,
    but an integer instead of a long string (event ids are most of the raw gate's memory).
    """
    c = f'"{column}"'
    if uses is not None and uses <= NULLNESS:
        return f"CASE WHEN {c} IS NOT NULL THEN 1 END::TINYINT AS {c}"
    if uses is not None and uses <= EQUALITY:
        return f"CASE WHEN {c} IS NOT NULL THEN dense_rank() OVER (ORDER BY {c}) END AS {c}"
    if db_type.startswith("DECIMAL"):  # else Python Decimal objects; .df() gave floats too
        return f"{c}::DOUBLE AS {c}"
    return c


def raw_table_frame(
    con,
    table: str,
    uses: dict[str, set[str]] | None = None,
    load_ids: tuple[str, ...] | None = None,
    keys: list[tuple[str, ...]] = (),
) -> pd.DataFrame:
    """The rows of a raw table in one frame: all columns as they are (uses=None), or only the
    columns in `uses` (column -> expectation types, see column_uses), read as compactly as those
    allow.

    load_ids: only the rows of these loads, plus the earlier rows that share one of `keys`
    with them (see raw_scope); None: every row.

    A named column the table lacks is left out: its expectations then fail in GX with
    "column not found", as they did when the whole table was read.
    """
    select, source, _ = _raw_query(con, table, uses, load_ids, keys)
    return _arrow_frame(con, f"SELECT {select} FROM {source}")


def raw_table_batches(
    con,
    table: str,
    suite: dict,
    load_ids: tuple[str, ...] | None = None,
    max_rows: int | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows raw_table_frame reads for `suite`, as frames of at most about `max_rows` rows
    (default: batch_rows()), one at a time, so the gate's memory no longer grows with the table
    (41 M message events at region were 8.8 GiB in one frame).

    Rows are split by a hash of the suite's unique key, so every copy of a key lands in the
    same batch and each batch's uniqueness check sees all of them; the other expectations are
    row by row or a maximum/minimum (see batchable), so the batches' results add up to the
    whole table's (batch_results.merge). A suite that cannot be split so is read in one frame.
    """
    uses, keys = column_uses(suite), unique_keys(suite)
    select, source, columns = _raw_query(con, table, uses, load_ids, keys)
    max_rows = max_rows or batch_rows()
    split_on = _split_columns(keys, columns)
    n = 1
    if split_on and batchable(suite):
        # fetchall: a result left open would block the next relation on this connection
        ((rows,),) = con.execute(f"SELECT count(*) FROM {source}").fetchall()
        n = max(1, math.ceil(rows / max_rows))
    if n == 1:
        yield _arrow_frame(con, f"SELECT {select} FROM {source}")
        return
    bucket = "hash(" + ", ".join(f'"{c}"' for c in split_on) + f") % {n}"
    for i in range(n):
        # A rank column (unique keys) is ranked within its batch: the same duplicates.
        frame = _arrow_frame(con, f"SELECT {select} FROM {source} WHERE {bucket} = {i}")
        if len(frame):  # an empty batch adds nothing (and GX has no maximum of no rows)
            yield frame
        frame = None


def batch_rows() -> int:
    """Rows per raw gate batch: OUDERPEIL_GX_BATCH_ROWS, default 2 M (the whole region gate then
    peaked at 2.0 GiB, bench/FINDINGS.md, sixth round)."""
    return max(1, int(os.environ.get(BATCH_ROWS_ENV, DEFAULT_BATCH_ROWS)))


# Expectations whose batch results add up to the whole table's: row-by-row checks (counts
# add), and a maximum with only an upper bound or a minimum with only a lower one (the table
# passes exactly when every batch does).
_ROW_BY_ROW_PREFIXES = ("expect_column_values_to_", "expect_column_pair_values_")
_BOUNDS = {
    "expect_column_max_to_be_between": "min_value",  # the bound a batch cannot decide alone
    "expect_column_min_to_be_between": "max_value",
}


def batchable(suite: dict) -> bool:
    """Whether a suite validated batch by batch (rows split by its one unique key) gives the
    whole table's result."""
    if len(unique_keys(suite)) > 1:
        return False
    for exp in suite["expectations"]:
        kind, kw = exp["type"], exp["kwargs"]
        if kw.get("mostly", 1) != 1:
            return False  # a share over the whole table: batches could pass or fail apart
        if kind in _BOUNDS:
            if kw.get(_BOUNDS[kind]) is not None:
                return False
        elif not (
            kind.startswith(_ROW_BY_ROW_PREFIXES) or kind == "expect_compound_columns_to_be_unique"
        ):
            return False
    return True


def _split_columns(keys: list[tuple[str, ...]], columns: dict[str, str]) -> tuple[str, ...]:
    """The columns that decide a row's batch: the unique key, else a load's row (every row
    its own). Empty: the rows cannot be split."""
    if len(keys) == 1 and set(keys[0]) <= set(columns):
        return keys[0]
    if not keys and {"_load_id", "_row_number"} <= set(columns):
        return ("_load_id", "_row_number")
    return ()


def _raw_query(con, table: str, uses, load_ids, keys) -> tuple[str, str, dict[str, str]]:
    """(select list, source relation, the table's columns) for raw_table_frame/batches."""
    if not table_exists(con, table):
        raise MissingTable(f"table {table} does not exist")
    types = table_columns(con, table)
    if uses is None:
        select = ", ".join(_select(c, t, None) for c, t in types.items())
    else:
        select = ", ".join(_select(c, types[c], u) for c, u in uses.items() if c in types)
    if not select:  # no column named (e.g. only a row count): GX still needs the rows
        select = "1 AS _row"
    source = table
    if load_ids is not None and "_load_id" in types:  # without it the column-set check fails
        source = _new_rows_sql(table, load_ids, [k for k in keys if set(k) <= set(types)])
    return select, source, types


def _new_rows_sql(table: str, load_ids: tuple[str, ...], keys: list[tuple[str, ...]]) -> str:
    """A subquery: the rows of `load_ids`, and the older rows sharing a key with one of them.

    One UNION branch per key (UNION, not UNION ALL: an old row matching two keys is one row);
    EXISTS becomes a semi join in DuckDB, cheap next to reading the table.
    """
    ids = _sql_list(load_ids)
    new = f"SELECT * FROM {table} WHERE _load_id IN ({ids})"
    older = [
        f"SELECT * FROM {table} o WHERE o._load_id NOT IN ({ids}) AND EXISTS "
        f"(SELECT 1 FROM new_rows n WHERE " + " AND ".join(f'n."{c}" = o."{c}"' for c in key) + ")"
        for key in keys
    ]
    if not older:
        return f"({new})"
    return (
        f"(WITH new_rows AS MATERIALIZED ({new}) SELECT * FROM new_rows UNION ALL "
        f"({' UNION '.join(older)}))"
    )


def row_count_frame(con, table: str) -> pd.DataFrame:
    """As many rows as the table and no columns (an index only, no memory per row): for
    row-count expectations."""
    if not table_exists(con, table):
        raise MissingTable(f"table {table} does not exist")
    ((rows,),) = con.execute(f"SELECT count(*) FROM {table}").fetchall()
    return pd.DataFrame(index=pd.RangeIndex(rows))


def table_shape_frame(con, table: str) -> pd.DataFrame:
    """All columns of a table and no rows: enough for expect_table_columns_to_match_set."""
    if not table_exists(con, table):
        raise MissingTable(f"table {table} does not exist")
    return con.execute(f"SELECT * FROM {table} LIMIT 0").df()


# Each reference: (name, child table, child column, parent table, parent column).
REFERENCES = (
    ("families.school_id -> schools", "raw.families", "school_id", "raw.schools", "school_id"),
    (
        "contact_logs.school_id -> schools",
        "raw.contact_logs",
        "school_id",
        "raw.schools",
        "school_id",
    ),
    ("messages.school_id -> schools", "raw.messages", "school_id", "raw.schools", "school_id"),
    (
        "survey_responses.school_id -> schools",
        "raw.survey_responses",
        "school_id",
        "raw.schools",
        "school_id",
    ),
    (
        "contact_logs.family_ref -> families",
        "raw.contact_logs",
        "family_ref",
        "raw.families",
        "family_ref",
    ),
    ("messages.family_ref -> families", "raw.messages", "family_ref", "raw.families", "family_ref"),
    (
        "survey_responses.family_ref -> families",
        "raw.survey_responses",
        "family_ref",
        "raw.families",
        "family_ref",
    ),
    (
        "message_events.message_id -> messages",
        "raw.message_events",
        "message_id",
        "raw.messages",
        "message_id",
    ),
)


def references_frame(con, load_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per reference between raw tables: how many child rows point at nothing.

    Counting in DuckDB keeps pseudonyms out of GX results and Data Docs, and stays small at any
    scale. A reference whose tables are missing is left out (the table suites report those).
    load_ids: count only the child rows of these loads (parents are never deleted but by
    retention, so older rows cannot lose their parent); None: every row.
    """
    new_only = "" if load_ids is None else f" AND c._load_id IN ({_sql_list(load_ids)})"
    rows = []
    for name, child, col, parent, pcol in REFERENCES:
        if not (table_exists(con, child) and table_exists(con, parent)):
            continue
        n, orphans = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.{pcol} = c.{col})) "
            f"FROM {child} c WHERE c.{col} IS NOT NULL{new_only}"
        ).fetchone()
        rows.append((name, n, orphans))
    if table_exists(con, "raw.survey_responses") and table_exists(con, "raw.schools"):
        n, orphans = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE c.sector <> s.sector) "
            f"FROM raw.survey_responses c JOIN raw.schools s USING (school_id) WHERE true{new_only}"
        ).fetchone()
        rows.append(("survey_responses.sector -> schools.sector", n, orphans))
    df = pd.DataFrame(rows, columns=["reference", "child_rows", "orphans"])
    df["orphan_share"] = (df["orphans"] / df["child_rows"].where(df["child_rows"] > 0)).fillna(0.0)
    return df


def has_rows(con, table: str, load_ids: tuple[str, ...]) -> bool:
    """Whether any row of the table comes from one of these loads."""
    sql = f"SELECT count(*) > 0 FROM {table} WHERE _load_id IN ({_sql_list(load_ids)})"
    return con.execute(sql).fetchall()[0][0]


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def _unit_source(con) -> str | None:
    """Where the unit of an indicator code comes from: the catalogue seed, else the wide mart."""
    found = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.columns "
        "WHERE table_name IN ('indicator_catalogue', 'mart_indicator_dashboard') "
        "AND column_name = 'unit' "
        "ORDER BY table_name = 'indicator_catalogue' DESC, table_schema"
    ).fetchall()
    return found[0][0] if found else None


def fct_indicator_sql(con) -> str:
    """The rows the marts suite validates: marts.fct_indicator plus `unit` and `is_gap`, so the
    suite can tell proportions from means.

    Values and intervals are rounded to 9 decimals: a Wilson bound of 1e-17 under a value of 0
    is floating-point noise, not a broken interval.
    """
    if not table_exists(con, "marts.fct_indicator"):
        raise MissingTable("table marts.fct_indicator does not exist")
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' "
            "AND table_name = 'fct_indicator' ORDER BY ordinal_position"
        ).fetchall()
    ]
    rounded = {"value", "ci_low", "ci_high"}
    select = ", ".join(f"round(f.{c}, 9) AS {c}" if c in rounded else f"f.{c}" for c in cols)
    source = _unit_source(con)
    if source:
        # The exact code first (e.g. a catalogue row for a weighted code), else its base
        # indicator without _weighted/_gap. One row per code keeps the join from adding rows.
        lookup = f"(SELECT indicator_code, min(unit) AS unit FROM {source} GROUP BY indicator_code)"
        unit = "coalesce(ux.unit, ub.unit) AS unit"
        join = (
            f"LEFT JOIN {lookup} ux ON ux.indicator_code = f.indicator_code "
            f"LEFT JOIN {lookup} ub ON ub.indicator_code = "
            "regexp_replace(f.indicator_code, '(_weighted)?(_gap)?$', '')"
        )
    else:
        unit, join = "NULL::VARCHAR AS unit", ""
    return (
        f"SELECT {select}, {unit}, ends_with(f.indicator_code, '_gap') AS is_gap "
        f"FROM marts.fct_indicator f {join}"
    )


def fct_indicator_frame(con) -> pd.DataFrame:
    """Every row of fct_indicator_sql as a DataFrame."""
    return con.execute(fct_indicator_sql(con)).df()


def raw_parameters(now: dt.datetime | None = None) -> dict:
    """ "Now" in both forms the raw tables use: naive local time and time-zone aware UTC."""
    now = now or dt.datetime.now(dt.UTC)
    return {
        "now_utc": now.astimezone(dt.UTC),
        "now_local": now.astimezone(LOCAL_TZ).replace(tzinfo=None),
    }


def last_published_row_count(settings: Settings) -> int | None:
    """Rows of `indicator` in the last publish, from the serving file's publish_run."""
    if not settings.serving_path.exists():
        return None
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        if not table_exists(con, "main.publish_run"):
            return None
        row = con.execute(
            "SELECT rows_indicator FROM publish_run ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
        return None if row is None else int(row[0])
    finally:
        con.close()


def marts_parameters(settings: Settings, con) -> dict:
    if table_exists(con, "raw.schools"):
        sectors = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT sector FROM raw.schools WHERE sector IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
    else:  # a warehouse without a raw layer (hand-built marts): expect every sector
        sectors = list(SECTORS)
    last = last_published_row_count(settings)
    tolerance = settings.row_count_drop_tolerance
    # ceil: a drop of exactly the tolerance still passes, a row more fails.
    min_rows = 0 if last is None else math.ceil(last * (1 - tolerance) - 1e-9)
    return {"expected_sectors": sectors, "min_row_count": min_rows, "last_published_rows": last}


def frame_for(con, suite: dict, load_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The DataFrame a suite validates (meta.table); raises MissingTable.

    Raw tables are read with only the columns the suite names, keys as integers: at board
    scale reading every column (64-char pseudonyms, file hashes) was most of the gate's time
    and memory. load_ids: see raw_table_frame.
    """
    table = suite["meta"]["table"]
    if table == "raw.references":
        return references_frame(con, load_ids)
    if table == "marts.fct_indicator":
        return fct_indicator_frame(con)
    return raw_table_frame(con, table, column_uses(suite), load_ids, unique_keys(suite))


def frames_for(con, suite: dict, load_ids: tuple[str, ...] | None = None) -> Iterable[pd.DataFrame]:
    """frame_for, with a large raw table read in batches (raw_table_batches): the frames one
    at a time, each read only when the one before has been validated. A missing table raises
    MissingTable here, not when the first batch is asked for."""
    table = suite["meta"]["table"]
    if table.startswith("raw.") and table != "raw.references":
        if not table_exists(con, table):
            raise MissingTable(f"table {table} does not exist")
        return raw_table_batches(con, table, suite, load_ids)
    return [frame_for(con, suite, load_ids)]


def layer_parameters(settings: Settings, con, layer: str) -> dict:
    return raw_parameters() if layer == "raw" else marts_parameters(settings, con)
