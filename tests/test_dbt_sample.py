"""dbt on the generator's small sample data, loaded by the real loader (conftest built_settings).

The hand-made tests (test_dbt_indicators.py) check the arithmetic; this one checks coverage:
every indicator of docs/spec/INDICATORS.md, with its _weighted and _gap variants, for all three sectors.
"""

from __future__ import annotations

import csv

import duckdb
import pytest

from ouderpeil.contracts import SECTORS

pytestmark = pytest.mark.slow

# The codes of docs/spec/INDICATORS.md (version 1).
SPEC_CODES = {
    "contact_frequency",
    "contact_reach",
    "contact_parent_initiated",
    "contact_no_show",
    "contact_home_visits",
    "contact_support_topic",
    "message_delivery_rate",
    "message_read_rate",
    "message_reach",
    "message_dose",
    "message_overdose",
    "message_effective_purpose",
    "message_reply_rate",
    "tip_feedback_useful",
    "tip_usefulness",
    "tips_received",
    "support_no_contact",
    "comm_grade",
    "contact_insufficient",
    "talk_daily",
    "read_aloud_weekly",
    "homework_help_weekly",
    "helps_school",
    "can_contribute",
    "expectations_clear",
    "teacher_open",
    "survey_response_rate",
}
ONLY_IN = {"read_aloud_weekly": "po", "homework_help_weekly": "vo"}
SURVEY_ITEMS = {
    "tip_usefulness",
    "tips_received",
    "support_no_contact",
    "comm_grade",
    "contact_insufficient",
    "talk_daily",
    "read_aloud_weekly",
    "homework_help_weekly",
    "helps_school",
    "can_contribute",
    "expectations_clear",
    "teacher_open",
}


def expected_codes(sector: str) -> set[str]:
    base = {c for c in SPEC_CODES if ONLY_IN.get(c, sector) == sector}
    return base | {c + "_gap" for c in base} | {c + "_weighted" for c in base & SURVEY_ITEMS}


def test_catalogue_seed_matches_the_spec(built_settings):
    path = built_settings.dbt_project_dir / "seeds" / "indicator_catalogue.csv"
    with path.open(newline="") as f:
        codes = {r["indicator_code"] for r in csv.DictReader(f)}
    assert codes == set().union(*(expected_codes(s) for s in SECTORS))


@pytest.mark.parametrize("sector", SECTORS)
def test_every_indicator_for_every_sector(built_settings, sector):
    con = duckdb.connect(str(built_settings.warehouse_path), read_only=True)
    try:
        found = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT indicator_code FROM marts.fct_indicator WHERE sector = ?", [sector]
            ).fetchall()
        }
        published = {
            r[0]
            for r in con.execute(
                """
            SELECT DISTINCT indicator_code FROM marts.fct_indicator
            WHERE sector = ? AND period_type = 'school_year' AND board_id = 'ALL'
              AND ses_group = 'ALL'
              -- n >= 10; in this one-school-per-sector sample a sector total equals its
              -- school's and may be withheld to protect a small group (docs/DISCLOSURE.md)
              AND coalesce(suppression_reason, '') <> 'n_below_10'""",
                [sector],
            ).fetchall()
        }
    finally:
        con.close()
    expected = expected_codes(sector)
    assert not expected - found, f"{sector}: missing {sorted(expected - found)}"
    assert not found - expected, f"{sector}: unexpected {sorted(found - expected)}"
    # At sector level, all groups together, contacts and messages (hundreds of families) are
    # always published; survey items of the small sample (a few dozen respondents in mbo)
    # may fall below 10 answers and are then rightly suppressed.
    activity = {
        c
        for c in expected & SPEC_CODES
        if c.startswith(("contact_", "message_")) and c not in SURVEY_ITEMS
    }
    assert activity <= published


def test_sample_grains_and_disclosure(built_settings):
    con = duckdb.connect(str(built_settings.warehouse_path), read_only=True)
    try:
        grains = con.execute("""
            SELECT DISTINCT period_type,
                   CASE WHEN board_id = 'ALL' THEN 'sector'
                        WHEN school_id = 'ALL' THEN 'board' ELSE 'school' END,
                   ses_group
            FROM marts.fct_indicator""").fetchall()
        leaks = con.execute("""SELECT count(*) FROM marts.fct_indicator
            WHERE (n < 10 AND NOT suppressed) OR (suppressed AND value IS NOT NULL)""").fetchone()[
            0
        ]
    finally:
        con.close()
    levels = {(p, lvl) for p, lvl, _ in grains}
    assert levels == {
        (p, lvl) for p in ("school_year", "month") for lvl in ("sector", "board", "school")
    }
    assert {g for _, _, g in grains} == {"laag", "midden", "hoog", "onbekend", "ALL"}
    assert leaks == 0
