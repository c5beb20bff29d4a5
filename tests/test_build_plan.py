"""The build plan: which school years a dbt build rebuilds (ouderpeil/build_plan.py).

The rules run on small hand-made warehouses; the slow test proves on the real sample data that
a planned build of one new day gives the same marts as rebuilding everything.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest
from helpers import make_settings

from ouderpeil.build_plan import BuildArgs, plan_build, project_fingerprint
from ouderpeil.transform import dbt_paths, run_dbt

UTC = dt.UTC
LAST_BUILD = dt.datetime(2026, 3, 1, 6, tzinfo=UTC)


def _warehouse(settings, fingerprint: str, last_date=dt.date(2026, 2, 27)) -> None:
    """Raw tables with one old load and the watermark of a build that covered it."""
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA intermediate")
        con.execute(
            "CREATE TABLE raw.raw_load_files (load_id VARCHAR, source VARCHAR, "
            "loaded_at TIMESTAMPTZ, rows_loaded BIGINT)"
        )
        con.execute(
            "CREATE TABLE raw.messages (message_id VARCHAR, sent_at TIMESTAMP, _load_id VARCHAR)"
        )
        con.execute("CREATE TABLE raw.message_events (message_id VARCHAR, _load_id VARCHAR)")
        con.execute("CREATE TABLE raw.contact_logs (contact_at TIMESTAMP, _load_id VARCHAR)")
        con.execute("CREATE TABLE raw.survey_responses (submitted_at TIMESTAMP, _load_id VARCHAR)")
        _load(con, "old", "messages", LAST_BUILD - dt.timedelta(hours=1))
        con.execute("INSERT INTO raw.messages VALUES ('m-2023', '2023-10-02 09:00', 'old')")
        con.execute(
            "CREATE TABLE intermediate.int_build_watermark AS SELECT "
            "?::TIMESTAMPTZ AS built_at, ?::TIMESTAMPTZ AS loaded_upto, "
            "?::VARCHAR AS project_fingerprint, '' AS school_years, "
            "DATE '2023-08-28' AS data_first_date, ?::DATE AS data_last_date",
            [LAST_BUILD, LAST_BUILD - dt.timedelta(hours=1), fingerprint, last_date],
        )
    finally:
        con.close()


def _load(con, load_id: str, source: str, at: dt.datetime = LAST_BUILD, rows: int = 1):
    con.execute("INSERT INTO raw.raw_load_files VALUES (?, ?, ?, ?)", [load_id, source, at, rows])


def _add(settings, sql: str, params=None) -> None:
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(sql, params or [])
    finally:
        con.close()


@pytest.fixture
def planned(settings):
    _warehouse(settings, project_fingerprint(settings.dbt_project_dir))
    return settings


def test_first_build_and_no_warehouse_rebuild_every_year(settings):
    assert plan_build(settings).school_years is None
    assert "no warehouse" in plan_build(settings).reason
    _warehouse(settings, project_fingerprint(settings.dbt_project_dir))
    _add(settings, "DROP TABLE intermediate.int_build_watermark")
    plan = plan_build(settings)
    assert plan.school_years is None and plan.reason == "no earlier build"
    assert plan.loaded_upto.startswith("2026-03-01T05:00")


def test_a_day_of_messages_rebuilds_its_school_year_only(planned):
    s = planned
    assert plan_build(s).reason == "no new load since the last build"
    _add(
        s,
        "INSERT INTO raw.raw_load_files VALUES ('day', 'messages', "
        "TIMESTAMPTZ '2026-03-02 06:00+00', 2)",
    )
    _add(
        s,
        "INSERT INTO raw.messages VALUES ('m1', '2026-02-26 09:00', 'day'), "
        "('m2', '2026-02-27 09:00', 'day')",
    )
    plan = plan_build(s)
    assert plan.school_years == ("2025-2026",), plan
    assert plan.school_year_var == "2025-2026"
    # the per-message tables replace only the month of these messages
    assert plan.months == ("2026-02",) and plan.months_var == "2026-02"
    # Nothing new for the seeds and the other sources' staging tables: not rebuilt; the unit
    # tests test the project, which is the one the last build ran.
    assert plan.unchanged == (
        "resource_type:seed",
        "resource_type:unit_test",
        "stg_schools",
        "stg_families",
        "stg_contact_logs",
        "stg_survey_responses",
    )
    assert plan.loaded_upto.startswith("2026-03-02T06:00")


def test_events_contacts_and_surveys_touch_their_own_years(planned):
    s = planned
    _add(
        s,
        "INSERT INTO raw.raw_load_files VALUES ('ev', 'message_events', "
        "TIMESTAMPTZ '2026-03-02 06:00+00', 1), ('c', 'contact_logs', "
        "TIMESTAMPTZ '2026-03-02 06:01+00', 1), ('s', 'survey_responses', "
        "TIMESTAMPTZ '2026-03-02 06:02+00', 1)",
    )
    # a late event of a 2023 message, a contact of last year, a survey of this year
    _add(s, "INSERT INTO raw.message_events VALUES ('m-2023', 'ev'), ('not-loaded-yet', 'ev')")
    _add(s, "INSERT INTO raw.contact_logs VALUES ('2025-06-30 10:00', 'c')")
    _add(s, "INSERT INTO raw.survey_responses VALUES ('2026-02-20 10:00', 's')")
    assert plan_build(s).school_years == ("2023-2024", "2024-2025", "2025-2026")


def test_the_first_day_of_a_new_school_year_also_rebuilds_the_last_one(planned):
    """The school-week calendar ends at the last activity date: the weeks of 2025-2026 after
    27 February count only once later data exists, so that year changes too."""
    s = planned
    _add(
        s,
        "INSERT INTO raw.raw_load_files VALUES ('sep', 'messages', "
        "TIMESTAMPTZ '2026-09-02 06:00+00', 1)",
    )
    _add(s, "INSERT INTO raw.messages VALUES ('m-sep', '2026-09-01 09:00', 'sep')")
    assert plan_build(s).school_years == ("2025-2026", "2026-2027")


def test_a_monday_also_rebuilds_the_month_of_its_school_week(settings):
    """A week belongs to the month of its Thursday: messages of Monday 30 March 2026 fall in a
    week of April, and the calendar's last date moves from Friday 27 March into that week."""
    _warehouse(settings, project_fingerprint(settings.dbt_project_dir), dt.date(2026, 3, 27))
    _load_messages(settings, "2026-03-30 09:00")
    plan = plan_build(settings)
    assert plan.months == ("2026-03", "2026-04") and plan.school_years == ("2025-2026",), plan


