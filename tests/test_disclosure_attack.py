"""The attacker (ouderpeil.disclosure_audit) against hand-made tables, a deliberately
unprotected table, and the real published table of a real dbt build.

The hand-made cases show that every route of the audit finds what it should (so "nothing
recovered" on the real table means something); the real table must give nothing away.
"""

from __future__ import annotations

import duckdb
import pytest

from ouderpeil.disclosure_audit import audit, read_published
from ouderpeil.disclosure_metrics import gap_visibility, suppressed_share

CATALOGUE = {
    "reach": {
        "base_code": "reach",
        "variant": "base",
        "value_min": 0.0,
        "value_max": 1.0,
        "scale": 1.0,
    },
    "reach_gap": {
        "base_code": "reach",
        "variant": "gap",
        "value_min": None,
        "value_max": None,
        "scale": 1.0,
    },
    "reach_weighted": {
        "base_code": "reach",
        "variant": "weighted",
        "value_min": 0.0,
        "value_max": 1.0,
        "scale": 1.0,
    },
    "visits": {
        "base_code": "visits",
        "variant": "base",
        "value_min": 0.0,
        "value_max": None,
        "scale": 100.0,
    },
}


def cell(
    num,
    den,
    hidden=False,
    code="reach",
    period="2025-2026",
    board="B1",
    school="S1",
    ses="ALL",
    n=None,
    sector="po",
):
    period_type = "month" if len(period) == 7 else "school_year"
    value = None if num is None else CATALOGUE[code]["scale"] * num / den
    return {
        "indicator_code": code,
        "period_type": period_type,
        "period": period,
        "school_year": "2025-2026",
        "sector": sector,
        "board_id": board,
        "school_id": school,
        "ses_group": ses,
        "numerator": None if hidden else num,
        "denominator": den,
        "value": None if hidden else value,
        "ci_low": None,
        "ci_high": None,
        "n": den if n is None else n,
        "suppressed": hidden,
    }


def school(groups, **kw):
    """A school (and its one-school board and sector, equal to it) from {ses: (num, den, hidden)}."""
    rows = []
    for board, sch in ((kw.pop("board", "B1"), kw.pop("school", "S1")),):
        for b, s in ((board, sch), (board, "ALL"), ("ALL", "ALL")):
            for ses, (num, den, hidden) in groups.items():
                rows.append(cell(num, den, hidden, board=b, school=s, ses=ses, **kw))
    return rows


def recovered(rows, **kw):
    return {
        (r.key[1], r.key[2], r.key[4], r.key[5], r.key[6]): (r.low, r.high)
        for r in audit(rows, CATALOGUE, **kw).recovered
    }


def test_all_or_nothing_pins_hidden_groups_at_100_percent():
    rows = school(
        {
            "ALL": (205, 205, False),
            "laag": (5, 5, True),
            "onbekend": (8, 8, True),
            "midden": (100, 100, False),
            "hoog": (92, 92, False),
        }
    )
    got = recovered(rows)
    assert got[("school_year", "2025-2026", "B1", "S1", "laag")] == pytest.approx(
        (1.0, 1.0), abs=1e-4
    )
    assert ("school_year", "2025-2026", "B1", "S1", "onbekend") in got


def test_remainder_zero_pins_hidden_groups_at_zero():
    rows = school(
        {
            "ALL": (30, 60, False),
            "laag": (0, 6, True),
            "onbekend": (0, 4, True),
            "midden": (10, 20, False),
            "hoog": (20, 30, False),
        }
    )
    got = recovered(rows)
    assert got[("school_year", "2025-2026", "B1", "S1", "laag")] == pytest.approx(
        (0.0, 0.0), abs=1e-4
    )


def test_one_hidden_group_is_the_total_minus_the_rest():
    rows = school(
        {
            "ALL": (30, 100, False),
            "laag": (3, 8, True),
            "midden": (12, 40, False),
            "hoog": (15, 52, False),
        }
    )
    got = recovered(rows)
    assert got[("school_year", "2025-2026", "B1", "S1", "laag")] == pytest.approx(
        (3 / 8, 3 / 8), abs=1e-4
    )


