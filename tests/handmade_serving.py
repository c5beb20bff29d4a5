"""A HAND-MADE serving file with the documented schema (docs/ARCHITECTURE.md, "Serving file").

No test uses it: every Superset test runs on ``published_settings`` (real sample data, real
dbt, real publish). It is a development aid for working on ``dashboards/`` without running
the pipeline, e.g. (main venv, from tests/)::

    python -c "from pathlib import Path; from handmade_serving import *; \
               write_handmade_serving_file(Path('/tmp/dev/serving/ouderpeil.duckdb'))"

then ``start_superset`` on settings whose serving_path points there. It has three boards
(one per sector), two school years, month rows, suppressed cells and 2014 references.
"""
from __future__ import annotations

import math
import os
import random
from pathlib import Path

import duckdb

SCHOOL_YEARS = ("2024-2025", "2025-2026")
MONTHS = ("08", "09", "10", "11", "12", "01", "02", "03", "04", "05", "06", "07")
BOARDS = {  # board_id: (board_name, sector, [(school_id, school_name)])
    "41000": ("Stichting Hand Gemaakt PO", "po", [("90AA00", "De Testboom"),
                                                    ("90AB00", "Het Proefveld")]),
    "42000": ("Scholengroep Hand Gemaakt VO", "vo", [("91BA00", "Proefcollege")]),
    "43000": ("ROC Hand Gemaakt", "mbo", [("92CA00", "ROC Proef Campus")]),
}
SES = ("laag", "midden", "hoog", "onbekend")
# code: (label, group, unit, monthly?)
INDICATORS = {
    "contact_reach": ("Bereik individuele contacten", "contacten", "aandeel", True),
    "contact_frequency": ("Contacten per gezin", "contacten", "gemiddelde", True),
    "message_delivery_rate": ("Berichten afgeleverd", "berichten", "aandeel", True),
    "message_read_rate": ("Berichten gelezen", "berichten", "aandeel", True),
    "message_dose": ("Berichten per gezin per schoolweek", "berichten", "gemiddelde", True),
    "tip_usefulness": ("Tips nuttig", "enquete", "aandeel", False),
    "tips_received": ("Tips ontvangen", "enquete", "aandeel", False),
    "comm_grade": ("Rapportcijfer communicatie", "enquete", "gemiddelde", False),
    "can_contribute": ("Kan bijdragen thuis", "enquete", "aandeel", False),
}
REFERENCE = {  # monitor 2014, as proportions
    ("po", "tip_usefulness"): 0.72, ("vo", "tip_usefulness"): 0.67,
    ("mbo", "tip_usefulness"): 0.64, ("po", "tips_received"): 0.45,
    ("vo", "tips_received"): 0.32, ("mbo", "tips_received"): 0.28,
    ("po", "can_contribute"): 0.57, ("vo", "can_contribute"): 0.44,
    ("mbo", "can_contribute"): 0.32,
}

INDICATOR_DDL = """
create table indicator (
    indicator_code varchar, indicator_version integer, period_type varchar, period varchar,
    school_year varchar, sector varchar, board_id varchar, school_id varchar,
    ses_group varchar, numerator double, denominator double, value double, ci_low double,
    ci_high double, n integer, suppressed boolean, suppression_reason varchar,
    gap_significant boolean, indicator_label varchar, indicator_group varchar, unit varchar,
    board_name varchar, school_name varchar, value_display varchar, reference_value double)
"""


def _display(value, unit, suppressed):
    if suppressed:
        return "onderdrukt (n<10)"
    if unit == "aandeel":
        return f"{value * 100:.0f}%".replace(".", ",")
    return f"{value:.1f}".replace(".", ",")


