"""Reproduction: survey answers drawn from the Monitor Ouderbetrokkenheid 2014 percentages give
those percentages back in marts.fct_indicator at sector level, within sampling error.

The answer distributions come from docs/spec/reference/monitor-2014.md (also the seed
national_reference_2014); the draws use a seeded numpy generator, so the test is deterministic,
but the tolerance (3 standard errors of the drawn sample) is what a fresh sample would need.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import pytest
from helpers import make_settings
from raw_tables import create_raw_tables, insert_raw

from ouderpeil.transform import run_dbt

# Every test here runs real `dbt build`s of a hand-made warehouse (minutes on 2 cores).
pytestmark = pytest.mark.slow

N_PER_SECTOR = 1200
SCHOOLS_PER_SECTOR = 4

# Monitor 2014 (percent of parents) per indicator and sector; None = not asked in that sector.
MONITOR_2014 = {
    "talk_daily": {"po": 70, "vo": 70, "mbo": 48},
    "read_aloud_weekly": {"po": 65},
    "homework_help_weekly": {"vo": 51},
    "tips_received": {"po": 45, "vo": 32, "mbo": 28},
    "support_no_contact": {"po": 23, "vo": 44, "mbo": 52},
    "tip_usefulness": {"po": 72, "vo": 67, "mbo": 64},
    "contact_insufficient": {"po": 19, "vo": 23, "mbo": 37},
    "can_contribute": {"po": 57, "vo": 44, "mbo": 32},
    "teacher_open": {"po": 49, "vo": 40, "mbo": 28},
    "expectations_clear": {"po": 44, "vo": 39, "mbo": 28},
    "helps_school": {"po": 80, "vo": 50, "mbo": 50},
}
# Table 6.6: heel veel / tamelijk veel / niet zo veel / weinig of niets
TIP_USEFULNESS_DETAIL = {"po": (13, 59, 26, 2), "vo": (11, 56, 29, 5), "mbo": (12, 52, 36, 0)}
# Table 6.3 (po) and 6.4 (vo): dagelijks / wekelijks, the rest maandelijks or zelden
READ_ALOUD = (32, 33)
HOMEWORK = (7, 44)


def shares(percentages) -> np.ndarray:
    """Rounded report percentages may add up to 101: normalise."""
    a = np.array(percentages, dtype=float)
    return a / a.sum()


def draw_responses(rng: np.random.Generator, sector: str, school_ids: list[str]) -> list[dict]:
    n = N_PER_SECTOR
    p = {code: by_sector.get(sector) for code, by_sector in MONITOR_2014.items()}

    def yes(code):  # 0/1 with the monitor's share
        return (rng.random(n) < p[code] / 100).astype(int)

    def agree(code):  # Likert 4-5 with the monitor's share, else 1-3
        return np.where(rng.random(n) < p[code] / 100, rng.integers(4, 6, n), rng.integers(1, 4, n))

    def frequency(daily, weekly):
        return rng.choice(
            ["dagelijks", "wekelijks", "maandelijks", "zelden"],
            n,
            p=[
                daily / 100,
                weekly / 100,
                (100 - daily - weekly) / 200,
                (100 - daily - weekly) / 200,
            ],
        )

    talk_daily = yes("talk_daily")
    columns = {
        "q_talk_school": np.where(
            talk_daily == 1, "dagelijks", rng.choice(["wekelijks", "maandelijks", "zelden"], n)
        ),
        "q_support_tips": yes("tips_received"),
        "q_support_none": yes("support_no_contact"),
        "q_tips_useful": rng.choice(
            ["heel_veel", "tamelijk_veel", "niet_zo_veel", "weinig_niets"],
            n,
            p=shares(TIP_USEFULNESS_DETAIL[sector]),
        ),
        "q_contact_enough": np.where(yes("contact_insufficient") == 1, "onvoldoende", "voldoende"),
        "q_helps_school": yes("helps_school"),
        "q_can_contribute": agree("can_contribute"),
        "q_teacher_open": agree("teacher_open"),
        "q_expectations_clear": agree("expectations_clear"),
        "q_comm_grade": rng.integers(5, 10, n),
    }
    if sector == "po":
        columns["q_read_aloud"] = frequency(*READ_ALOUD)
    if sector == "vo":
        columns["q_homework_help"] = frequency(*HOMEWORK)
    ses = rng.choice(["laag", "midden", "hoog", "onbekend"], n, p=[0.25, 0.4, 0.3, 0.05])
    rows = []
    for i in range(n):
        r = {k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in columns.items()}
        r.update(
            response_id=f"{sector}-{i:05d}",
            school_id=school_ids[i % len(school_ids)],
            sector=sector,
            wave="2025-voorjaar",
            parent_education=str(ses[i]),
            submitted_at=dt.datetime(2026, 3, 2 + i % 20, 12),
        )
        rows.append(r)
    return rows


@pytest.fixture(scope="module")
def monitor_warehouse(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("dbt_monitor") / "data")
    rng = np.random.default_rng(2014)
    schools, responses = [], []
    for s, sector in enumerate(("po", "vo", "mbo")):
        ids = [f"{s + 1}{k}XY00" for k in range(SCHOOLS_PER_SECTOR)]
        schools += [
            dict(
                school_id=i,
                school_name=f"School {i}",
                sector=sector,
                board_id=f"B{s}{k % 2}",
                municipality="Utrecht",
            )
            for k, i in enumerate(ids)
        ]
        responses += draw_responses(rng, sector, ids)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        create_raw_tables(con)
        loaded = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
        insert_raw(con, "schools", schools, loaded, "load-1")
        insert_raw(con, "survey_responses", responses, loaded, "load-1")
    finally:
        con.close()
    run_dbt(settings, command="build")
    return settings


CASES = [
    (code, sector, pct)
    for code, by_sector in MONITOR_2014.items()
    for sector, pct in by_sector.items()
]


@pytest.mark.parametrize("code,sector,pct", CASES, ids=[f"{c}-{s}" for c, s, _ in CASES])
def test_sector_value_reproduces_monitor(monitor_warehouse, code, sector, pct):
    con = duckdb.connect(str(monitor_warehouse.warehouse_path), read_only=True)
    try:
        got = con.execute(
            """
            SELECT value, ci_low, ci_high, n FROM marts.fct_indicator
            WHERE indicator_code = ? AND period = '2025-2026' AND sector = ?
              AND board_id = 'ALL' AND school_id = 'ALL' AND ses_group = 'ALL'""",
            [code, sector],
        ).fetchone()
    finally:
        con.close()
    assert got is not None, f"{code} missing for {sector}"
    value, low, high, n = got
    assert n == N_PER_SECTOR
    p = pct / 100
    se = math.sqrt(p * (1 - p) / n)
    assert abs(value - p) <= 3 * se, f"{code} {sector}: {value:.3f} vs monitor {p:.2f}"
    # The Wilson interval is about 2 x 1.96 standard errors wide at this n.
    assert high - low == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_sector_specific_items_stay_in_their_sector(monitor_warehouse):
    con = duckdb.connect(str(monitor_warehouse.warehouse_path), read_only=True)
    try:
        sectors = dict(
            con.execute("""
            SELECT indicator_code, string_agg(DISTINCT sector, ',' ORDER BY sector)
            FROM marts.fct_indicator
            WHERE indicator_code IN ('read_aloud_weekly', 'homework_help_weekly')
            GROUP BY indicator_code""").fetchall()
        )
    finally:
        con.close()
    assert sectors == {"read_aloud_weekly": "po", "homework_help_weekly": "vo"}
