"""A HAND-MADE warehouse with the documented schema (docs/ARCHITECTURE.md): raw tables as in
contracts.py and marts.* as dbt will build them, in a real DuckDB file.

The quality, publish, export and retention tests use it where they need to control the data
(corrupt one column, drop a sector, add old rows); the `slow` tests run the same functions on
the real sample data and real dbt build (conftest `built_settings` / `published_settings`).
tests/test_quality_handmade.py checks that the hand-made warehouse itself passes both gates,
so a failure elsewhere is the corruption a test made, not a broken fixture.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random

import duckdb

from ouderpeil.contracts import SOURCES, raw_table_ddl

BOARDS = {"41000": "Stichting Proef PO/VO", "43000": "ROC Proef"}
SCHOOLS = [  # school_id, name, sector, board_id
    ("90AA00", "De Testboom", "po", "41000"),
    ("91BA00", "Proefcollege", "vo", "41000"),
    ("92CA00", "ROC Proef Campus", "mbo", "43000"),
]
SCHOOL_YEARS = ("2023-2024", "2024-2025", "2025-2026")
SES = ("laag", "midden", "hoog", "onbekend")
# code: (label, group, unit)
CATALOGUE = {
    "contact_reach": ("Bereik individuele contacten", "contacten", "aandeel"),
    "contact_home_visits": ("Huisbezoeken per 100 gezinnen", "contacten", "per_100"),
    "comm_grade": ("Rapportcijfer communicatie", "enquete", "gemiddelde"),
    "tip_usefulness": ("Tips nuttig", "enquete", "aandeel"),
}
GRAIN = "indicator_code, period, sector, board_id, school_id, ses_group"


def pseudonym(kind: str, i: int) -> str:
    return hashlib.sha256(f"{kind}-{i}".encode()).hexdigest()


def _year_start(year: str) -> dt.date:
    return dt.date(int(year[:4]), 8, 1)


def _insert(con, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    con.executemany(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [[r[c] for c in cols] for r in rows],
    )


def _meta(source: str, i: int) -> dict:
    return {
        "_file_name": f"{source}.csv",
        "_file_hash": hashlib.sha256(source.encode()).hexdigest(),
        "_row_number": i + 1,
        "_loaded_at": dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
        "_source_profile": "canonical",
        "_load_id": "load-1",
    }


def build_raw(con, seed: int = 1) -> None:
    rnd = random.Random(seed)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for source in SOURCES.values():
        con.execute(raw_table_ddl(source))
    _insert(
        con,
        "raw.schools",
        [
            {
                "school_id": s,
                "school_name": n,
                "sector": sec,
                "board_id": b,
                "board_name": BOARDS[b],
                "municipality": "Utrecht",
                "schoolweging": 30.0 if sec != "mbo" else None,
                **_meta("schools", i),
            }
            for i, (s, n, sec, b) in enumerate(SCHOOLS)
        ],
    )
    families, contacts, messages, events, survey = [], [], [], [], []
    fam_i = 0
    for school_id, _, sector, _ in SCHOOLS:
        for k in range(30):
            year = SCHOOL_YEARS[k % 3]
            start = _year_start(year)
            # a third of the families left at the end of their first year
            ended = (
                start.replace(year=start.year + 1) - dt.timedelta(days=1) if k % 3 == 0 else None
            )
            ref = pseudonym("family", fam_i)
            families.append(
                {
                    "family_ref": ref,
                    "school_id": school_id,
                    "enrolled_from": start,
                    "enrolled_to": ended,
                    "parent_education": SES[k % 4],
                    "home_language": "nl",
                    "n_children": 1 + k % 3,
                    **_meta("families", fam_i),
                }
            )
            when = dt.datetime.combine(start, dt.time(10)) + dt.timedelta(days=40 + k)
            contacts.append(
                {
                    "contact_id": f"C{fam_i}",
                    "school_id": school_id,
                    "family_ref": ref,
                    "student_ref": pseudonym("student", fam_i),
                    "staff_ref": None,
                    "contact_at": when,
                    "channel": "tienminutengesprek",
                    "initiated_by": "school",
                    "topic": "leervorderingen",
                    "status": "gehouden",
                    "duration_min": 10,
                    "interpreter": False,
                    **_meta("contact_logs", fam_i),
                }
            )
            messages.append(
                {
                    "message_id": f"M{fam_i}",
                    "school_id": school_id,
                    "family_ref": ref,
                    "sent_at": when,
                    "channel": "app",
                    "purpose": "tip",
                    "language": "nl",
                    "tip_id": "T1",
                    **_meta("messages", fam_i),
                }
            )
            for j, ev in enumerate(("sent", "delivered", "read")):
                events.append(
                    {
                        "event_id": f"E{fam_i}-{j}",
                        "message_id": f"M{fam_i}",
                        "event_type": ev,
                        "occurred_at": (when + dt.timedelta(minutes=j)).replace(tzinfo=dt.UTC),
                        "error_code": None,
                        "feedback": None,
                        **_meta("message_events", fam_i * 3 + j),
                    }
                )
            survey.append(
                {
                    "response_id": f"R{fam_i}",
                    "respondent_ref": None,
                    "family_ref": ref,
                    "school_id": school_id,
                    "sector": sector,
                    "wave": f"{int(year[:4]) + 1}-voorjaar",
                    "submitted_at": when + dt.timedelta(days=100),
                    "parent_education": SES[k % 4],
                    "work_hours": "32+",
                    "q_comm_grade": rnd.randint(5, 9),
                    "q_contact_enough": "voldoende",
                    "q_talk_school": "dagelijks",
                    "q_read_aloud": "wekelijks" if sector == "po" else None,
                    "q_homework_help": "nvt" if sector != "po" else None,
                    "q_support_ask": 1,
                    "q_support_tips": 1,
                    "q_support_none": 0,
                    "q_tips_useful": "heel_veel",
                    "q_helps_school": 0,
                    "q_can_contribute": 4,
                    "q_expectations_clear": 4,
                    "q_teacher_open": 5,
                    **_meta("survey_responses", fam_i),
                }
            )
            fam_i += 1
    for table, rows in (
        ("families", families),
        ("contact_logs", contacts),
        ("messages", messages),
        ("message_events", events),
        ("survey_responses", survey),
    ):
        _insert(con, f"raw.{table}", rows)
    con.execute("""CREATE TABLE raw.raw_load_files (load_id VARCHAR, source VARCHAR,
        file_name VARCHAR, file_hash VARCHAR, profile VARCHAR, rows_in INTEGER,
        rows_loaded INTEGER, rows_rejected INTEGER, ignored_columns VARCHAR, status VARCHAR,
        loaded_at TIMESTAMPTZ)""")
    for source in sorted(SOURCES):
        con.execute(
            "INSERT INTO raw.raw_load_files VALUES (?, ?, ?, ?, 'canonical', 10, 10, 0, "
            "'', 'loaded', TIMESTAMPTZ '2026-09-01 00:00:00+00')",
            ["load-1", source, f"{source}.csv", hashlib.sha256(source.encode()).hexdigest()],
        )
    con.execute("""CREATE TABLE raw.raw_rejects (load_id VARCHAR, source VARCHAR,
        file_name VARCHAR, file_hash VARCHAR, row_number INTEGER, column_name VARCHAR,
        value VARCHAR, reason VARCHAR, rejected_at TIMESTAMPTZ)""")
    con.execute(
        "INSERT INTO raw.raw_rejects VALUES "
        "('load-0', 'contact_logs', 'old.csv', 'h0', 3, 'channel', 'fax', 'unknown code',"
        " TIMESTAMPTZ '2023-10-01 00:00:00+00'),"
        "('load-1', 'contact_logs', 'new.csv', 'h1', 4, 'channel', 'fax', 'unknown code',"
        " TIMESTAMPTZ '2026-09-01 00:00:00+00')"
    )


def _wilson(k: float, n: float) -> tuple[float, float]:
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _fct_rows(seed: int) -> list[tuple]:
    rnd = random.Random(seed)
    rows = []
    units = [("ALL", "ALL", sector) for sector in ("po", "vo", "mbo")]
    units += [(b, "ALL", sec) for b, sec in (("41000", "po"), ("41000", "vo"), ("43000", "mbo"))]
    units += [(b, s, sec) for s, _, sec, b in SCHOOLS]
    for year in SCHOOL_YEARS[1:]:
        periods = [("school_year", year), ("month", f"{int(year[:4])}-10")]
        for code, (_, _, unit) in CATALOGUE.items():
            for ptype, period in periods:
                for board_id, school_id, sector in units:
                    for ses in SES + ("ALL",):
                        n = (
                            rnd.randint(12, 80)
                            if school_id == "ALL" or ses != "onbekend"
                            else rnd.randint(2, 9)
                        )
                        if unit == "aandeel":
                            num = float(rnd.randint(0, n))
                            value, (lo, hi) = num / n, _wilson(num, n)
                            den = float(n)
                        elif unit == "gemiddelde":
                            value = round(rnd.uniform(5, 9), 3)
                            lo, hi, num, den = value - 0.4, value + 0.4, value * n, float(n)
                        else:
                            value = round(rnd.uniform(0, 30), 3)
                            lo, hi = max(0.0, value - 5), value + 5
                            num, den = value * n / 100, float(n)
                        sup = n < 10
                        rows.append(
                            (
                                code,
                                1,
                                ptype,
                                period,
                                year,
                                sector,
                                board_id,
                                school_id,
                                ses,
                                None if sup else num,
                                den,
                                None if sup else value,
                                None if sup else lo,
                                None if sup else hi,
                                n,
                                sup,
                                "n_below_10" if sup else None,
                                None,
                            )
                        )
                    gap = round(rnd.uniform(-0.2, 0.2), 4)
                    rows.append(
                        (
                            f"{code}_gap",
                            1,
                            ptype,
                            period,
                            year,
                            sector,
                            board_id,
                            school_id,
                            "ALL",
                            None,
                            None,
                            gap,
                            gap - 0.1,
                            gap + 0.1,
                            rnd.randint(20, 60),
                            False,
                            None,
                            abs(gap) > 0.1,
                        )
                    )
    return rows


def build_marts(con, seed: int = 1) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute("""CREATE TABLE main.indicator_catalogue (indicator_code VARCHAR,
        indicator_version INTEGER, indicator_label VARCHAR, indicator_group VARCHAR,
        unit VARCHAR, definition VARCHAR)""")
    for code, (label, group, unit) in CATALOGUE.items():
        con.execute(
            "INSERT INTO main.indicator_catalogue VALUES (?, 1, ?, ?, ?, ?)",
            [code, label, group, unit, f"definition of {code} (docs/spec/INDICATORS.md)"],
        )
    con.execute("""CREATE TABLE marts.fct_indicator (indicator_code VARCHAR,
        indicator_version INTEGER, period_type VARCHAR, period VARCHAR, school_year VARCHAR,
        sector VARCHAR, board_id VARCHAR, school_id VARCHAR, ses_group VARCHAR,
        numerator DOUBLE, denominator DOUBLE, value DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
        n INTEGER, suppressed BOOLEAN, suppression_reason VARCHAR, gap_significant BOOLEAN)""")
    con.executemany(
        f"INSERT INTO marts.fct_indicator VALUES ({', '.join('?' * 18)})", _fct_rows(seed)
    )
    # the Dutch reason text, as fct_indicator carries it (seed suppression_reasons)
    con.execute("ALTER TABLE marts.fct_indicator ADD COLUMN suppression_reason_nl VARCHAR")
    con.execute("""UPDATE marts.fct_indicator SET suppression_reason_nl = CASE suppression_reason
        WHEN 'n_below_10' THEN 'te weinig waarnemingen (n<10)'
        WHEN 'complementary' THEN 'afgeschermd om een andere groep te beschermen'
        WHEN 'gap_side_suppressed' THEN 'verschil niet getoond: de waarde van laag of hoog is afgeschermd'
        END""")
    build_wide_marts(con)


def build_wide_marts(con) -> None:
    """The dashboard marts, derived from fct_indicator like the dbt models do."""
    names = ", ".join(f"('{s}', '{n}', '{b}', '{BOARDS[b]}')" for s, n, _, b in SCHOOLS)
    con.execute(f"""CREATE OR REPLACE TABLE marts.mart_indicator_dashboard AS
        WITH names(school_id, school_name, board_id, board_name) AS (VALUES {names})
        SELECT f.*, c.indicator_label,
               CASE WHEN ends_with(f.indicator_code, '_gap') THEN 'gelijkheid'
                    ELSE c.indicator_group END AS indicator_group,
               c.unit, coalesce(b.board_name, 'Alle besturen') AS board_name,
               coalesce(s.school_name, 'Alle scholen') AS school_name,
               CASE WHEN f.suppressed THEN 'onderdrukt (n<10)'
                    ELSE printf('%.2f', f.value) END AS value_display,
               NULL::DOUBLE AS reference_value
        FROM marts.fct_indicator f
        LEFT JOIN main.indicator_catalogue c
          ON c.indicator_code = regexp_replace(f.indicator_code, '_gap$', '')
        LEFT JOIN (SELECT DISTINCT board_id, board_name FROM names) b USING (board_id)
        LEFT JOIN names s ON s.school_id = f.school_id""")
    con.execute("""CREATE OR REPLACE TABLE marts.mart_channel_mix AS
        SELECT period_type, period, school_year, sector, board_id, board_name, school_id,
               school_name, ses_group, 'contact' AS stream, 'tienminutengesprek' AS channel,
               n AS n_items, 1.0 AS share, suppressed
        FROM marts.mart_indicator_dashboard WHERE indicator_code = 'contact_reach'""")
    # "Bereiken we alle gezinnen?": laag and hoog side by side with the gap, as
    # mart_equity_gap builds it (columns as its contract; texts simplified).
    con.execute("""CREATE OR REPLACE TABLE marts.mart_equity_gap AS
        WITH cells AS (
            SELECT * FROM marts.mart_indicator_dashboard
            WHERE period_type = 'school_year' AND NOT ends_with(indicator_code, '_gap'))
        SELECT 'school_year' AS period_type, l.period, l.school_year, l.sector, l.board_id,
               l.board_name, l.school_id, l.school_name,
               CASE WHEN l.board_id = 'ALL' THEN 2 WHEN l.school_id = 'ALL' THEN 1 ELSE 0 END
                   AS level_rank,
               l.indicator_code, l.indicator_label, l.unit, 1 AS display_order,
               'procentpunt' AS gap_unit_label,
               l.value * 100 AS laag_value, l.ci_low * 100 AS laag_ci_low,
               l.ci_high * 100 AS laag_ci_high, l.n AS laag_n, l.suppressed AS laag_suppressed,
               h.value * 100 AS hoog_value, h.ci_low * 100 AS hoog_ci_low,
               h.ci_high * 100 AS hoog_ci_high, h.n AS hoog_n, h.suppressed AS hoog_suppressed,
               (l.value - h.value) * 100 AS gap_value, NULL::DOUBLE AS gap_ci_low,
               NULL::DOUBLE AS gap_ci_high, l.suppressed OR h.suppressed AS gap_suppressed,
               false AS gap_significant, NULL::DOUBLE AS previous_gap_value,
               NULL::DOUBLE AS gap_change, false AS gap_widened, false AS gap_narrowed,
               l.value_display AS laag_text, h.value_display AS hoog_text,
               'onderdrukt (n<10)' AS gap_text, 'onderdrukt (n<10)' AS gap_interval_text,
               '● geen significant verschil' AS signal_text,
               'geen vergelijking met vorig jaar' AS trend_text, 1 AS signal_rank,
               'Te weinig gezinnen per SES-groep om de kloof te tonen (onderdrukt, n<10).'
                   AS summary_text,
               0::BIGINT AS summary_n_behind, 0::BIGINT AS summary_n_widened
        FROM cells l JOIN cells h USING (indicator_code, period, sector, board_id, school_id)
        WHERE l.ses_group = 'laag' AND h.ses_group = 'hoog'""")
    con.execute("""CREATE OR REPLACE TABLE marts.mart_national_reference AS
        SELECT 'po' AS sector, 'tip_usefulness' AS indicator_code, 'Tips nuttig' AS indicator_label,
               0.72 AS reference_value, '6.6' AS report_table""")


def build_handmade_warehouse(settings, seed: int = 1, marts: bool = True):
    """Write raw (+ marts) into settings.warehouse_path; returns the path."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        build_raw(con, seed)
        if marts:
            build_marts(con, seed)
    finally:
        con.close()
    return settings.warehouse_path


def corrupt(settings, sql: str) -> None:
    """Run one statement against the warehouse (the tests' way to break a table)."""
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(sql)
    finally:
        con.close()