def write_handmade_serving_file(path: Path, seed: int = 3, run_id: str = "handmade") -> Path:
    """Write a plausible serving file (atomically, like publish) and return its path."""
    rnd = random.Random(seed)
    rows = []
    for board_id, (board_name, sector, schools) in BOARDS.items():
        for school_id, school_name in schools + [("ALL", None)]:
            for year in SCHOOL_YEARS:
                periods = [("school_year", year)]
                y0, y1 = year.split("-")
                periods += [("month", f"{y0 if int(m) >= 8 else y1}-{m}") for m in MONTHS]
                for code, (label, group, unit, monthly) in INDICATORS.items():
                    for ptype, period in periods:
                        if ptype == "month" and not monthly:
                            continue
                        values = {}
                        for ses in SES + ("ALL",):
                            n = rnd.randint(4, 60) if school_id != "ALL" else rnd.randint(40, 200)
                            if ses == "onbekend":
                                n = rnd.randint(2, 9)
                            if ses == "ALL":
                                n = n * 3
                            if unit == "aandeel":
                                base = {"laag": .45, "midden": .6, "hoog": .7}.get(ses, .6)
                                v = min(.99, max(.01, base + rnd.uniform(-.1, .1)))
                                half = 1.96 * math.sqrt(v * (1 - v) / n)
                            else:
                                v = rnd.uniform(6.0, 8.0) if code == "comm_grade" else rnd.uniform(.5, 3)
                                half = 1.96 * .9 / math.sqrt(n)
                            suppressed = n < 10
                            values[ses] = (None if suppressed else v)
                            rows.append(dict(
                                indicator_code=code, period_type=ptype, period=period,
                                school_year=year, sector=sector, board_id=board_id,
                                school_id=school_id, ses_group=ses,
                                numerator=None if suppressed else v * n, denominator=n,
                                value=None if suppressed else v,
                                ci_low=None if suppressed else v - half,
                                ci_high=None if suppressed else v + half, n=n,
                                suppressed=suppressed,
                                suppression_reason="n_below_10" if suppressed else None,
                                gap_significant=None, indicator_label=label,
                                indicator_group=group, unit=unit, board_name=board_name,
                                school_name=school_name or "Alle scholen",
                                value_display=_display(v, unit, suppressed),
                                reference_value=REFERENCE.get((sector, code))))
                        lo, hi = values.get("laag"), values.get("hoog")
                        gap = None if lo is None or hi is None else lo - hi
                        rows.append(dict(
                            indicator_code=f"{code}_gap", period_type=ptype, period=period,
                            school_year=year, sector=sector, board_id=board_id,
                            school_id=school_id, ses_group="ALL", numerator=None,
                            denominator=None, value=gap,
                            ci_low=None if gap is None else gap - .12,
                            ci_high=None if gap is None else gap + .12, n=40,
                            suppressed=gap is None,
                            suppression_reason="gap_side_suppressed" if gap is None else None,
                            gap_significant=None if gap is None else abs(gap) > .12,
                            indicator_label=f"Kloof laag-hoog: {label.lower()}",
                            indicator_group="gelijkheid", unit=unit, board_name=board_name,
                            school_name=school_name or "Alle scholen",
                            value_display=_display(gap, unit, gap is None),
                            reference_value=None))
    # national roll-up rows per sector (board_id = ALL)
    for sector in ("po", "vo", "mbo"):
        for r in [r for r in rows if r["sector"] == sector and r["school_id"] == "ALL"]:
            if r["board_id"] == "ALL":
                continue
            nat = dict(r, board_id="ALL", board_name="Alle besturen", school_id="ALL")
            rows.append(nat)
            break  # one is enough to show the level exists
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        tmp.unlink()
    con = duckdb.connect(str(tmp))
    try:
        con.execute(INDICATOR_DDL)
        cols = [c.split()[0] for c in INDICATOR_DDL.split("(", 1)[1].rsplit(")", 1)[0]
                .replace("\n", " ").split(",")]
        cols = [c.strip() for c in cols]
        con.executemany(
            f"insert into indicator ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
            [[r.get(c, 1 if c == "indicator_version" else None) for c in cols] for r in rows])
        con.execute("""
            create table channel_mix (period_type varchar, period varchar, school_year varchar,
                sector varchar, board_id varchar, board_name varchar, school_id varchar,
                school_name varchar, ses_group varchar, stream varchar, channel varchar,
                n_items integer, share double, suppressed boolean)""")
        mix = []
        for board_id, (board_name, sector, schools) in BOARDS.items():
            for school_id, school_name in schools + [("ALL", "Alle scholen")]:
                for year in SCHOOL_YEARS:
                    for stream, channels in (
                        ("contact", ("tienminutengesprek", "telefoon", "email", "huisbezoek")),
                        ("message", ("app", "email", "sms", "whatsapp")),
                    ):
                        counts = [rnd.randint(3, 120) for _ in channels]
                        for ch, k in zip(channels, counts):
                            sup = k < 10
                            mix.append((
                                "school_year", year, year, sector, board_id, board_name,
                                school_id, school_name, "ALL", stream, ch, k,
                                None if sup else k / sum(counts), sup))
        con.executemany(f"insert into channel_mix values ({', '.join('?' * 14)})", mix)
        con.execute("""create table national_reference (sector varchar, indicator_code varchar,
            indicator_label varchar, reference_value double, report_table varchar)""")
        con.executemany("insert into national_reference values (?, ?, ?, ?, ?)", [
            (s, c, INDICATORS[c][0], v, "6.6" if c == "tip_usefulness" else "6.5"
             if c == "tips_received" else "6.11") for (s, c), v in REFERENCE.items()])
        con.execute("""create table indicator_catalogue as select distinct indicator_code,
            indicator_label, indicator_group, unit from indicator""")
        con.execute("""create table publish_run (run_id varchar, published_at timestamp,
            code_version varchar, validation_success boolean, row_counts varchar,
            input_file_hashes varchar)""")
        con.execute("insert into publish_run values (?, now(), 'handmade', true, '{}', '{}')",
                    [run_id])
    finally:
        con.close()
    os.replace(tmp, path)
    return path
