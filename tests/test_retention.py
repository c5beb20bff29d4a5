"""purge(): raw person-level rows older than the last N school years go, from the tables and
from the file's bytes; aggregates stay. On a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest
from handmade_warehouse import build_handmade_warehouse, corrupt, pseudonym
from helpers import make_settings

from ouderpeil.quality import validate
from ouderpeil.retention import purge, purge_and_rebuild, retention_cutoff
from ouderpeil.transform import run_dbt

TODAY = dt.date(2026, 11, 26)  # school year 2026-2027
RAW_DATES = {
    "raw.contact_logs": "contact_at",
    "raw.messages": "sent_at",
    "raw.survey_responses": "submitted_at",
}


@pytest.mark.parametrize(
    "today, keep, cutoff, kept",
    [
        (dt.date(2026, 11, 26), 2, dt.date(2025, 8, 1), ["2025-2026", "2026-2027"]),
        (dt.date(2026, 7, 31), 2, dt.date(2024, 8, 1), ["2024-2025", "2025-2026"]),
        (dt.date(2026, 8, 1), 1, dt.date(2026, 8, 1), ["2026-2027"]),
        (dt.date(2026, 1, 15), 3, dt.date(2023, 8, 1), ["2023-2024", "2024-2025", "2025-2026"]),
    ],
)
def test_cutoff_follows_school_years(today, keep, cutoff, kept):
    assert retention_cutoff(today, keep) == (cutoff, kept)


def test_keeping_no_school_year_is_refused():
    with pytest.raises(ValueError):
        retention_cutoff(TODAY, 0)


def _count(con, sql):
    return con.execute(sql).fetchone()[0]


@pytest.fixture
def warehouse(settings):
    build_handmade_warehouse(settings)
    # A family enrolled since 2022 and still there, an old and a new event whose message
    # never arrived.
    corrupt(
        settings,
        f"""INSERT INTO raw.families (family_ref, school_id, enrolled_from,
        enrolled_to, parent_education) VALUES ('{pseudonym("family", 999)}', '90AA00',
        DATE '2022-08-20', NULL, 'hoog')""",
    )
    corrupt(
        settings,
        """INSERT INTO raw.message_events (event_id, message_id, event_type,
        occurred_at) VALUES ('X-old', 'M-unknown', 'sent', TIMESTAMPTZ '2024-02-01 09:00+00'),
        ('X-new', 'M-unknown2', 'sent', TIMESTAMPTZ '2026-02-01 09:00+00')""",
    )
    return settings


def test_purge_deletes_old_person_level_rows_only(warehouse):
    s = warehouse
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    before = {
        t: _count(con, f"SELECT count(*) FROM {t}")
        for t in (
            "raw.families",
            "raw.contact_logs",
            "raw.messages",
            "raw.message_events",
            "raw.survey_responses",
            "raw.raw_rejects",
            "raw.schools",
            "marts.fct_indicator",
        )
    }
    old_refs = [
        r[0]
        for r in con.execute(
            "SELECT family_ref FROM raw.families WHERE enrolled_to < DATE '2025-08-01'"
        ).fetchall()
    ]
    con.close()
    assert old_refs

    summary = purge(s, today=TODAY)
    assert summary["cutoff"] == "2025-08-01" and summary["keep_school_years"] == 2

    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    after = {t: _count(con, f"SELECT count(*) FROM {t}") for t in before}
    for table, deleted in summary["deleted"].items():
        assert before[table] - after[table] == deleted > 0, table
    # Nothing dated before the cutoff is left; everything after it is.
    for table, col in RAW_DATES.items():
        assert _count(con, f"SELECT count(*) FROM {table} WHERE {col} < DATE '2025-08-01'") == 0
        assert after[table] > 0
    assert (
        _count(con, "SELECT count(*) FROM raw.families WHERE enrolled_to < DATE '2025-08-01'") == 0
    )
    # The family enrolled since 2022 is still enrolled, so it stays.
    assert (
        _count(
            con,
            f"SELECT count(*) FROM raw.families WHERE family_ref = '{pseudonym('family', 999)}'",
        )
        == 1
    )
    # Events went with their message; orphan events by their own date.
    assert (
        _count(
            con,
            "SELECT count(*) FROM raw.message_events e WHERE NOT EXISTS "
            "(SELECT 1 FROM raw.messages m WHERE m.message_id = e.message_id)",
        )
        == 1
    )
    assert _count(con, "SELECT count(*) FROM raw.message_events WHERE event_id = 'X-new'") == 1
    assert _count(con, "SELECT count(*) FROM raw.raw_rejects") == 1
    # Reference data and published aggregates stay.
    assert after["raw.schools"] == before["raw.schools"]
    assert after["marts.fct_indicator"] == before["marts.fct_indicator"]
    kept_refs = [r[0] for r in con.execute("SELECT family_ref FROM raw.families").fetchall()]
    con.close()

    # Gone from the file's bytes as well, not only from the tables (positive control: the
    # kept pseudonyms are readable in the same bytes).
    data = s.warehouse_path.read_bytes()
    assert not [r for r in old_refs if r.encode() in data]
    assert all(r.encode() in data for r in kept_refs)
    assert [p.name for p in s.warehouse_path.parent.iterdir() if p.name.startswith(".")] == []

    # Purging again finds nothing; the raw layer still passes its gate.
    assert sum(purge(s, today=TODAY)["deleted"].values()) == 0
    raw = validate(s, layer="raw", run_id="after-retention")
    assert raw.success, raw.summary()


def test_more_school_years_kept_deletes_less(tmp_path):
    counts = {}
    for keep in (2, 3):
        s = make_settings(tmp_path / f"keep{keep}", OUDERPEIL_RETENTION_SCHOOL_YEARS=str(keep))
        build_handmade_warehouse(s)
        summary = purge(s, today=TODAY)  # keep from the settings
        assert summary["keep_school_years"] == keep
        counts[keep] = summary["deleted"]["raw.contact_logs"]
    assert counts[2] > counts[3] > 0


@pytest.mark.slow
def test_purge_on_the_real_sample_warehouse(built_settings, tmp_path):
    s = make_settings(tmp_path / "data")
    shutil.copy(built_settings.warehouse_path, s.warehouse_path)
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    marts_before = _count(con, "SELECT count(*) FROM marts.fct_indicator")
    first = con.execute("SELECT min(contact_at) FROM raw.contact_logs").fetchone()[0].date()
    con.close()
    # Keep one school year counted from one year after the first contact: older rows go.
    summary = purge(s, keep_school_years=1, today=first.replace(year=first.year + 1))
    assert summary["deleted"]["raw.contact_logs"] > 0
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        assert (
            _count(
                con,
                f"SELECT count(*) FROM raw.contact_logs "
                f"WHERE contact_at < DATE '{summary['cutoff']}'",
            )
            == 0
        )
        assert _count(con, "SELECT count(*) FROM marts.fct_indicator") == marts_before
    finally:
        con.close()


@pytest.mark.slow
def test_rebuild_after_purge_drops_person_level_copies_but_keeps_aggregates(
    built_settings, tmp_path
):
    """docs/spec/PRIVACY.md item 5: raw rows of old school years go, from dbt's staging copies too, while
    the published aggregates of those years stay exactly as they were."""
    s = make_settings(tmp_path / "data")
    shutil.copy(built_settings.warehouse_path, s.warehouse_path)
    aggregates = (
        "SELECT indicator_code, period, sector, board_id, school_id, ses_group, value, n "
        "FROM marts.fct_indicator WHERE school_year = '2024-2025' ORDER BY ALL"
    )
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    old_year_before = con.execute(aggregates).fetchall()
    staged_before = _count(
        con, "SELECT count(*) FROM staging.stg_messages WHERE sent_at < DATE '2025-08-01'"
    )
    con.close()
    assert old_year_before and staged_before > 0

    # On 1 Aug 2025 with one school year kept, 2024-2025 is past the retention.
    summary = purge_and_rebuild(s, keep_school_years=1, today=dt.date(2025, 8, 1))
    assert summary["deleted"]["raw.messages"] > 0
    run_dbt(s, command="build")  # the next scheduled build must not drop the old year either

    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        assert (
            _count(
                con, "SELECT count(*) FROM staging.stg_messages WHERE sent_at < DATE '2025-08-01'"
            )
            == 0
        )
        assert (
            _count(
                con,
                "SELECT count(*) FROM staging.stg_families WHERE enrolled_to < DATE '2025-08-01'",
            )
            == 0
        )
        assert con.execute(aggregates).fetchall() == old_year_before
    finally:
        con.close()


@pytest.mark.slow
def test_retention_before_the_first_build_builds_everything(loaded_settings, tmp_path):
    """The monthly retention can come before the first build (a scheduler unpaused on the day
    it is due, between the first load and the first build): with no aggregate history yet there
    is nothing to keep, so the whole project is built, from the kept years only."""
    s = make_settings(tmp_path / "data")
    shutil.copy(loaded_settings.warehouse_path, s.warehouse_path)

    summary = purge_and_rebuild(s, keep_school_years=2, today=TODAY)
    assert summary["deleted"]["raw.messages"] > 0
    assert summary["aggregate_history_kept"] == []

    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        years = {
            y
            for (y,) in con.execute(
                "SELECT DISTINCT school_year FROM marts.fct_indicator"
            ).fetchall()
        }
    finally:
        con.close()
    assert years == set(summary["kept_school_years"])

    # Once built, the next retention keeps that history instead of rebuilding it.
    again = purge_and_rebuild(s, keep_school_years=2, today=TODAY)
    assert again["aggregate_history_kept"] == ["int_indicator_values", "mart_channel_mix"]