def test_a_hidden_month_is_the_school_year_minus_the_visible_months():
    rows = [
        cell(40, 200),
        cell(10, 60, period="2025-09"),
        cell(3, 9, True, period="2025-10"),
        cell(27, 131, period="2025-11"),
    ]
    # without evidence that the indicator adds up over months, the attacker cannot tell
    assert recovered(rows, relations=("month",)) == {}
    # a fully published instance (another school) shows that it does
    rows += [
        cell(20, 100, school="S2"),
        cell(5, 30, period="2025-09", school="S2"),
        cell(5, 30, period="2025-10", school="S2"),
        cell(10, 40, period="2025-11", school="S2"),
    ]
    got = recovered(rows, relations=("month",))
    assert got[("month", "2025-10", "B1", "S1", "ALL")] == pytest.approx((1 / 3, 1 / 3), abs=1e-4)
    assert recovered(rows, relations=("ses",)) == {}  # the route, not something else, found it


def test_chains_across_schools_and_ses_groups():
    # school S1 hides laag and onbekend (a pair, safe on its own); the board total and school
    # S2 give S1's laag, and then S1's total gives onbekend
    rows = []
    for ses, s1, s2 in (
        ("ALL", (50, 100), (60, 120)),
        ("laag", (4, 8), (20, 40)),
        ("onbekend", (3, 7), (10, 20)),
        ("midden", (20, 40), (15, 30)),
        ("hoog", (23, 45), (15, 30)),
    ):
        rows.append(cell(*s1, hidden=ses in ("laag", "onbekend"), school="S1", ses=ses))
        rows.append(cell(*s2, school="S2", ses=ses))
        rows.append(cell(s1[0] + s2[0], s1[1] + s2[1], school="ALL", ses=ses))
    got = recovered(rows, relations=("ses", "school"))
    assert got[("school_year", "2025-2026", "B1", "S1", "laag")] == pytest.approx(
        (0.5, 0.5), abs=1e-4
    )
    assert got[("school_year", "2025-2026", "B1", "S1", "onbekend")] == pytest.approx(
        (3 / 7, 3 / 7), abs=1e-4
    )
    assert recovered(rows, relations=("ses",)) == {}


def test_a_published_gap_beside_a_hidden_side():
    rows = school(
        {
            "ALL": (50, 100, False),
            "laag": (4, 8, True),
            "onbekend": (3, 7, True),
            "midden": (20, 40, False),
            "hoog": (23, 45, False),
        }
    )
    rows.append(
        {**cell(None, 1, code="reach_gap"), "value": 0.5 - 23 / 45, "denominator": None, "n": 53}
    )
    got = recovered(rows, relations=("gap",))
    assert got[("school_year", "2025-2026", "B1", "S1", "laag")] == pytest.approx(
        (0.5, 0.5), abs=1e-4
    )


def test_a_weighted_total_is_a_second_equation_over_the_hidden_pair():
    groups = {"laag": (4, 8), "onbekend": (3, 7), "midden": (20, 40), "hoog": (23, 45)}
    weights = {"laag": 2.0, "onbekend": 1.5, "midden": 0.8, "hoog": 0.9}
    rows = [cell(50, 100, school="S1")]
    for ses, (num, den) in groups.items():
        rows.append(cell(num, den, ses in ("laag", "onbekend"), school="S1", ses=ses))
        rows.append(
            cell(
                weights[ses] * num,
                weights[ses] * den,
                ses in ("laag", "onbekend"),
                code="reach_weighted",
                school="S1",
                ses=ses,
                n=den,
            )
        )
    wnum = sum(weights[s] * g[0] for s, g in groups.items())
    wden = sum(weights[s] * g[1] for s, g in groups.items())
    rows.append(cell(wnum, wden, code="reach_weighted", school="S1", n=100))
    assert recovered(rows, relations=("ses",)) == {}
    got = recovered(rows, relations=("ses", "weighted"))
    assert got[("school_year", "2025-2026", "B1", "S1", "laag")] == pytest.approx(
        (0.5, 0.5), abs=1e-4
    )


def test_a_hidden_rectangle_with_room_gives_nothing_away():
    # laag and onbekend hidden in two months: a +1/-1 cycle keeps every published sum
    rows = []
    months = {
        "2025-09": {"laag": (2, 6), "onbekend": (3, 5), "hoog": (10, 30)},
        "2025-10": {"laag": (1, 4), "onbekend": (2, 8), "hoog": (12, 30)},
    }
    for period, groups in months.items():
        rows.append(
            cell(
                sum(g[0] for g in groups.values()),
                sum(g[1] for g in groups.values()),
                period=period,
            )
        )
        for ses, (num, den) in groups.items():
            rows.append(cell(num, den, ses != "hoog", period=period, ses=ses))
    for ses in ("laag", "onbekend", "hoog"):
        num = sum(months[m][ses][0] for m in months)
        den = sum(months[m][ses][1] for m in months)
        rows.append(cell(num, den, ses=ses))
    rows.append(
        cell(
            sum(r["numerator"] for r in rows if r["period_type"] == "school_year"),
            sum(r["denominator"] for r in rows if r["period_type"] == "school_year"),
        )
    )
    result = audit(rows, CATALOGUE)
    assert result.suppressed == 4 and result.recovered == []


