"""School years, Dutch school holidays and Europe/Amsterdam clock offsets.

Holidays are those of region midden (Utrecht and surroundings) as in the dbt seed
school_holidays (rijksoverheid.nl, sources per row there), plus the public holidays on which
schools close (Goede Vrijdag, Tweede Paasdag, Bevrijdingsdag in the 2025 lustrum year,
Hemelvaart with the Friday after it, Tweede Pinksterdag). Schools are closed on weekends too.

Sample data never lies in the future: a school year's days end at ``data_until()``
(yesterday, or OUDERPEIL_SAMPLE_UNTIL=YYYY-MM-DD for a data set as of another day), and at
the last day its calendar is known (KNOWN_UNTIL: the 2026-2027 calendar is not complete yet).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cache

import numpy as np

# (first day, last day) inclusive, region midden.
HOLIDAYS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "2024-2025": (
        ("zomervakantie 2024", "2024-07-13", "2024-08-25"),
        ("herfstvakantie", "2024-10-19", "2024-10-27"),
        ("kerstvakantie", "2024-12-21", "2025-01-05"),
        ("voorjaarsvakantie", "2025-02-22", "2025-03-02"),
        ("Goede Vrijdag", "2025-04-18", "2025-04-18"),
        ("Tweede Paasdag", "2025-04-21", "2025-04-21"),
        ("meivakantie", "2025-04-26", "2025-05-04"),
        ("Bevrijdingsdag", "2025-05-05", "2025-05-05"),
        ("Hemelvaart", "2025-05-29", "2025-05-30"),
        ("Tweede Pinksterdag", "2025-06-09", "2025-06-09"),
        ("zomervakantie 2025", "2025-07-19", "2025-08-31"),
    ),
    "2025-2026": (
        ("zomervakantie 2025", "2025-07-19", "2025-08-31"),
        ("herfstvakantie", "2025-10-18", "2025-10-26"),
        ("kerstvakantie", "2025-12-20", "2026-01-04"),
        ("voorjaarsvakantie", "2026-02-14", "2026-02-22"),
        ("Goede Vrijdag", "2026-04-03", "2026-04-03"),
        ("Tweede Paasdag", "2026-04-06", "2026-04-06"),
        ("meivakantie", "2026-04-25", "2026-05-03"),
        ("Hemelvaart", "2026-05-14", "2026-05-15"),
        ("Tweede Pinksterdag", "2026-05-25", "2026-05-25"),
        ("zomervakantie 2026", "2026-07-18", "2026-08-30"),
    ),
    # Known up to KNOWN_UNTIL only (see dbt_project/seeds/school_calendar_years.csv).
    "2026-2027": (
        ("zomervakantie 2026", "2026-07-18", "2026-08-30"),
        ("herfstvakantie", "2026-10-17", "2026-10-25"),
        ("kerstvakantie", "2026-12-19", "2027-01-03"),
    ),
}
# Last day of a school year whose calendar is known (default: the whole year).
KNOWN_UNTIL = {"2026-2027": "2027-01-31"}
SAMPLE_UNTIL_ENV = "OUDERPEIL_SAMPLE_UNTIL"


def data_until() -> np.datetime64:
    """The last day sample data may fall on: yesterday, the last complete day (nothing of it
    lies after the moment the demo loads it), unless OUDERPEIL_SAMPLE_UNTIL says."""
    day = os.environ.get(SAMPLE_UNTIL_ENV)
    if day:
        return np.datetime64(day, "D")
    return np.datetime64((dt.date.today() - dt.timedelta(days=1)).isoformat(), "D")


SECONDS_PER_DAY = 86_400


def year_bounds(school_year: str) -> tuple[np.datetime64, np.datetime64]:
    """1 August to 31 July (docs/spec/INDICATORS.md), as datetime64[D]."""
    first = int(school_year[:4])
    return np.datetime64(f"{first}-08-01"), np.datetime64(f"{first + 1}-07-31")


def holiday_dates(school_year: str) -> np.ndarray:
    """Every holiday date (datetime64[D]) that falls in the school year, weekends not included."""
    if school_year not in HOLIDAYS:
        raise ValueError(
            f"no holiday calendar for school year {school_year!r}; known: {', '.join(HOLIDAYS)}"
        )
    start, end = year_bounds(school_year)
    days = [np.arange(np.datetime64(a), np.datetime64(b) + 1) for _, a, b in HOLIDAYS[school_year]]
    days = np.unique(np.concatenate(days))
    return days[(days >= start) & (days <= end)]


@dataclass(frozen=True)
class SchoolCalendar:
    """The school days of one school year and their grouping into weeks."""

    school_year: str
    days: np.ndarray  # datetime64[D], sorted school days
    week_of_day: np.ndarray  # index into week_starts for every school day
    week_starts: np.ndarray  # index into days of the first school day of each school week
    week_lengths: np.ndarray  # school days in each school week

    @property
    def n_weeks(self) -> int:
        return len(self.week_starts)


def school_calendar(school_year: str) -> SchoolCalendar:
    """The school days of a school year, up to ``data_until()`` and the last known day."""
    return _school_calendar(school_year, data_until())


@cache
def _school_calendar(school_year: str, until: np.datetime64) -> SchoolCalendar:
    start, end = year_bounds(school_year)
    end = min(end, until, np.datetime64(KNOWN_UNTIL.get(school_year, str(end))))
    if end < start:
        raise ValueError(
            f"school year {school_year} has not started on {until} (sample data "
            f"never lies in the future)"
        )
    all_days = np.arange(start, end + 1)
    weekday = (all_days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    closed = np.isin(all_days, holiday_dates(school_year)) | (weekday >= 5)
    days = all_days[~closed]
    monday = days - ((days.astype("int64") + 3) % 7).astype("timedelta64[D]")
    _, week_starts, week_of_day, week_lengths = np.unique(
        monday, return_index=True, return_inverse=True, return_counts=True
    )
    return SchoolCalendar(school_year, days, week_of_day, week_starts, week_lengths)


def is_school_day(day: dt.date | np.datetime64, school_year: str) -> bool:
    return bool(np.isin(np.datetime64(day, "D"), school_calendar(school_year).days))


def school_year_of(day: dt.date | np.datetime64) -> str:
    d = np.datetime64(day, "D").astype(object)
    first = d.year if d.month >= 8 else d.year - 1
    return f"{first}-{first + 1}"


# --------------------------------------------------------------------------- clock offsets
def _last_sunday(year: int, month: int) -> dt.date:
    last = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


@cache
def _dst_windows_utc(first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Summer-time windows in UTC seconds: EU rule, last Sunday of March/October 01:00 UTC."""
    starts, ends = [], []
    for y in range(first_year, last_year + 1):
        starts.append(dt.datetime.combine(_last_sunday(y, 3), dt.time(1)))
        ends.append(dt.datetime.combine(_last_sunday(y, 10), dt.time(1)))
    epoch = dt.datetime(1970, 1, 1)

    def to_s(xs):
        return np.array([int((x - epoch).total_seconds()) for x in xs], dtype="int64")

    return to_s(starts), to_s(ends)


def utc_offset_hours(utc_seconds: np.ndarray) -> np.ndarray:
    """+1 (CET) or +2 (CEST) for every UTC instant (seconds since the epoch)."""
    years = utc_seconds.astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970
    starts, ends = _dst_windows_utc(
        int(years.min()) if len(years) else 2024, int(years.max()) if len(years) else 2024
    )
    idx = years - (int(years.min()) if len(years) else 2024)
    summer = (utc_seconds >= starts[idx]) & (utc_seconds < ends[idx])
    return np.where(summer, 2, 1).astype("int64")


def local_to_utc(local_seconds: np.ndarray) -> np.ndarray:
    """Local wall-clock seconds -> UTC seconds. In the repeated October hour the summer-time
    reading wins; times in the skipped March hour are taken as winter time (none are generated
    on purpose: schools do not send at 02:30 on a Sunday)."""
    as_summer = local_seconds - 7200
    return np.where(utc_offset_hours(as_summer) == 2, as_summer, local_seconds - 3600)


def utc_to_local(utc_seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTC seconds -> (local wall-clock seconds, offset hours)."""
    offset = utc_offset_hours(utc_seconds)
    return utc_seconds + offset * 3600, offset