def test_a_gap_in_the_data_rebuilds_every_month_it_spans(settings):
    """Data resumes after a gap: the school weeks between the old last date and the new one
    start to count, in every month between them, across a school year's end."""
    _warehouse(settings, project_fingerprint(settings.dbt_project_dir), dt.date(2026, 6, 12))
    _load_messages(settings, "2026-09-01 09:00")
    plan = plan_build(settings)
    assert plan.months == ("2026-06", "2026-07", "2026-08", "2026-09"), plan
    assert plan.school_years == ("2025-2026", "2026-2027")


def test_a_corrected_file_also_rebuilds_the_months_of_its_earlier_content(planned):
    """A file loaded again under its name with new content replaces the earlier load, whose raw
    rows are gone at once: the months of its rows, still staged, are rebuilt too (a January
    message the correction no longer holds must leave January)."""
    s = planned
    _add(
        s,
        "ALTER TABLE raw.raw_load_files ADD COLUMN file_name VARCHAR; "
        "ALTER TABLE raw.raw_load_files ADD COLUMN status VARCHAR; "
        "UPDATE raw.raw_load_files SET file_name = 'old.csv', status = 'loaded'; "
        "CREATE SCHEMA staging; "
        "CREATE TABLE staging.stg_messages (message_id VARCHAR, sent_date DATE, _load_id VARCHAR); "
        "INSERT INTO raw.raw_load_files VALUES "
        "('jan', 'messages', TIMESTAMPTZ '2026-02-01 06:00+00', 1, 'export.csv', 'replaced'), "
        "('feb', 'messages', TIMESTAMPTZ '2026-03-02 06:00+00', 1, 'export.csv', 'loaded'); "
        "INSERT INTO staging.stg_messages VALUES ('m-jan', DATE '2026-01-14', 'jan'); "
        "INSERT INTO raw.messages VALUES ('m-feb', '2026-02-26 09:00', 'feb')",
    )
    assert plan_build(s).months == ("2026-01", "2026-02")


