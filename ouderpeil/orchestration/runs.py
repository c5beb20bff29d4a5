"""Run ids and school years for schedules and params (no Airflow imports)."""

from __future__ import annotations

import datetime as dt
import re

from ouderpeil.errors import OuderpeilError

_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


def pipeline_run_id(dag_id: str, airflow_run_id: str) -> str:
    """The run id the quality records, publish_run and exports carry.

    Derived from the Airflow run, so every task of one DAG run (gate, publish) agrees on it and
    it can be traced back to the run in the Airflow UI; characters that are awkward in file
    names (``:``, ``+``) become ``-``.
    """
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{dag_id}.{airflow_run_id}")


def school_year_of(day: dt.date) -> str:
    """School year (1 August - 31 July) containing ``day``: 2026-01-01 -> '2025-2026'."""
    start = day.year if (day.month, day.day) >= (8, 1) else day.year - 1
    return f"{start}-{start + 1}"


def export_period_for(logical_date: dt.datetime | dt.date) -> str:
    """Default period of a scheduled termly export: the school year the term just closed.

    Runs on 1 January, 1 April and 1 August: the day before lies in the term that ended, so
    1 August exports the complete school year that ended on 31 July.
    """
    day = logical_date.date() if isinstance(logical_date, dt.datetime) else logical_date
    return school_year_of(day - dt.timedelta(days=1))


def check_school_year(period: str) -> str:
    """'2024-2025' or raise OuderpeilError: a backfill never runs for a mistyped year."""
    m = _SCHOOL_YEAR.match(period or "")
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise OuderpeilError(
            f"period {period!r} is not a school year like '2024-2025' (two consecutive years)"
        )
    return period
