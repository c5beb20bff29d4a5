"""Reading dates, times and numbers only where the reading is certain, as SQL expressions.

A profile lists the strptime formats it accepts (``date_formats``, ``timestamp_formats``). Each
format is turned into a strict regular expression, and a value is parsed with a format only
when it matches that expression in full: ``31-7-26`` never fits ``%d-%m-%Y`` (DuckDB's
strptime would read it as the year 26), a two-digit year fits only a ``%y`` format (read as
2000-2068; 69-99 land before 2000 and are rejected by the plausible window). A profile may not
accept day-first and month-first spellings of the same shape: which one a value means would be
a guess (``check_formats``).

Beyond strptime: ``%b``/``%B`` read Dutch month names (``3 okt 2026``, ``3 oktober 2026``,
``3 okt. 2026``), and with ``excel_serial_dates`` a bare Excel serial number (``46297``, for a
timestamp also ``46297.4375``) is read as the day it counts from 30 December 1899.

Local times (``timestamp`` columns, Europe/Amsterdam wall clock) that do not exist (the spring
DST gap) or occur twice (the autumn hour) are found by ``local_time_problem_expr``.
"""

from __future__ import annotations

import re

DUTCH_MONTHS = (
    ("januari", "jan"),
    ("februari", "feb"),
    ("maart", "mrt", "maa"),
    ("april", "apr"),
    ("mei",),
    ("juni", "jun"),
    ("juli", "jul"),
    ("augustus", "aug"),
    ("september", "sept", "sep"),
    ("oktober", "okt"),
    ("november", "nov"),
    ("december", "dec"),
)
_MONTH_NAME = "(" + "|".join(n for names in DUTCH_MONTHS for n in names) + r")\.?"

# strptime directive -> the strict regular expression of what it may match.
DIRECTIVES = {
    "%d": r"(0?[1-9]|[12][0-9]|3[01])",
    "%m": r"(0?[1-9]|1[0-2])",
    "%Y": r"[0-9]{4}",
    "%y": r"[0-9]{2}",
    "%H": r"([01]?[0-9]|2[0-3])",
    "%M": r"[0-5][0-9]",
    "%S": r"[0-5][0-9]",
    "%f": r"[0-9]{1,6}",
    "%b": _MONTH_NAME,
    "%B": _MONTH_NAME,
}
_DIRECTIVE = re.compile(r"%.")

EXCEL_EPOCH = "1899-12-30"  # serial 1 = 1900-01-01, counting Excel's phantom 29 Feb 1900
EXCEL_DATE_RE = r"[0-9]{5}"
EXCEL_DATETIME_RE = r"[0-9]{5}(\.[0-9]+)?"


def format_regex(fmt: str) -> str:
    """The strict (full-match, case-insensitive) regular expression of a strptime format."""
    out, pos = [], 0
    for m in _DIRECTIVE.finditer(fmt):
        out.append(re.escape(fmt[pos : m.start()]))
        if m.group() not in DIRECTIVES:
            raise ValueError(
                f"date format {fmt!r}: directive {m.group()} is not supported "
                f"(supported: {' '.join(DIRECTIVES)})"
            )
        out.append(DIRECTIVES[m.group()])
        pos = m.end()
    out.append(re.escape(fmt[pos:]))
    return "".join(out).replace(r"\ ", " ")


def _field_order(fmt: str) -> tuple[str, str]:
    """(shape, order) of a format: the shape with d/m replaced by one placeholder, and the
    order in which day and month appear. Two formats of one shape and different orders are
    day-first against month-first."""
    directives = _DIRECTIVE.findall(fmt)
    order = "".join(d for d in directives if d in ("%d", "%m"))
    shape = re.sub("%[dm]", "%D", fmt)
    return shape, order


def check_formats(profile: str, formats: list[str] | tuple[str, ...]) -> None:
    """Refuse a profile whose formats would let day-first and month-first both read a value,
    or that names a directive we cannot read strictly."""
    seen: dict[str, tuple[str, str]] = {}
    for fmt in formats:
        format_regex(fmt)
        shape, order = _field_order(fmt)
        if shape in seen and seen[shape][0] != order:
            raise ValueError(
                f"profile {profile}: formats {seen[shape][1]!r} and {fmt!r} read the same "
                "spelling day-first and month-first; which one a value means would be a guess"
            )
        seen.setdefault(shape, (order, fmt))


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _months_to_numbers(m: str) -> str:
    """Dutch month names (lower case, optional dot) replaced by their number."""
    expr = f"lower({m})"
    for number, names in enumerate(DUTCH_MONTHS, start=1):
        pattern = _sql_str("(^|[^a-z])(" + "|".join(names) + r")\.?([^a-z]|$)")
        replacement = _sql_str("\\1" + str(number) + "\\3")
        expr = f"regexp_replace({expr}, {pattern}, {replacement})"
    return expr


