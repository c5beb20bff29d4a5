"""The dbt project on a hand-made raw data set: real DuckDB file, real `dbt build` via run_dbt.

The raw rows below are small enough to count by hand; every expected number in this file is
derived in a comment from those rows (school 10AA00 unless said otherwise), never read back
from the warehouse.

School 10AA00 (po, board B1, Utrecht = holiday region midden), 46 families enrolled all year:
  laag     L01..L12  L01-L06 one held tienminutengesprek (school, leervorderingen);
                     one sms each in week 15 Sep (L01-L06 delivered, L07-L09 failed,
                     L10-L12 no events), L01 one more sms in the autumn holiday (21 Oct)
  midden   M01..M11  one held telefoon contact (ouder, thuisondersteuning); M01-M05 one
                     niet_verschenen rapportgesprek; one delivered app tip each (week 22 Sep):
                     latest feedback nuttig for M01-M08, niet_nuttig for M09-M11
  hoog     H01..H20  one held tienminutengesprek (ouder, gedrag) + one held ouderavond each;
                     one delivered app message (voortgang) in each of the 7 school weeks,
                     H01 3 more in week 8 Sep; H01-H10 messages read; H01-H05 replied once
  onbekend O01..O03  one held huisbezoek (welbevinden)
  survey   10 laag + 20 hoog respondents on 1 Oct 2025
School 10BB00 (po, board B1, Groningen = noord): 10 hoog families with one held contact in
  September, an 11th family enrolled from 1 Oct 2025.
School 20CC00 (vo, board B2, Maastricht = zuid): 12 hoog families, 12 hoog respondents.
School weeks 2025-2026 in midden: the ISO weeks of 1 Sep .. 13 Oct (7); the week of 20 Oct is
the autumn holiday, and loaded activity ends on 21 Oct.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import duckdb
import pytest
from helpers import make_settings
from raw_tables import create_raw_tables, insert_raw

from ouderpeil import contracts
from ouderpeil.errors import DbtBuildFailed
from ouderpeil.transform import run_dbt

# Every test here runs real `dbt build`s of a hand-made warehouse (minutes on 2 cores).
pytestmark = pytest.mark.slow

SY = "2025-2026"
A, B, C = "10AA00", "10BB00", "20CC00"
UTC = dt.UTC
Z = 1.959963984540054
# Two-sided 95 % t critical values (statistical tables).
T_975 = {11: 2.200985160082949, 19: 2.093024054408263}

LAAG = [f"L{i:02d}" for i in range(1, 13)]
MIDDEN = [f"M{i:02d}" for i in range(1, 12)]
HOOG = [f"H{i:02d}" for i in range(1, 21)]
ONBEKEND = [f"O{i:02d}" for i in range(1, 4)]
SCHOOL_WEEKS = [dt.date(2025, 9, 1) + dt.timedelta(weeks=k) for k in range(7)]  # 1 Sep..13 Oct


# --------------------------------------------------------------------------------------------
# Hand-made raw data
# --------------------------------------------------------------------------------------------
def at(d: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, hour, minute)


def handmade_rows() -> dict[str, list[dict]]:
    schools = [
        dict(
            school_id=A,
            school_name="De Aanloop",
            sector="po",
            board_id="B1",
            board_name="Stichting Een",
            municipality="Utrecht",
            schoolweging=30.0,
        ),
        dict(
            school_id=B,
            school_name="De Berk",
            sector="po",
            board_id="B1",
            board_name="Stichting Een",
            municipality="Groningen",
            schoolweging=28.0,
        ),
        dict(
            school_id=C,
            school_name="Het College",
            sector="vo",
            board_id="B2",
            board_name="Stichting Twee",
            municipality="Maastricht",
            schoolweging=31.0,
        ),
    ]
    since = dt.date(2024, 8, 1)
    families = []
    for refs, ses in ((LAAG, "laag"), (MIDDEN, "midden"), (HOOG, "hoog"), (ONBEKEND, "onbekend")):
        families += [
            dict(
                family_ref=f,
                school_id=A,
                enrolled_from=since,
                parent_education=ses,
                home_language="nl",
                n_children=1,
            )
            for f in refs
        ]
    # Left before this school year: never counted in 2025-2026.
    families.append(
        dict(
            family_ref="X01",
            school_id=A,
            enrolled_from=dt.date(2023, 8, 1),
            enrolled_to=dt.date(2024, 7, 31),
            parent_education="laag",
        )
    )
    families += [
        dict(family_ref=f"B{i:02d}", school_id=B, enrolled_from=since, parent_education="hoog")
        for i in range(1, 11)
    ]
    families.append(
        dict(
            family_ref="B11",
            school_id=B,
            enrolled_from=dt.date(2025, 10, 1),
            parent_education="hoog",
        )
    )
    families += [
        dict(family_ref=f"C{i:02d}", school_id=C, enrolled_from=since, parent_education="hoog")
        for i in range(1, 13)
    ]

    contacts = []

    def contact(school, fam, when, channel, by, topic, status):
        contacts.append(
            dict(
                contact_id=f"c{len(contacts) + 1:04d}",
                school_id=school,
                family_ref=fam,
                contact_at=when,
                channel=channel,
                initiated_by=by,
                topic=topic,
                status=status,
                duration_min=15,
            )
        )

    sep10 = at(dt.date(2025, 9, 10))
    for f in LAAG[:6]:
        contact(A, f, sep10, "tienminutengesprek", "school", "leervorderingen", "gehouden")
    contact(A, "L07", sep10, "tienminutengesprek", "school", "leervorderingen", "geannuleerd")
    for f in MIDDEN:
        contact(A, f, sep10, "telefoon", "ouder", "thuisondersteuning", "gehouden")
    for f in MIDDEN[:5]:
        contact(
            A,
            f,
            at(dt.date(2025, 9, 11)),
            "rapportgesprek",
            "school",
            "leervorderingen",
            "niet_verschenen",
        )
    for f in HOOG:
        contact(A, f, sep10, "tienminutengesprek", "ouder", "gedrag", "gehouden")
        contact(
            A,
            f,
            at(dt.date(2025, 9, 18), 19),
            "ouderavond",
            "school",
            "organisatorisch",
            "gehouden",
        )
    for f in ONBEKEND:
        contact(A, f, sep10, "huisbezoek", "school", "welbevinden", "gehouden")
    for i in range(1, 11):
        contact(B, f"B{i:02d}", sep10, "tienminutengesprek", "school", "overig", "gehouden")

    messages, events = [], []

    def message(fam, when, channel, purpose, statuses=(), extra=()):
        mid = f"m{len(messages) + 1:04d}"
        messages.append(
            dict(
                message_id=mid,
                school_id=A,
                family_ref=fam,
                sent_at=when,
                channel=channel,
                purpose=purpose,
                language="nl",
            )
        )
        t = when.replace(tzinfo=UTC)
        for k, kind in enumerate(list(statuses) + list(extra)):
            events.append(
                dict(
                    event_id=f"{mid}-{kind}-{k}",
                    message_id=mid,
                    event_type=kind,
                    occurred_at=t + dt.timedelta(minutes=k + 1),
                )
            )
        return mid

    for f in HOOG:
        read = f <= "H10"
        for w, week in enumerate(SCHOOL_WEEKS):
            replied = ("replied",) if (w == 0 and f <= "H05") else ()
            message(
                f,
                at(week + dt.timedelta(days=1), 9),
                "app",
                "voortgang",
                ("queued", "sent", "delivered") + (("read",) if read else ()),
                replied,
            )
    for d in (2, 3, 4):  # H01 gets 4 messages in the week of 8 Sep: an overdose week
        message(
            "H01",
            at(dt.date(2025, 9, 8) + dt.timedelta(days=d), 9),
            "app",
            "voortgang",
            ("queued", "sent", "delivered", "read"),
        )
    for i, f in enumerate(LAAG):
        statuses = (
            ("queued", "sent", "delivered") if i < 6 else ("queued", "failed") if i < 9 else ()
        )
        message(f, at(dt.date(2025, 9, 16)), "sms", "organisatorisch", statuses)
    message("L01", at(dt.date(2025, 10, 21)), "sms", "organisatorisch", ("queued",))  # holiday
    for i, f in enumerate(MIDDEN):
        mid = message(f, at(dt.date(2025, 9, 24), 15), "app", "tip", ("delivered",))
        ratings = ["niet_nuttig", "nuttig"] if i == 0 else ["nuttig"] if i < 8 else ["niet_nuttig"]
        for k, rating in enumerate(ratings):
            events.append(
                dict(
                    event_id=f"{mid}-feedback-{k}",
                    message_id=mid,
                    event_type="feedback",
                    feedback=rating,
                    occurred_at=dt.datetime(2025, 9, 25 + k, 12, tzinfo=UTC),
                )
            )
    # Webhooks arrive out of order and at least once: the read of the first message before its
    # delivery, and a delivery twice.
    events.insert(0, dict(events[3]))
    events.append(dict(events[2]))
    # An event whose message has not been loaded yet (it arrives in test_incremental...).
    events.append(
        dict(
            event_id="m-late-delivered",
            message_id="m-late",
            event_type="delivered",
            occurred_at=dt.datetime(2025, 9, 23, 9, 5, tzinfo=UTC),
        )
    )

    def answers(n, **columns):
        """n respondents; each column is a list of (value, count) pairs summing to n."""
        rows = [dict() for _ in range(n)]
        for col, spec in columns.items():
            values = [v for v, k in spec for _ in range(k)]
            assert len(values) == n, col
            for row, v in zip(rows, values):
                row[col] = v
        return rows

    laag = answers(
        10,
        q_tips_useful=[("heel_veel", 4), ("tamelijk_veel", 2), ("weinig_niets", 4)],
        q_support_tips=[(1, 10)],
        q_support_none=[(0, 10)],
        q_comm_grade=[(6, 5), (8, 5)],
        q_contact_enough=[("onvoldoende", 3), ("voldoende", 5), ("weet_niet", 2)],
        q_talk_school=[("dagelijks", 7), ("wekelijks", 3)],
        q_read_aloud=[("dagelijks", 5), ("maandelijks", 5)],
        q_helps_school=[(1, 2), (0, 8)],
        q_can_contribute=[(4, 5), (2, 5)],
        q_expectations_clear=[(3, 10)],
        q_teacher_open=[(5, 10)],
    )
    hoog = answers(
        20,
        q_tips_useful=[("heel_veel", 5), ("niet_zo_veel", 15)],
        q_support_tips=[(1, 5), (0, 15)],
        q_support_none=[(1, 20)],
        q_comm_grade=[(7, 10), (9, 10)],
        q_contact_enough=[("voldoende", 20)],
        q_talk_school=[("dagelijks", 10), ("zelden", 10)],
        q_read_aloud=[("wekelijks", 20)],
        q_helps_school=[(1, 16), (0, 4)],
        q_can_contribute=[(5, 20)],
        q_expectations_clear=[(4, 20)],
        q_teacher_open=[(1, 20)],
    )
    college = answers(
        12, q_homework_help=[("dagelijks", 4), ("wekelijks", 4), ("zelden", 2), ("nvt", 2)]
    )
    surveys = []
    for rows, school, sector, ses in (
        (laag, A, "po", "laag"),
        (hoog, A, "po", "hoog"),
        (college, C, "vo", "hoog"),
    ):
        for r in rows:
            surveys.append(
                dict(
                    r,
                    response_id=f"r{len(surveys) + 1:04d}",
                    school_id=school,
                    sector=sector,
                    wave="2025-najaar",
                    submitted_at=at(dt.date(2025, 10, 1)),
                    parent_education=ses,
                )
            )
    return dict(
        schools=schools,
        families=families,
        contact_logs=contacts,
        messages=messages,
        message_events=events,
        survey_responses=surveys,
    )


LOAD_1 = dt.datetime(2025, 10, 22, 6, 0, tzinfo=UTC)


def write_handmade_warehouse(settings) -> None:
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        create_raw_tables(con)
        for source, rows in handmade_rows().items():
            insert_raw(con, source, rows, LOAD_1, "load-1")
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# Reading fct_indicator
# --------------------------------------------------------------------------------------------
def query(settings, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


COLUMNS = (
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "suppressed",
    "suppression_reason",
    "gap_significant",
)


def row(settings, code, school=A, ses="ALL", period=SY, board=None, sector=None) -> dict | None:
    """One fct_indicator row; board and sector default to those of the school (po, B1)."""
    board = board if board is not None else ("B2" if school == C else "B1")
    sector = sector if sector is not None else ("vo" if school == C else "po")
    found = query(
        settings,
        f"""
        SELECT {", ".join(COLUMNS)} FROM marts.fct_indicator
        WHERE indicator_code = ? AND period = ? AND sector = ? AND board_id = ?
          AND school_id = ? AND ses_group = ?""",
        (code, period, sector, board, school, ses),
    )
    assert len(found) <= 1
    return dict(zip(COLUMNS, found[0])) if found else None


def computed(settings, code, school=A, ses="ALL", period=SY) -> dict:
    """One row of int_indicator_values (before disclosure control) at a po school of B1."""
    found = query(
        settings,
        """SELECT numerator, denominator, value FROM intermediate.int_indicator_values
        WHERE indicator_code = ? AND period = ? AND school_id = ? AND ses_group = ?""",
        (code, period, school, ses),
    )
    assert len(found) == 1, (code, school, ses, period)
    return dict(zip(("numerator", "denominator", "value"), found[0]))


def wilson(k: float, n: float) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("dbt_handmade") / "data")
    write_handmade_warehouse(settings)
    result = run_dbt(settings, command="build")
    return settings, result


# --------------------------------------------------------------------------------------------
# Every indicator against its hand count (school 10AA00, school year, all SES groups)
# --------------------------------------------------------------------------------------------
# code: (numerator, denominator) at school A, 2025-2026, ses ALL
EXPECTED_SCHOOL_A = {
    # held contacts: laag 6 + midden 11 + hoog 40 + onbekend 3 = 60, over 46 families
    "contact_frequency": (60, 46),
    # families with a held individual contact: 6 + 11 + 20 + 3
    "contact_reach": (40, 46),
    # held contacts started by the parent: hoog tienminutengesprek 20 + midden telefoon 11
    "contact_parent_initiated": (31, 60),
    # scheduled: laag 6 + midden 11 + 5 no-shows + hoog 40 + onbekend 3 (geannuleerd left out)
    "contact_no_show": (5, 65),
    # 3 huisbezoeken over 46 families (value per 100)
    "contact_home_visits": (3, 46),
    # held individual (no ouderavond): 6 + 11 + 20 + 3 = 40; leervorderingen 6 + thuis 11
    "contact_support_topic": (17, 40),
    # messages 143 hoog + 13 laag + 11 midden = 167; delivered/read 143 + 6 + 11
    "message_delivery_rate": (160, 167),
    # delivered app messages 143 + 11; read: H01 10 + H02..H10 7 each = 73
    "message_read_rate": (73, 154),
    # families with a delivered message: hoog 20 + laag 6 + midden 11
    "message_reach": (37, 46),
    # per family messages in its 7 school weeks / 7: H01 10, H02..H20 7, laag 1 (the holiday
    # sms does not count), midden 1, onbekend 0 -> sum of rates 166/7 over 46 families
    "message_dose": (166 / 7, 46),
    # family-weeks 46 x 7 = 322, one with more than 3 messages (H01, week of 8 Sep)
    "message_overdose": (1, 322),
    # voortgang 143 + tip 11 of 167
    "message_effective_purpose": (154, 167),
    # replied among delivered: H01..H05
    "message_reply_rate": (5, 160),
    # tips with feedback 11, latest rating nuttig 8 (M01 changed its mind)
    "tip_feedback_useful": (8, 11),
    # survey: 10 laag + 20 hoog respondents
    "tip_usefulness": (4 + 2 + 5, 30),
    "tips_received": (10 + 5, 30),
    "support_no_contact": (0 + 20, 30),
    "comm_grade": (5 * 6 + 5 * 8 + 10 * 7 + 10 * 9, 30),
    "contact_insufficient": (3, 8 + 20),  # weet_niet (2) left out
    "talk_daily": (7 + 10, 30),
    "read_aloud_weekly": (5 + 20, 30),
    "helps_school": (2 + 16, 30),
    "can_contribute": (5 + 20, 30),
    "expectations_clear": (0 + 20, 30),
    "teacher_open": (10 + 0, 30),
    "survey_response_rate": (30, 46),
}


def test_build_reports_every_node(built):
    settings, result = built
    assert result.success
    names = {n.name for n in result.nodes}
    assert {"fct_indicator", "mart_indicator_dashboard", "stg_messages"} <= names
    assert all(n.execution_time >= 0 for n in result.nodes)
    assert not result.failed_nodes


@pytest.mark.parametrize("code", sorted(EXPECTED_SCHOOL_A))
def test_indicator_value_matches_hand_count(built, code):
    """The arithmetic before disclosure control (int_indicator_values), then what is
    published of it: the same figures, or a row withheld as a partner of a small cell."""
    settings, _ = built
    num, den = EXPECTED_SCHOOL_A[code]
    found = query(
        settings,
        """SELECT numerator, denominator, value, ci_low, ci_high
        FROM intermediate.int_indicator_values
        WHERE indicator_code = ? AND period = ? AND sector = 'po' AND board_id = 'B1'
          AND school_id = ? AND ses_group = 'ALL'""",
        (code, SY, A),
    )
    assert len(found) == 1, f"{code} missing at school {A}"
    numerator, denominator, value, ci_low, ci_high = found[0]
    assert numerator == pytest.approx(num)
    assert denominator == pytest.approx(den)
    scale = 100 if code == "contact_home_visits" else 1
    assert value == pytest.approx(scale * num / den)
    assert ci_low <= value <= ci_high
    got = row(settings, code)
    assert got is not None, f"{code} not published at school {A}"
    if got["suppressed"]:
        assert got["suppression_reason"] == "complementary", got  # n >= 10: only as a partner
        assert got["value"] is None and got["numerator"] is None
    else:
        assert (got["numerator"], got["value"]) == (
            pytest.approx(num),
            pytest.approx(scale * num / den),
        )


def test_spec_codes_all_present(built):
    settings, _ = built
    codes = {
        r[0] for r in query(settings, "SELECT DISTINCT indicator_code FROM marts.fct_indicator")
    }
    base = set(EXPECTED_SCHOOL_A) | {"homework_help_weekly"}
    assert base <= codes
    # A gap needs a laag and a hoog value: here only hoog answered homework_help_weekly, got
    # tips to rate (midden) or got read-reporting (app) messages (laag got sms).
    no_laag_side = {"homework_help_weekly", "tip_feedback_useful", "message_read_rate"}
    assert {c + "_gap" for c in base - no_laag_side} <= codes
    assert not {c + "_gap" for c in no_laag_side} & codes
    assert "tips_received_weighted" in codes


def test_vo_only_indicator(built):
    settings, _ = built
    # 20CC00: 12 respondents, nvt (2) left out, dagelijks 4 + wekelijks 4 of 10
    got = row(settings, "homework_help_weekly", school=C)
    assert (got["numerator"], got["denominator"], got["n"]) == (8, 10, 10)
    assert row(settings, "homework_help_weekly", school=A) is None  # po school: not asked
    assert row(settings, "read_aloud_weekly", school=C) is None


def test_wilson_interval(built):
    settings, _ = built
    # contact_reach laag: 6 of 12 families
    got = row(settings, "contact_reach", ses="laag")
    assert got["value"] == pytest.approx(0.5)
    low, high = wilson(6, 12)
    assert (got["ci_low"], got["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert low == pytest.approx(0.2538, abs=1e-4)  # textbook value for 6/12


def test_t_interval(built):
    settings, _ = built
    # contact_frequency laag: six families with 1 contact, six with 0: mean 0.5,
    # s^2 = 12 * 0.25 / 11, se = sqrt(s^2 / 12), df = 11
    got = row(settings, "contact_frequency", ses="laag")
    se = math.sqrt(12 * 0.25 / 11 / 12)
    assert got["value"] == pytest.approx(0.5)
    assert got["ci_low"] == pytest.approx(0.5 - T_975[11] * se)
    assert got["ci_high"] == pytest.approx(0.5 + T_975[11] * se)
    # comm_grade hoog: ten 7s and ten 9s: mean 8, s^2 = 20 / 19, df = 19
    got = row(settings, "comm_grade", ses="hoog")
    se = math.sqrt(20 / 19 / 20)
    assert (got["value"], got["n"]) == (pytest.approx(8.0), 20)
    assert got["ci_high"] == pytest.approx(8 + T_975[19] * se)


def test_weighted_survey_indicator(built):
    settings, _ = built
    # Population at 10AA00: laag 12, midden 11, hoog 20, onbekend 3; respondents laag 10,
    # hoog 20. Post-stratification over the groups that responded (laag + hoog = 32 families):
    # w_laag = (12/32)/(10/30) = 1.125, w_hoog = (20/32)/(20/30) = 0.9375.
    # tips_received: laag 10 of 10, hoog 5 of 20 -> (10*1.125 + 5*0.9375) / 30 = 0.53125
    got = row(settings, "tips_received_weighted")
    assert got["numerator"] == pytest.approx(10 * 1.125 + 5 * 0.9375)
    assert got["denominator"] == pytest.approx(30)
    assert got["value"] == pytest.approx(0.53125)
    n_eff = 30**2 / (10 * 1.125**2 + 20 * 0.9375**2)  # Kish: 29.77
    low, high = wilson(0.53125 * n_eff, n_eff)
    assert (got["ci_low"], got["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert got["n"] == 30
    # Unweighted for comparison: 15 of 30
    assert row(settings, "tips_received")["value"] == pytest.approx(0.5)


def test_gap_with_interval(built):
    settings, _ = built
    # contact_reach: laag 6/12 - hoog 20/20 = -0.5; se = sqrt(0.25/12 + 0)
    got = row(settings, "contact_reach_gap")
    se = math.sqrt(0.5 * 0.5 / 12)
    assert got["value"] == pytest.approx(-0.5)
    assert got["ci_low"] == pytest.approx(-0.5 - Z * se)
    assert got["ci_high"] == pytest.approx(-0.5 + Z * se)
    assert got["gap_significant"] is True
    assert got["n"] == 32
    assert got["numerator"] is None and got["denominator"] is None
    # comm_grade: laag mean 7 - hoog mean 8; se from both t-interval standard errors
    got = row(settings, "comm_grade_gap")
    se = math.sqrt((10 * 1 / 9) / 10 + (20 / 19) / 20)
    assert got["value"] == pytest.approx(-1.0)
    assert got["ci_high"] == pytest.approx(-1.0 + Z * se)


def test_small_cells_are_suppressed(built):
    settings, _ = built
    # onbekend at 10AA00: 3 families
    got = row(settings, "contact_reach", ses="onbekend")
    assert got["suppressed"] and got["suppression_reason"] == "n_below_10"
    assert got["value"] is None and got["numerator"] is None
    assert got["ci_low"] is None and got["ci_high"] is None
    assert got["n"] == 3 and got["denominator"] == 3


def test_complementary_suppression(built):
    """Secondary suppression (docs/DISCLOSURE.md): no lone hidden group, gaps follow their
    sides, and the attacker recovers nothing from the whole table."""
    from ouderpeil.disclosure_audit import audit, read_published

    settings, _ = built
    # Only onbekend (3) is below 10 at 10AA00: at least one more group of the school is
    # hidden with it, else it would be the total minus the rest.
    got = {
        ses: row(settings, "contact_reach", ses=ses)
        for ses in ("laag", "midden", "hoog", "onbekend", "ALL")
    }
    assert got["onbekend"]["suppression_reason"] == "n_below_10"
    partners = [s for s, r in got.items() if r["suppression_reason"] == "complementary"]
    assert partners, got
    assert all(got[s]["value"] is None and got[s]["n"] is not None for s in partners)
    # contact_insufficient: laag has 8 answers (weet_niet excluded) -> suppressed, so the gap
    assert row(settings, "contact_insufficient", ses="laag")["suppression_reason"] == "n_below_10"
    gap = row(settings, "contact_insufficient_gap")
    assert gap["suppressed"] and gap["suppression_reason"] == "gap_side_suppressed"
    assert gap["value"] is None and gap["gap_significant"] is None
    # every gap row is hidden exactly when its laag or hoog row is
    mismatched = query(
        settings,
        """
        SELECT count(*) FROM marts.fct_indicator AS g
        JOIN marts.indicator_catalogue AS c ON c.indicator_code = g.indicator_code AND c.variant = 'gap'
        JOIN marts.fct_indicator AS l ON l.indicator_code = c.base_code AND l.ses_group = 'laag'
         AND l.period = g.period AND l.sector = g.sector AND l.board_id = g.board_id
         AND l.school_id = g.school_id
        JOIN marts.fct_indicator AS h ON h.indicator_code = c.base_code AND h.ses_group = 'hoog'
         AND h.period = g.period AND h.sector = g.sector AND h.board_id = g.board_id
         AND h.school_id = g.school_id
        WHERE g.suppressed <> (l.suppressed OR h.suppressed)""",
    )[0][0]
    assert mismatched == 0
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows, catalogue = read_published(con, "marts.fct_indicator", "marts.indicator_catalogue")
    finally:
        con.close()
    result = audit(rows, catalogue)
    assert result.suppressed > 0 and result.recovered == [], result.recovered[:5]


def values_row(settings, code, school=A, ses="ALL", period=SY, board=None, sector=None) -> dict:
    """One row of int_indicator_values (before disclosure control): the roll-up arithmetic."""
    board = board if board is not None else ("B2" if school == C else "B1")
    sector = sector if sector is not None else ("vo" if school == C else "po")
    found = query(
        settings,
        """
        SELECT numerator, denominator, value FROM intermediate.int_indicator_values
        WHERE indicator_code = ? AND period = ? AND sector = ? AND board_id = ?
          AND school_id = ? AND ses_group = ?""",
        (code, period, sector, board, school, ses),
    )
    return dict(zip(("numerator", "denominator", "value"), found[0]))


def test_rollups_and_months(built):
    """Roll-up arithmetic, read before disclosure control (some of these rows are hidden)."""
    settings, _ = built
    # Board B1 = 10AA00 (40 of 46 reached) + 10BB00 (10 of 11)
    board = values_row(settings, "contact_reach", school="ALL")
    assert (board["numerator"], board["denominator"]) == (50, 57)
    sector = values_row(settings, "contact_reach", school="ALL", board="ALL")
    assert (sector["numerator"], sector["denominator"]) == (50, 57)
    # Month grain at 10BB00: September 10 of 10 (B11 enrolled from 1 Oct), October 0 of 11
    sep = values_row(settings, "contact_reach", school=B, period="2025-09")
    octo = values_row(settings, "contact_reach", school=B, period="2025-10")
    assert (sep["numerator"], sep["denominator"]) == (10, 10)
    assert (octo["numerator"], octo["denominator"]) == (0, 11)
    # message_dose in October at 10AA00: weeks of 29 Sep, 6 and 13 Oct (Thursday rule);
    # hoog 1 a week, others none -> 20 * 1 / 46 families
    dose = values_row(settings, "message_dose", period="2025-10")
    assert dose["value"] == pytest.approx(20 / 46)
    # The family that left in 2024 never counts: 46 families in 2025-2026
    assert values_row(settings, "survey_response_rate")["denominator"] == 46
    # Every grain has all five SES rows where data exists, and board ALL implies school ALL
    bad = query(
        settings,
        "SELECT count(*) FROM marts.fct_indicator WHERE board_id = 'ALL' AND school_id <> 'ALL'",
    )[0][0]
    assert bad == 0


def test_dashboard_mart(built):
    settings, _ = built
    rows = query(
        settings,
        """
        SELECT indicator_label, indicator_group, unit, board_name, school_name, value_display,
               reference_value
        FROM marts.mart_indicator_dashboard
        WHERE indicator_code = ? AND period = ? AND school_id = ? AND ses_group = ?""",
        ("talk_daily", SY, A, "ALL"),
    )
    label, group, unit, board, school, display, reference = rows[0]
    assert (group, unit, board, school) == ("enquete", "aandeel", "Stichting Een", "De Aanloop")
    assert display == "56,7 %"  # 17 of 30
    assert reference == pytest.approx(0.70)  # monitor 2014, po, table 6.2
    supp = query(
        settings,
        """SELECT DISTINCT value_display FROM marts.mart_indicator_dashboard
                              WHERE suppressed""",
    )
    assert supp == [("onderdrukt (n<10)",)]
    gap_group = query(
        settings,
        """SELECT DISTINCT indicator_group FROM marts.mart_indicator_dashboard
                                   WHERE indicator_code LIKE '%\\_gap' ESCAPE '\\'""",
    )
    assert gap_group == [("gelijkheid",)]
    ref = query(
        settings,
        """SELECT reference_value, report_table FROM marts.mart_national_reference
                             WHERE sector = 'mbo' AND indicator_code = 'contact_insufficient'""",
    )
    assert ref == [(pytest.approx(0.37), "4.3")]


def test_channel_mix(built):
    settings, _ = built
    rows = dict(
        query(
            settings,
            """
        SELECT channel, n_items FROM marts.mart_channel_mix
        WHERE stream = 'contact' AND period = ? AND school_id = ? AND ses_group = 'ALL'""",
            (SY, A),
        )
    )
    # held contacts at 10AA00: tienminutengesprek 6 + 20, telefoon 11, ouderavond 20, huisbezoek 3
    assert rows == {"tienminutengesprek": 26, "telefoon": 11, "ouderavond": 20, "huisbezoek": 3}
    share = query(
        settings,
        """SELECT share FROM marts.mart_channel_mix WHERE stream = 'message'
        AND channel = 'sms' AND period = ? AND school_id = ? AND ses_group = 'ALL'""",
        (SY, A),
    )
    assert share[0][0] == pytest.approx(13 / 167)
    small = query(
        settings,
        """SELECT n_items, share, suppressed FROM marts.mart_channel_mix
        WHERE stream = 'contact' AND period = ? AND school_id = ? AND ses_group = 'onbekend'""",
        (SY, A),
    )
    assert small == [(None, None, True)]  # 3 contacts


def test_incremental_load_and_backfill(built):
    """A second load: the late message of an already loaded event, a later status for a
    failed message and a duplicate message row; then a backfill of another school year."""
    settings, _ = built
    # After the first build every staged row is in the latest batch, so the key tests that
    # run on the latest batch only (where: __latest_batch__) covered the whole table.
    for table in ("stg_messages", "stg_message_events"):
        assert query(settings, f"SELECT count(DISTINCT _processed_at) FROM staging.{table}") == [
            (1,)
        ]
    load_2 = LOAD_1 + dt.timedelta(days=1)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        insert_raw(
            con,
            "messages",
            [
                dict(
                    message_id="m-late",
                    school_id=A,
                    family_ref="H02",
                    sent_at=dt.datetime(2025, 9, 23, 9),
                    channel="app",
                    purpose="voortgang",
                ),
                # a later copy of an existing message: the first loaded row stays
                dict(
                    message_id="m0001",
                    school_id=A,
                    family_ref="H02",
                    sent_at=dt.datetime(2025, 9, 2, 9),
                    channel="sms",
                    purpose="tip",
                ),
            ],
            load_2,
            "load-2",
        )
        failed_mid = con.execute("""SELECT message_id FROM raw.messages
            WHERE family_ref = 'L07' AND _load_id = 'load-1'""").fetchone()[0]
        insert_raw(
            con,
            "message_events",
            [
                dict(
                    event_id="late-delivery",
                    message_id=failed_mid,
                    event_type="delivered",
                    occurred_at=dt.datetime(2025, 9, 17, 8, tzinfo=UTC),
                ),
                # two rows with one event_id in the same load: the first loaded row wins
                dict(
                    event_id="dup-in-load",
                    message_id="m-late",
                    event_type="clicked",
                    occurred_at=dt.datetime(2025, 9, 23, 10, tzinfo=UTC),
                ),
                dict(
                    event_id="dup-in-load",
                    message_id="m-late",
                    event_type="replied",
                    occurred_at=dt.datetime(2025, 9, 23, 11, tzinfo=UTC),
                ),
            ],
            load_2,
            "load-2",
        )
    finally:
        con.close()

    result = run_dbt(settings, command="build")
    assert result.success
    assert query(settings, "SELECT count(*) FROM staging.stg_messages")[0][0] == 167 + 1
    assert query(
        settings, "SELECT channel FROM staging.stg_messages WHERE message_id = 'm0001'"
    ) == [("app",)]
    # one more message and two more delivered (m-late, whose event came a load earlier, and
    # L07's failed message, now delivered) -> delivery 162 of 168, reach 38 of 46
    # The arithmetic before disclosure control: a published row may be withheld as a partner.
    got = computed(settings, "message_delivery_rate")
    assert (got["numerator"], got["denominator"]) == (162, 168)
    assert computed(settings, "message_reach")["numerator"] == 38
    status = query(
        settings,
        "SELECT final_status FROM intermediate.int_message_status WHERE message_id = ?",
        (failed_mid,),
    )
    assert status == [("delivered",)]
    assert query(
        settings, "SELECT event_type FROM staging.stg_message_events WHERE event_id = 'dup-in-load'"
    ) == [("clicked",)]
    assert query(
        settings,
        "SELECT has_clicked, has_replied FROM intermediate.int_message_status "
        "WHERE message_id = 'm-late'",
    ) == [(True, False)]
    # the latest batch (what the key tests check on a daily run) is exactly this load's rows
    for table, new_rows in (("stg_messages", 1), ("stg_message_events", 2)):
        assert query(
            settings,
            f"""SELECT count(*) FROM staging.{table}
            WHERE _processed_at = (SELECT max(_processed_at) FROM staging.{table})""",
        ) == [(new_rows,)]

    # Backfill 2024-2025 only: a contact in March 2025 adds that year; 2025-2026 stays as is.
    before = query(
        settings,
        "SELECT count(*), sum(value) FROM marts.fct_indicator WHERE school_year = ?",
        (SY,),
    )
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        insert_raw(
            con,
            "contact_logs",
            [
                dict(
                    contact_id="c-2025-03",
                    school_id=A,
                    family_ref="H01",
                    contact_at=dt.datetime(2025, 3, 12, 10),
                    channel="telefoon",
                    initiated_by="ouder",
                    topic="welbevinden",
                    status="gehouden",
                )
            ],
            load_2,
            "load-3",
        )
    finally:
        con.close()
    run_dbt(settings, command="build", vars={"school_year": "2024-2025"})
    years = dict(
        query(
            settings, "SELECT school_year, count(*) FROM marts.fct_indicator GROUP BY school_year"
        )
    )
    assert set(years) == {"2024-2025", SY}
    after = query(
        settings,
        "SELECT count(*), sum(value) FROM marts.fct_indicator WHERE school_year = ?",
        (SY,),
    )
    assert after[0][0] == before[0][0]
    assert after[0][1] == pytest.approx(before[0][1])
    # 2024-2025 at 10AA00: one held contact over the 46 families enrolled then (X01 left on
    # 31 Jul 2024, the day before the year started)
    got = computed(settings, "contact_frequency", period="2024-2025")
    assert (got["numerator"], got["denominator"]) == (1, 46)


def test_docs_generate_describes_every_mart_column(built):
    settings, _ = built
    run_dbt(settings, command="docs generate")
    manifest = json.loads((settings.data_dir / "dbt" / "target" / "manifest.json").read_text())
    marts = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    assert {
        "fct_indicator",
        "mart_indicator_dashboard",
        "mart_channel_mix",
        "mart_national_reference",
    } <= set(marts)
    for name, node in marts.items():
        assert node["description"].strip(), f"{name} has no description"
        actual = [
            r[0]
            for r in query(
                settings,
                """SELECT column_name FROM information_schema.columns
            WHERE table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position""",
                (name,),
            )
        ]
        assert actual, name
        described = {c: v.get("description", "").strip() for c, v in node["columns"].items()}
        missing = [c for c in actual if not described.get(c)]
        assert not missing, f"{name}: columns without description: {missing}"
        extra = set(described) - set(actual)
        assert not extra, f"{name}: documented columns that do not exist: {extra}"


def test_failure_names_the_failing_node(tmp_path):
    """No raw tables: dbt fails and the error names the model and dbt's message."""
    settings = make_settings(tmp_path / "data")
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("CREATE SCHEMA raw")
    con.execute(contracts.raw_table_ddl(contracts.SCHOOLS))
    con.close()
    with pytest.raises(DbtBuildFailed) as err:
        run_dbt(settings, command="run", select="stg_families")
    assert "stg_families" in str(err.value)
    assert "families" in str(err.value).lower()
