"""School calendars (issue 12, item 2): the seeds cover 2024-2025 up to 2027-2028 as far as
the sources go, each row with its source; a build that meets activity on a day no calendar
covers fails with a message naming the school year and where to add it; a board's own
calendar in the documented local seeds makes the same build pass."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from ouderpeil.errors import DbtBuildFailed
from tests.conftest import make_settings

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
REGIONS = {"noord", "midden", "zuid"}
YEARS = ("2024-2025", "2025-2026", "2026-2027", "2027-2028")


def _rows(name: str) -> list[dict]:
    with (SEEDS / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_holiday_row_has_a_source_and_sane_dates():
    rows = _rows("school_holidays.csv")
    assert {r["school_year"] for r in rows} >= set(YEARS)
    for r in rows:
        start, end = dt.date.fromisoformat(r["start_date"]), dt.date.fromisoformat(r["end_date"])
        assert r["region"] in REGIONS and r["source"].strip(), r
        assert start <= end and (end - start).days <= 50, r
        assert start.weekday() == 5 and end.weekday() == 6, r  # Saturday to Sunday


def test_coverage_names_every_year_and_region_and_matches_the_holidays():
    coverage = _rows("school_calendar_years.csv")
    assert {(c["school_year"], c["region"]) for c in coverage} == {
        (y, r) for y in YEARS for r in REGIONS
    }
    holidays = _rows("school_holidays.csv")
    for c in coverage:
        known_from = dt.date.fromisoformat(c["known_from"])
        known_until = dt.date.fromisoformat(c["known_until"])
        first = int(c["school_year"][:4])
        assert dt.date(first, 8, 1) <= known_from <= known_until <= dt.date(first + 1, 7, 31)
        assert c["source"].strip()
        # a covered stretch holds the region's herfst- and kerstvakantie when it spans them
        names = {
            h["holiday"]
            for h in holidays
            if h["region"] == c["region"]
            and known_from <= dt.date.fromisoformat(h["start_date"]) <= known_until
        }
        if known_until >= dt.date(first + 1, 1, 10):
            assert {"herfstvakantie", "kerstvakantie"} <= names, c
        if known_until == dt.date(first + 1, 7, 31):
            assert {"voorjaarsvakantie", "meivakantie", "zomervakantie"} <= names, c


def test_local_seeds_ship_empty_with_the_national_columns():
    for local, national in (
        ("school_holidays_local.csv", "school_holidays.csv"),
        ("school_calendar_years_local.csv", "school_calendar_years.csv"),
    ):
        text = (SEEDS / local).read_text(encoding="utf-8").splitlines()
        assert text == [(SEEDS / national).read_text(encoding="utf-8").splitlines()[0]]


@pytest.mark.slow
def test_a_build_without_a_calendar_for_the_data_fails_then_a_local_calendar_fixes_it(
    built_settings, tmp_path
):
    from ouderpeil.transform import run_dbt

    data = tmp_path / "data"
    shutil.copytree(built_settings.data_dir, data)
    project = tmp_path / "dbt_project"
    shutil.copytree(
        built_settings.dbt_project_dir,
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    settings = make_settings(data, OUDERPEIL_DBT_PROJECT_DIR=str(project))
    con = duckdb.connect(str(settings.warehouse_path))
    try:  # one contact on 15 March 2027: beyond what the 2026-2027 calendar covers
        con.execute("""INSERT INTO raw.contact_logs BY NAME
            SELECT * REPLACE ('CAL-1' AS contact_id, TIMESTAMP '2027-03-15 10:00' AS contact_at,
                              'cal-load' AS _load_id)
            FROM raw.contact_logs LIMIT 1""")
    finally:
        con.close()
    with pytest.raises(DbtBuildFailed) as err:
        run_dbt(settings, "run", select="+int_school_weeks")
    assert "Geen schoolkalender voor schooljaar 2026-2027" in str(err.value)
    assert "school_holidays_local.csv" in str(err.value)

    # The board adds its own calendar for the rest of 2026-2027 in the documented place.
    with (project / "seeds" / "school_holidays_local.csv").open("a", encoding="utf-8") as fh:
        for region in sorted(REGIONS):
            fh.write(
                f"2026-2027,{region},voorjaarsvakantie,2027-02-20,2027-02-28,"
                "schoolgids van het bestuur\n"
            )
    with (project / "seeds" / "school_calendar_years_local.csv").open("a", encoding="utf-8") as fh:
        for region in sorted(REGIONS):
            fh.write(f"2026-2027,{region},2027-02-01,2027-07-31,schoolgids van het bestuur\n")
    run_dbt(settings, "seed")
    run_dbt(settings, "run", select="+int_school_weeks")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        weeks = {
            (r, w)
            for r, w in con.execute(
                "SELECT region, week_start FROM intermediate.int_school_weeks"
            ).fetchall()
        }
    finally:
        con.close()
    assert ("midden", dt.date(2027, 3, 15)) in weeks  # the data's week counts
    assert ("midden", dt.date(2027, 2, 22)) not in weeks  # the board's holiday does not
    assert ("midden", dt.date(2026, 10, 19)) not in weeks  # herfstvakantie 2026
    assert ("noord", dt.date(2026, 10, 12)) not in weeks
    assert ("midden", dt.date(2026, 11, 2)) in weeks