def _parse_one(m: str, fmt: str) -> str:
    regex = format_regex(fmt)
    if "%b" in fmt or "%B" in fmt:
        value, fmt = _months_to_numbers(m), fmt.replace("%b", "%m").replace("%B", "%m")
    else:
        value = m
    return (
        f"CASE WHEN regexp_full_match({m}, {_sql_str(regex)}, 'i') "
        f"THEN try_strptime({value}, {_sql_str(fmt)}) END"
    )


def timestamp_expr(m: str, formats, excel_serial: bool) -> str:
    """TIMESTAMP of text ``m`` read with the first format whose strict pattern it matches;
    NULL when none does or the day does not exist."""
    parts = [_parse_one(m, f) for f in formats]
    if excel_serial:
        parts.append(
            f"CASE WHEN regexp_full_match({m}, '{EXCEL_DATETIME_RE}') THEN "
            f"TIMESTAMP '{EXCEL_EPOCH}' + to_microseconds("
            f"round(CAST({m} AS DOUBLE) * 86400e6)::BIGINT) END"
        )
    return "coalesce(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]


def date_expr(m: str, formats, excel_serial: bool) -> str:
    parts = [f"CAST({_parse_one(m, f)} AS DATE)" for f in formats]
    if excel_serial:  # a date column takes whole serial numbers only
        parts.append(
            f"CASE WHEN regexp_full_match({m}, '{EXCEL_DATE_RE}') THEN "
            f"CAST(DATE '{EXCEL_EPOCH}' + CAST({m} AS INTEGER) AS DATE) END"
        )
    return "coalesce(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]


def _last_sunday(t: str, month: int) -> str:
    last = f"make_date(year({t}), {month}, 31)"
    return f"({last} - CAST(dayofweek({last}) AS INTEGER))"


def local_time_problem_expr(t: str) -> tuple[str, str]:
    """(nonexistent, ambiguous) conditions on a Europe/Amsterdam wall-clock TIMESTAMP ``t``:
    02:00-02:59 on the last Sunday of March does not exist (clocks jump to 03:00), and on the
    last Sunday of October it happens twice (summer then winter time): neither can be placed."""

    def in_hour(month: int) -> str:
        start = f"CAST({_last_sunday(t, month)} AS TIMESTAMP) + INTERVAL 2 HOUR"
        return f"({t} >= {start} AND {t} < {start} + INTERVAL 1 HOUR)"

    return in_hour(3), in_hour(10)


# --------------------------------------------------------------------------- numbers
def decimal_expr(m: str, decimal: str) -> str:
    """DOUBLE of text ``m``. A single separator is the decimal separator (point or comma),
    except where it could as well group thousands (``1.234``, ``12,500``: 1-3 digits, not 0,
    then exactly three): that is not read. Both separators: only the profile's grouping
    (``1.234,5`` with decimal comma, ``1,234.5`` with decimal point)."""
    group = "." if decimal == "," else ","
    g, d = re.escape(group), re.escape(decimal)
    grouped = rf"[+-]?[0-9]{{1,3}}({g}[0-9]{{3}})+({d}[0-9]+)?"
    ambiguous = r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}"
    single = r"[+-]?([0-9]+|[0-9]*[.,][0-9]+)"
    return (
        f"CASE WHEN regexp_full_match({m}, {_sql_str(ambiguous)}) THEN NULL "
        f"WHEN regexp_full_match({m}, {_sql_str(grouped)}) "
        f"THEN TRY_CAST(replace(replace({m}, {_sql_str(group)}, ''), ',', '.') AS DOUBLE) "
        f"WHEN regexp_full_match({m}, {_sql_str(single)}) "
        f"THEN TRY_CAST(replace({m}, ',', '.') AS DOUBLE) END"
    )


def int_expr(m: str) -> str:
    """INTEGER of text ``m``: digits, optionally with a zero fraction as Excel writes it
    (``41037.0``, ``41037,0``). ``41037.5`` is not a whole number (DuckDB would round it)."""
    return (
        f"CASE WHEN regexp_full_match({m}, '[+-]?[0-9]+([.,]0+)?') "
        f"THEN TRY_CAST(regexp_replace({m}, '[.,]0+$', '') AS INTEGER) END"
    )