def test_whole_numbers_two_ways_leave_doubt_but_one_way_is_found():
    # two hidden groups of one family each, one of the two reached: either could be
    free = school(
        {
            "ALL": (21, 40, False),
            "laag": (1, 1, True),
            "onbekend": (0, 1, True),
            "hoog": (20, 38, False),
        }
    )
    assert recovered(free, relations=("ses",)) == {}
    # per-100 counts: a hidden pair whose total count is 0 is 0 each
    zero = [
        cell(5, 100, code="visits"),
        cell(0, 6, True, code="visits", ses="laag"),
        cell(0, 4, True, code="visits", ses="onbekend"),
        cell(5, 90, code="visits", ses="hoog"),
    ]
    got = recovered(zero, relations=("ses",))
    assert got[("school_year", "2025-2026", "B1", "S1", "laag")] == pytest.approx(
        (0.0, 0.0), abs=1e-3
    )


def test_a_suppressed_row_that_shows_its_value_is_a_direct_leak():
    rows = [{**cell(3, 8, True, ses="laag"), "value": 0.375}]
    assert audit(rows, CATALOGUE).recovered[0].route == "direct"


# --------------------------------------------------------------------------- the real table
def _truth(con) -> dict:
    return {
        tuple(r[:7]): r[7]
        for r in con.execute(
            "SELECT indicator_code, period_type, period, sector, board_id, school_id, ses_group, "
            "value FROM intermediate.int_indicator_values"
        ).fetchall()
    }


@pytest.mark.slow
def test_the_attacker_recovers_nothing_from_the_serving_file(published_settings):
    """What Superset and every export read: the serving file's indicator table."""
    con = duckdb.connect(str(published_settings.serving_path), read_only=True)
    try:
        rows, catalogue = read_published(con, "indicator", "indicator_catalogue")
        share = suppressed_share(con, "indicator")
        gaps = gap_visibility(con, "indicator", "indicator_catalogue")
    finally:
        con.close()
    result = audit(rows, catalogue)
    print(result.summary())
    print("suppressed", share)
    for grain, g in gaps.items():
        print("gaps shown", grain, g)
    assert result.suppressed > 1000 and result.unknowns > 1000  # there was something to attack
    assert result.recovered == [], result.recovered[:10]
    # the hypercubes prefer onbekend and midden: most eligible gaps stay visible
    assert all(g["share"] is None or g["share"] > 0.8 for g in gaps.values()), gaps


@pytest.mark.slow
def test_the_attacker_finds_the_leaks_of_an_unprotected_table(built_settings):
    """Only primary suppression (n < 10): the audit must find hidden values, and every value
    it claims must be the true one."""
    con = duckdb.connect(str(built_settings.warehouse_path), read_only=True)
    try:
        con.execute("""CREATE TEMP TABLE unprotected AS
            SELECT v.indicator_code, v.period_type, v.period, v.school_year, v.sector,
                   v.board_id, v.school_id, v.ses_group,
                   CASE WHEN v.n >= 10 THEN v.numerator END AS numerator, v.denominator,
                   CASE WHEN v.n >= 10 THEN v.value END AS value,
                   CAST(NULL AS DOUBLE) AS ci_low, CAST(NULL AS DOUBLE) AS ci_high, v.n,
                   v.n < 10 AS suppressed
            FROM intermediate.int_indicator_values AS v""")
        rows, catalogue = read_published(con, "unprotected", "marts.indicator_catalogue")
        truth = _truth(con)
    finally:
        con.close()
    result = audit(rows, catalogue)
    print(result.summary())
    routes = {part for r in result.recovered for part in r.route.split("+")}
    print("routes", sorted(routes))
    assert len(result.recovered) > 100
    assert {"ses", "month"} <= routes
    wrong = [r for r in result.recovered if not r.low - 1e-6 <= truth[r.key] <= r.high + 1e-6]
    assert wrong == []
