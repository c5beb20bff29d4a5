"""Set-based parsing and validation of a staged file, in SQL.

From the staging table (text values, see readers.py) two TEMP tables are built:

- ``checked``: per row the mapped text ``m_<column>`` (labels turned into codes, kept for the
  reject value) and the typed value ``t_<column>`` (NULL when it does not parse);
- ``rejects``: one line per problem ``(row_number, column_name, value, reason)``.

A row with at least one line in ``rejects`` is rejected as a whole; the others are loaded.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import duckdb

from ouderpeil.contracts import Column, Source
from ouderpeil.loading import dates, reasons
from ouderpeil.loading.profiles import SourceProfile
from ouderpeil.spreadsheet_safety import FORMULA_LIKE_SQL_REGEX

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
REJECT_VALUE_MAX = 200  # a reject shows enough of a value to find it, never a whole blob


def _str(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _str_list(values) -> str:
    return ", ".join(_str(v) for v in values)


def mapped_expr(column: Column, profile: SourceProfile, present: set[str]) -> str:
    """The column's text after label mapping; unknown labels pass through unchanged so that
    the code check rejects them with the label as value."""
    value = f'"{column.name}"' if column.name in present else "NULL::VARCHAR"
    labels = dict(profile.values.get(column.name) or {})
    if column.codes is not None and column.type == "text":
        # A contract code in other case (TELEFOON, Gehouden) is that code.
        labels = {**{str(c).lower(): str(c) for c in column.codes}, **labels}
    if not labels or column.name not in present:
        return value
    whens = " ".join(f"WHEN {_str(label)} THEN {_str(code)}" for label, code in labels.items())
    return f"CASE lower({value}) {whens} ELSE {value} END"


def typed_expr(column: Column, profile: SourceProfile, m: str) -> str:
    """The typed value of mapped text ``m``; NULL when it does not parse."""
    kind = column.type
    if kind == "text":
        return m
    if kind == "int":
        return dates.int_expr(m)
    if kind == "decimal":
        return dates.decimal_expr(m, profile.decimal)
    if kind == "date":
        return dates.date_expr(m, profile.date_formats, profile.excel_serial_dates)
    if kind == "timestamp":
        return dates.timestamp_expr(m, profile.timestamp_formats, profile.excel_serial_dates)
    if kind == "timestamptz":
        # ISO 8601 with an offset (docs/spec/SOURCES.md); a time without offset is ambiguous.
        return (
            f"CASE WHEN regexp_matches({m}, '(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$') "
            f"THEN TRY_CAST({m} AS TIMESTAMPTZ) END"
        )
    if kind == "bool":
        empty_is_false = "" in profile.false_values
        true_values = [v for v in profile.true_values if v]
        false_values = [v for v in profile.false_values if v]
        return (
            f"CASE WHEN {m} IS NULL THEN {'false' if empty_is_false else 'NULL'} "
            f"WHEN lower({m}) IN ({_str_list(true_values)}) THEN true "
            f"WHEN lower({m}) IN ({_str_list(false_values)}) THEN false END"
        )
    raise ValueError(f"unknown column type {kind!r} of {column.name}")


def build_checked(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    checked: str,
    source: Source,
    profile: SourceProfile,
    present: set[str],
) -> None:
    """``checked`` = staged rows with mapped text and typed value of every canonical column."""
    mapped = ", ".join(f"{mapped_expr(c, profile, present)} AS m_{c.name}" for c in source.columns)
    typed = ", ".join(
        f"{typed_expr(c, profile, f'm_{c.name}')} AS t_{c.name}" for c in source.columns
    )
    con.execute(f"""
        CREATE TEMP TABLE {checked} AS
        WITH mapped AS (SELECT _row_number, _row_problem, {mapped} FROM {staged})
        SELECT *, {typed} FROM mapped
    """)


def _code_literals(column: Column) -> str:
    if column.type == "text":
        return _str_list(column.codes)
    return ", ".join(str(c) for c in column.codes)


def field_checks(column: Column, today=None) -> list[tuple[str, str]]:
    """(condition on a row of ``checked``, reason) for every rule of one column. ``today``
    (a date) anchors the plausible window of dates and timestamps."""
    m, t = f"m_{column.name}", f"t_{column.name}"
    checks = []
    if column.type == "timestamp":  # Europe/Amsterdam wall clock
        nonexistent, ambiguous = dates.local_time_problem_expr(t)
        checks.append((f"{t} IS NOT NULL AND {nonexistent}", reasons.NONEXISTENT_LOCAL_TIME))
        checks.append((f"{t} IS NOT NULL AND {ambiguous}", reasons.AMBIGUOUS_LOCAL_TIME))
    if column.not_before is not None or column.days_ahead is not None:
        day = f"CAST({t} AS DATE)"
        bounds = []
        if column.not_before is not None:
            bounds.append(f"{day} < DATE '{column.not_before}'")
        if column.days_ahead is not None and column.type == "date":
            anchor = (today or load_moment().date()).isoformat()
            bounds.append(f"{day} > DATE '{anchor}' + {int(column.days_ahead)}")
        elif column.days_ahead is not None:
            # An event is not after the moment of loading (plus days_ahead): the raw gate
            # checks the same ("the maximum is not after now"), so no loaded row can block it.
            moment = load_moment() + dt.timedelta(days=column.days_ahead)
            if column.type == "timestamp":  # Europe/Amsterdam wall clock, as the gate's now_local
                local = moment.astimezone(LOCAL_TZ).replace(tzinfo=None)
                bounds.append(f"{t} > TIMESTAMP '{local.isoformat(sep=' ')}'")
            else:
                utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
                bounds.append(f"{t} > TIMESTAMPTZ '{utc.isoformat(sep=' ')}+00'")
        checks.append((f"{t} IS NOT NULL AND ({' OR '.join(bounds)})", reasons.IMPLAUSIBLE_DATE))
    if column.required:
        checks.append((f"{m} IS NULL", reasons.MISSING_REQUIRED))
    if column.type != "text":
        invalid = f"{m} IS NOT NULL AND {t} IS NULL"
        checks.append((invalid, reasons.INVALID_TYPE[column.type]))
    if column.codes is not None:
        checks.append(
            (f"{t} IS NOT NULL AND {t} NOT IN ({_code_literals(column)})", reasons.UNKNOWN_CODE)
        )
    if column.min is not None or column.max is not None:
        bounds = []
        if column.min is not None:
            bounds.append(f"{t} < {column.min}")
        if column.max is not None:
            bounds.append(f"{t} > {column.max}")
        checks.append((f"{t} IS NOT NULL AND ({' OR '.join(bounds)})", reasons.OUT_OF_RANGE))
    if is_reference_name(column):
        checks.append(
            (f"regexp_matches({m}, {_str(FORMULA_LIKE_SQL_REGEX)})", reasons.FORMULA_LIKE_NAME)
        )
    return checks


def load_moment() -> dt.datetime:
    """The moment the plausible windows are anchored to: now, or the end of
    OUDERPEIL_LOAD_DAY (YYYY-MM-DD, Europe/Amsterdam) to re-load an old inbox as of the day it
    was delivered."""
    day = os.environ.get("OUDERPEIL_LOAD_DAY")
    if not day:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59), LOCAL_TZ)


def load_day() -> dt.date:
    return load_moment().astimezone(LOCAL_TZ).date()


def is_reference_name(column: Column) -> bool:
    """School and board names: shown on dashboards and in every export, never a formula."""
    return column.type == "text" and column.codes is None and column.name.endswith("_name")


def build_rejects(
    con: duckdb.DuckDBPyConnection,
    checked: str,
    rejects: str,
    source: Source,
    check_school_ids: bool,
    cell_problems: str | None = None,
) -> None:
    """``rejects`` = every field-level problem, then duplicate keys among the remaining rows.
    ``cell_problems`` (row_number, column_name, value, reason) holds what the reader or the
    text normalisation found in a cell before its value could be read (normalise.py)."""

    def value(col: str) -> str:
        return f"left(m_{col}, {REJECT_VALUE_MAX})"

    parts = [
        f"SELECT _row_number, NULL::VARCHAR, NULL::VARCHAR, _row_problem FROM {checked} "
        "WHERE _row_problem IS NOT NULL"
    ]
    if cell_problems:
        parts.append(f"SELECT row_number, column_name, value, reason FROM {cell_problems}")
    today = load_day()
    for column in source.columns:
        for condition, reason in field_checks(column, today):
            parts.append(
                f"SELECT _row_number, {_str(column.name)}, {value(column.name)}, "
                f"{_str(reason)} FROM {checked} "
                f"WHERE _row_problem IS NULL AND {condition}"
            )
    if check_school_ids:
        parts.append(
            f"SELECT _row_number, 'school_id', {value('school_id')}, "
            f"{_str(reasons.UNKNOWN_SCHOOL_ID)} FROM {checked} c "
            "WHERE _row_problem IS NULL AND m_school_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM raw.schools s WHERE s.school_id = c.m_school_id)"
        )
    con.execute(
        f"CREATE TEMP TABLE {rejects} (row_number BIGINT, column_name VARCHAR, "
        "value VARCHAR, reason VARCHAR)"
    )
    con.execute(f"INSERT INTO {rejects} " + " UNION ALL ".join(parts))
    _add_duplicate_keys(con, checked, rejects, source)


def _add_duplicate_keys(con, checked: str, rejects: str, source: Source) -> None:
    """A key seen earlier in this file, or already in the warehouse, is a duplicate. Only rows
    that passed every other check count, so an invalid first row does not block a valid
    second one. (GROUP BY on the few repeated keys is cheaper than a window over all rows.)"""
    key_t = ", ".join(f"t_{k}" for k in source.key)
    same_as_first = " AND ".join(f"v.t_{k} = f.t_{k}" for k in source.key)
    same_as_loaded = " AND ".join(f"r.{k} = v.t_{k}" for k in source.key)
    key_value = (
        f"left(concat_ws('|', {', '.join(f'v.m_{k}' for k in source.key)}), {REJECT_VALUE_MAX})"
    )
    con.execute(f"""
        INSERT INTO {rejects}
        WITH valid AS (
            SELECT * FROM {checked} c
            WHERE NOT EXISTS (SELECT 1 FROM {rejects} r WHERE r.row_number = c._row_number)
        ), firsts AS (
            SELECT {key_t}, min(_row_number) AS first_row FROM valid
            GROUP BY {key_t} HAVING count(*) > 1
        ), duplicates AS (
            SELECT v.* FROM valid v JOIN firsts f ON {same_as_first}
            WHERE v._row_number > f.first_row
            UNION ALL
            SELECT v.* FROM valid v
            WHERE EXISTS (SELECT 1 FROM raw.{source.name} r WHERE {same_as_loaded})
        )
        SELECT DISTINCT _row_number, {_str(",".join(source.key))}, {key_value},
               {_str(reasons.DUPLICATE_KEY)}
        FROM duplicates v
    """)