def _load_messages(settings, *sent_at: str) -> None:
    _add(
        settings,
        "INSERT INTO raw.raw_load_files VALUES ('day', 'messages', "
        "TIMESTAMPTZ '2026-09-02 06:00+00', ?)",
        [len(sent_at)],
    )
    for i, at in enumerate(sent_at):
        _add(settings, "INSERT INTO raw.messages VALUES (?, ?, 'day')", [f"m{i}", at])


@pytest.mark.parametrize("source", ["families", "schools"])
def test_new_families_or_schools_rebuild_every_year(planned, source):
    _add(
        planned,
        "INSERT INTO raw.raw_load_files VALUES ('f', ?, TIMESTAMPTZ '2026-03-02 06:00+00', 10)",
        [source],
    )
    plan = plan_build(planned)
    assert plan.school_years is None and "families" in plan.reason
    assert f"stg_{source}" not in plan.unchanged and "stg_contact_logs" in plan.unchanged


def test_a_changed_project_rebuilds_every_year(settings, tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(
        settings.dbt_project_dir,
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    from dataclasses import replace

    s = replace(settings, dbt_project_dir=project)
    _warehouse(s, project_fingerprint(project))
    _add(
        s,
        "INSERT INTO raw.raw_load_files VALUES ('day', 'messages', "
        "TIMESTAMPTZ '2026-03-02 06:00+00', 1)",
    )
    _add(s, "INSERT INTO raw.messages VALUES ('m1', '2026-02-26 09:00', 'day')")
    assert plan_build(s).school_years == ("2025-2026",)
    holidays = project / "seeds" / "school_holidays.csv"
    holidays.write_text(
        holidays.read_text() + "2026-2027,noord,herfstvakantie,2026-10-17,2026-10-25\n"
    )
    plan = plan_build(s)
    assert plan.school_years is None and "project changed" in plan.reason
    assert plan.unchanged == ()  # a new seed or model: everything is built


def _parse_log_of_last_run(settings) -> str:
    log = (dbt_paths(settings)[1] / "dbt.log").read_text(encoding="utf-8")
    return log[log.rindex("Running with dbt=") :]


def test_a_new_plan_makes_dbt_parse_no_file_again(settings):
    """Each build passes other years, watermark and fingerprint (build_plan.BuildArgs): dbt
    must read them when it executes, not while it parses, or every daily build parses the
    files that read them again (a file that reads an environment variable at parse time is
    parsed again whenever its value changes)."""
    first = BuildArgs("2025-2026", "2026-03-01T06:00:00+00:00", "a" * 64, "first")
    run_dbt(settings, command="parse", env=first.dbt_env())
    for day, years in enumerate(("2026-2027", "2024-2025,2025-2026", ""), start=2):
        args = BuildArgs(
            years, f"2026-03-0{day}T06:00:00+00:00", "b" * 64, "next", months=f"2026-0{day}"
        )
        run_dbt(settings, command="parse", env=args.dbt_env())
        log = _parse_log_of_last_run(settings)
        assert "Partial parsing enabled" in log, log[:2000]
        assert "no changes found" in log and "Partial parsing: updated file" not in log, [
            line for line in log.splitlines() if "Partial parsing" in line
        ]


@pytest.mark.slow
def test_planned_build_of_a_new_day_equals_a_full_rebuild(tmp_path, small_inbox):
    """Load + planned build, then one more day + planned build (one month), then more events
    of that day's messages + planned build, then a Monday whose school week lies in the next
    month + planned build (two months), against loading everything at once and building every
    year: the month-grain tables and the published marts are the same."""
    from ouderpeil.generate import generate_day
    from ouderpeil.loading import load_inbox
    from ouderpeil.transform import build, run_dbt

    day = tmp_path / "day"
    generate_day(day, scale="small", seed=7, day="2026-03-10")
    # Every other event of the day comes in a later file: messages built already get new
    # events (a later status, feedback), which a planned build must pick up.
    (events,) = (day / "message_events").glob("*.jsonl")
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    events.write_text("".join(lines[::2]), encoding="utf-8")
    later = tmp_path / "later"
    (later / "message_events").mkdir(parents=True)
    (later / "message_events" / f"{events.stem}_later.jsonl").write_text(
        "".join(lines[1::2]), encoding="utf-8"
    )

    monday = tmp_path / "monday"
    generate_day(monday, scale="small", seed=7, day="2026-03-30")

    daily = make_settings(tmp_path / "daily")
    shutil.copytree(small_inbox, daily.inbox_dir, dirs_exist_ok=True)
    load_inbox(daily)
    assert build(daily).success
    for batch, months in (
        (day, ("2026-03",)),
        (later, ("2026-03",)),
        (monday, ("2026-03", "2026-04")),
    ):
        shutil.copytree(batch, daily.inbox_dir, dirs_exist_ok=True)
        load_inbox(daily)
        plan = plan_build(daily)
        assert plan.school_years == ("2025-2026",) and plan.months == months, plan
        assert build(daily).success
    assert plan_build(daily).reason == "no new load since the last build"

    full = make_settings(tmp_path / "full")
    shutil.copytree(small_inbox, full.inbox_dir, dirs_exist_ok=True)
    shutil.copytree(day, full.inbox_dir, dirs_exist_ok=True)
    shutil.copytree(later, full.inbox_dir, dirs_exist_ok=True)
    shutil.copytree(monday, full.inbox_dir, dirs_exist_ok=True)
    load_inbox(full)
    assert run_dbt(full, command="build").success

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{daily.warehouse_path}' AS daily (READ_ONLY)")
        con.execute(f"ATTACH '{full.warehouse_path}' AS full_ (READ_ONLY)")
        for table in (
            # incremental by month: the kept months must stay the full build's
            "intermediate.int_messages",
            "intermediate.int_family_weeks",
            # incremental by school year: the pattern of the kept year must stay the full one's
            "intermediate.int_disclosure_pattern",
            "marts.fct_indicator",
            "marts.mart_channel_mix",
            "marts.mart_indicator_dashboard",
        ):
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = 'daily' "
                    "AND schema_name = ? AND table_name = ? AND NOT starts_with(column_name, '_') "
                    "ORDER BY column_index",
                    table.split("."),
                ).fetchall()
            ]
            # Floats to 9 decimals: sums in another order differ in the last bits.
            select = ", ".join(
                f"CASE WHEN typeof({c}) = 'DOUBLE' THEN round({c}::DOUBLE, 9)::VARCHAR "
                f"ELSE {c}::VARCHAR END"
                for c in cols
            )
            rows = con.execute(f"SELECT count(*) FROM daily.{table}").fetchall()[0][0]
            diff = con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT {select} FROM daily.{table} EXCEPT ALL "
                f"SELECT {select} FROM full_.{table})), (SELECT count(*) FROM (SELECT {select} "
                f"FROM full_.{table} EXCEPT ALL SELECT {select} FROM daily.{table}))"
            ).fetchall()[0]
            assert rows > 0 and diff == (0, 0), (table, rows, diff)
    finally:
        con.close()
