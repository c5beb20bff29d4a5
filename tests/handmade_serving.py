"""A HAND-MADE serving file with the documented schema (docs/ARCHITECTURE.md, "Serving file").

No test uses it: every Superset test runs on ``published_settings`` (real sample data, real
dbt, real publish). It is a development aid for working on ``dashboards/`` without running
the pipeline, e.g. (main venv, from tests/)::

    python -c "from pathlib import Path; from handmade_serving import *; \
               write_handmade_serving_file(Path('/tmp/dev/serving/ouderpeil.duckdb'))"

then ``start_superset`` on settings whose serving_path points there. It has three boards
(one per sector), two school years, month rows (August without school days), suppressed cells,
2014 references and the equity gap table (laag vs hoog per headline indicator).
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
    "41000": (
        "Stichting Hand Gemaakt PO",
        "po",
        [("90AA00", "De Testboom"), ("90AB00", "Het Proefveld")],
    ),
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
    "message_reach": ("Bereik berichten", "berichten", "aandeel", True),
    "message_dose": ("Berichten per gezin per schoolweek", "berichten", "gemiddelde", True),
    "tip_usefulness": ("Tips nuttig", "enquete", "aandeel", False),
    "tips_received": ("Tips ontvangen", "enquete", "aandeel", False),
    "comm_grade": ("Rapportcijfer communicatie", "enquete", "gemiddelde", False),
    "can_contribute": ("Kan bijdragen thuis", "enquete", "aandeel", False),
}
REFERENCE = {  # monitor 2014, as proportions
    ("po", "tip_usefulness"): 0.72,
    ("vo", "tip_usefulness"): 0.67,
    ("mbo", "tip_usefulness"): 0.64,
    ("po", "tips_received"): 0.45,
    ("vo", "tips_received"): 0.32,
    ("mbo", "tips_received"): 0.28,
    ("po", "can_contribute"): 0.57,
    ("vo", "can_contribute"): 0.44,
    ("mbo", "can_contribute"): 0.32,
}

REASON_NL = {  # seed suppression_reasons
    "n_below_10": "te weinig waarnemingen (n<10)",
    "gap_side_suppressed": "verschil niet getoond: de waarde van laag of hoog is afgeschermd",
}
NO_SCHOOL_DAYS_MONTH = "08"  # the summer month: trend charts leave it out (has_school_days)
# The headline indicators of mart_equity_gap: (code, display_order, gap unit)
HEADLINES = (
    ("contact_reach", 1, "procentpunt"),
    ("contact_frequency", 2, "contacten per gezin"),
    ("message_delivery_rate", 3, "procentpunt"),
    ("message_read_rate", 4, "procentpunt"),
    ("message_reach", 5, "procentpunt"),
    ("tip_usefulness", 6, "procentpunt"),
    ("comm_grade", 7, "cijferpunt"),
)
SUPPRESSED_TEXT = "onderdrukt (n<10)"

INDICATOR_DDL = """
create table indicator (
    indicator_code varchar, indicator_version integer, period_type varchar, period varchar,
    school_year varchar, sector varchar, board_id varchar, school_id varchar,
    ses_group varchar, numerator double, denominator double, value double, ci_low double,
    ci_high double, n integer, suppressed boolean, suppression_reason varchar,
    suppression_reason_nl varchar, gap_significant boolean, indicator_label varchar,
    indicator_group varchar, unit varchar, board_name varchar, school_name varchar,
    value_display varchar, reference_value double, has_school_days boolean)
"""

EQUITY_GAP_DDL = """
create table equity_gap (
    period_type varchar, period varchar, school_year varchar, sector varchar, board_id varchar,
    board_name varchar, school_id varchar, school_name varchar, level_rank integer,
    indicator_code varchar, indicator_label varchar, unit varchar, display_order integer,
    gap_unit_label varchar,
    laag_value double, laag_ci_low double, laag_ci_high double, laag_n integer,
    laag_suppressed boolean,
    hoog_value double, hoog_ci_low double, hoog_ci_high double, hoog_n integer,
    hoog_suppressed boolean,
    gap_value double, gap_ci_low double, gap_ci_high double, gap_suppressed boolean,
    gap_significant boolean, previous_gap_value double, gap_change double,
    gap_widened boolean, gap_narrowed boolean,
    laag_text varchar, hoog_text varchar, gap_text varchar, gap_interval_text varchar,
    signal_text varchar, trend_text varchar, signal_rank integer,
    summary_text varchar, summary_n_behind bigint, summary_n_widened bigint)
"""


def _display(value, unit, suppressed):
    if suppressed:
        return "onderdrukt (n<10)"
    if unit == "aandeel":
        return f"{value * 100:.0f}%".replace(".", ",")
    return f"{value:.1f}".replace(".", ",")


def _nl(x: float, decimals: int, minus: str = "-") -> str:
    """Dutch decimal text; gap texts use a real minus sign."""
    text = f"{round(x, decimals) + 0.0:.{decimals}f}".replace(".", ",")
    return text.replace("-", minus)


def _cell_text(value, low, high, unit, suppressed):
    if suppressed:
        return SUPPRESSED_TEXT
    d = 1 if unit == "aandeel" else 2
    text = _nl(value, d) + (" %" if unit == "aandeel" else "")
    return text + (f" ({_nl(low, d)}–{_nl(high, d)})" if low is not None else "")


def _equity_gap_rows(rows: list[dict]) -> list[tuple]:
    """mart_equity_gap from the hand-made school-year rows, as the model derives it: laag and
    hoog side by side in the unit board staff read, the gap with its interval, the change since
    last year and one summary sentence per school year and unit. Column order = EQUITY_GAP_DDL.
    The sector level copies the board level (one board per sector here)."""
    headline = {code: (pos, gap_unit) for code, pos, gap_unit in HEADLINES}
    by_key = {
        (r["indicator_code"], r["school_year"], r["board_id"], r["school_id"], r["ses_group"]): r
        for r in rows
        if r["period_type"] == "school_year" and r["board_id"] != "ALL"
    }
    cells = []
    for (code, year, board_id, school_id, ses), lo in sorted(by_key.items()):
        if code not in headline or ses != "laag":
            continue
        hi = by_key[(code, year, board_id, school_id, "hoog")]
        gap = by_key[(code + "_gap", year, board_id, school_id, "ALL")]
        scale = 100.0 if lo["unit"] == "aandeel" else 1.0

        def scaled(x, scale=scale):
            return None if x is None else x * scale

        cells.append(
            dict(
                period=year,
                sector=lo["sector"],
                board_id=board_id,
                board_name=lo["board_name"],
                school_id=school_id,
                school_name=lo["school_name"],
                level_rank=1 if school_id == "ALL" else 0,
                indicator_code=code,
                indicator_label=lo["indicator_label"],
                unit=lo["unit"],
                display_order=headline[code][0],
                gap_unit_label=headline[code][1],
                laag=(
                    scaled(lo["value"]),
                    scaled(lo["ci_low"]),
                    scaled(lo["ci_high"]),
                    lo["n"],
                    lo["suppressed"],
                ),
                hoog=(
                    scaled(hi["value"]),
                    scaled(hi["ci_low"]),
                    scaled(hi["ci_high"]),
                    hi["n"],
                    hi["suppressed"],
                ),
                gap=(scaled(gap["value"]), scaled(gap["ci_low"]), scaled(gap["ci_high"])),
                gap_suppressed=gap["suppressed"] or gap["value"] is None,
                gap_significant=bool(gap["gap_significant"]) and not gap["suppressed"],
            )
        )
    cells += [
        dict(c, board_id="ALL", board_name="Alle besturen", level_rank=2)
        for c in cells
        if c["level_rank"] == 1
    ]
    published = {
        (c["indicator_code"], c["period"], c["sector"], c["board_id"], c["school_id"]): c
        for c in cells
        if not c["gap_suppressed"]
    }
    for c in cells:
        y0 = int(c["period"][:4])
        prev = published.get(
            (c["indicator_code"], f"{y0 - 1}-{y0}", c["sector"], c["board_id"], c["school_id"])
        )
        value, low, high = c["gap"]
        c["previous"] = prev["gap"][0] if prev else None
        c["change"] = None if prev is None or value is None else value - prev["gap"][0]
        widened = narrowed = False
        if prev and not c["gap_suppressed"]:
            se = math.hypot(
                (high - low) / (2 * 1.959964), (prev["gap"][2] - prev["gap"][1]) / (2 * 1.959964)
            )
            significant = se > 0 and abs(c["change"]) > 1.959964 * se
            widened = significant and abs(value) > abs(c["previous"])
            narrowed = significant and abs(value) < abs(c["previous"])
        c["widened"], c["narrowed"] = widened, narrowed
        d = 1 if c["unit"] == "aandeel" else 2
        c["gap_text"] = (
            SUPPRESSED_TEXT
            if c["gap_suppressed"]
            else f"{_nl(value, d, '−')} {c['gap_unit_label']}"
        )
        c["interval_text"] = (
            SUPPRESSED_TEXT
            if c["gap_suppressed"]
            else f"{_nl(low, d, '−')} tot {_nl(high, d, '−')}"
        )
        behind = c["gap_significant"] and value < 0
        c["behind"] = behind
        if c["gap_suppressed"]:
            c["signal"], c["rank"] = "■ onderdrukt: te weinig gezinnen (n<10)", 2
        else:
            c["signal"] = (
                "▼ laag blijft significant achter"
                if behind
                else "▲ laag significant hoger"
                if c["gap_significant"]
                else "● geen significant verschil"
            )
            c["rank"] = 0 if behind or widened else 1
        was = None if c["previous"] is None else _nl(c["previous"], d, "−")
        c["trend"] = (
            SUPPRESSED_TEXT
            if c["gap_suppressed"]
            else "geen vergelijking met vorig jaar"
            if was is None
            else f"↑ significant groter geworden (was {was})"
            if widened
            else f"↓ significant kleiner geworden (was {was})"
            if narrowed
            else f"→ niet significant veranderd (was {was})"
        )
    units: dict[tuple, list[dict]] = {}
    for c in cells:
        units.setdefault((c["period"], c["sector"], c["board_id"], c["school_id"]), []).append(c)
    out = []
    for unit_cells in units.values():
        n_published = sum(not c["gap_suppressed"] for c in unit_cells)
        behind = sorted((c for c in unit_cells if c["behind"]), key=lambda c: c["display_order"])
        n_widened = sum(c["widened"] for c in unit_cells)
        if n_published == 0:
            summary = "Te weinig gezinnen per SES-groep om de kloof te tonen (onderdrukt, n<10)."
        elif not behind:
            summary = (
                f"Bij geen van de {n_published} gepubliceerde kerncijfers blijven gezinnen "
                "met laag opgeleide ouders significant achter bij hoog opgeleide."
            )
        else:
            summary = (
                f"Bij {len(behind)} van de {n_published} getoonde kerncijfers blijven "
                "gezinnen met laag opgeleide ouders significant achter: "
                + "; ".join(f"{c['indicator_label'].lower()} ({c['gap_text']})" for c in behind)
                + "."
            )
        summary += (
            " Eén kloof werd significant groter dan vorig jaar."
            if n_widened == 1
            else f" {n_widened} kloven werden significant groter dan vorig jaar."
            if n_widened > 1
            else ""
        )
        for c in unit_cells:
            out.append(
                (
                    "school_year",
                    c["period"],
                    c["period"],
                    c["sector"],
                    c["board_id"],
                    c["board_name"],
                    c["school_id"],
                    c["school_name"],
                    c["level_rank"],
                    c["indicator_code"],
                    c["indicator_label"],
                    c["unit"],
                    c["display_order"],
                    c["gap_unit_label"],
                    *c["laag"],
                    *c["hoog"],
                    *c["gap"],
                    c["gap_suppressed"],
                    c["gap_significant"],
                    c["previous"],
                    c["change"],
                    c["widened"],
                    c["narrowed"],
                    _cell_text(*c["laag"][:3], c["unit"], c["laag"][4]),
                    _cell_text(*c["hoog"][:3], c["unit"], c["hoog"][4]),
                    c["gap_text"],
                    c["interval_text"],
                    c["signal"],
                    c["trend"],
                    c["rank"],
                    summary,
                    len(behind),
                    n_widened,
                )
            )
    return out


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
                                base = {"laag": 0.45, "midden": 0.6, "hoog": 0.7}.get(ses, 0.6)
                                v = min(0.99, max(0.01, base + rnd.uniform(-0.1, 0.1)))
                                half = 1.96 * math.sqrt(v * (1 - v) / n)
                            else:
                                v = (
                                    rnd.uniform(6.0, 8.0)
                                    if code == "comm_grade"
                                    else rnd.uniform(0.5, 3)
                                )
                                half = 1.96 * 0.9 / math.sqrt(n)
                            suppressed = n < 10
                            values[ses] = None if suppressed else v
                            rows.append(
                                dict(
                                    indicator_code=code,
                                    period_type=ptype,
                                    period=period,
                                    school_year=year,
                                    sector=sector,
                                    board_id=board_id,
                                    school_id=school_id,
                                    ses_group=ses,
                                    numerator=None if suppressed else v * n,
                                    denominator=n,
                                    value=None if suppressed else v,
                                    ci_low=None if suppressed else v - half,
                                    ci_high=None if suppressed else v + half,
                                    n=n,
                                    suppressed=suppressed,
                                    suppression_reason="n_below_10" if suppressed else None,
                                    suppression_reason_nl=REASON_NL["n_below_10"]
                                    if suppressed
                                    else None,
                                    gap_significant=None,
                                    indicator_label=label,
                                    indicator_group=group,
                                    unit=unit,
                                    board_name=board_name,
                                    school_name=school_name or "Alle scholen",
                                    value_display=_display(v, unit, suppressed),
                                    reference_value=REFERENCE.get((sector, code)),
                                    has_school_days=not period.endswith("-" + NO_SCHOOL_DAYS_MONTH),
                                )
                            )
                        lo, hi = values.get("laag"), values.get("hoog")
                        gap = None if lo is None or hi is None else lo - hi
                        rows.append(
                            dict(
                                indicator_code=f"{code}_gap",
                                period_type=ptype,
                                period=period,
                                school_year=year,
                                sector=sector,
                                board_id=board_id,
                                school_id=school_id,
                                ses_group="ALL",
                                numerator=None,
                                denominator=None,
                                value=gap,
                                ci_low=None if gap is None else gap - 0.12,
                                ci_high=None if gap is None else gap + 0.12,
                                n=40,
                                suppressed=gap is None,
                                suppression_reason="gap_side_suppressed" if gap is None else None,
                                suppression_reason_nl=None
                                if gap is not None
                                else REASON_NL["gap_side_suppressed"],
                                gap_significant=None if gap is None else abs(gap) > 0.12,
                                indicator_label=f"Kloof laag-hoog: {label.lower()}",
                                indicator_group="gelijkheid",
                                unit=unit,
                                board_name=board_name,
                                school_name=school_name or "Alle scholen",
                                value_display=_display(gap, unit, gap is None),
                                reference_value=None,
                                has_school_days=not period.endswith("-" + NO_SCHOOL_DAYS_MONTH),
                            )
                        )
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
        cols = [
            c.split()[0]
            for c in INDICATOR_DDL.split("(", 1)[1].rsplit(")", 1)[0].replace("\n", " ").split(",")
        ]
        cols = [c.strip() for c in cols]
        con.executemany(
            f"insert into indicator ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
            [[r.get(c, 1 if c == "indicator_version" else None) for c in cols] for r in rows],
        )
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
                            mix.append(
                                (
                                    "school_year",
                                    year,
                                    year,
                                    sector,
                                    board_id,
                                    board_name,
                                    school_id,
                                    school_name,
                                    "ALL",
                                    stream,
                                    ch,
                                    k,
                                    None if sup else k / sum(counts),
                                    sup,
                                )
                            )
        con.executemany(f"insert into channel_mix values ({', '.join('?' * 14)})", mix)
        con.execute("""create table national_reference (sector varchar, indicator_code varchar,
            indicator_label varchar, reference_value double, report_table varchar)""")
        con.executemany(
            "insert into national_reference values (?, ?, ?, ?, ?)",
            [
                (
                    s,
                    c,
                    INDICATORS[c][0],
                    v,
                    "6.6" if c == "tip_usefulness" else "6.5" if c == "tips_received" else "6.11",
                )
                for (s, c), v in REFERENCE.items()
            ],
        )
        con.execute("""create table indicator_catalogue as select distinct indicator_code,
            indicator_label, indicator_group, unit from indicator""")
        con.execute(EQUITY_GAP_DDL)
        gap_rows = _equity_gap_rows(rows)
        con.executemany(
            f"insert into equity_gap values ({', '.join('?' * len(gap_rows[0]))})", gap_rows
        )
        con.execute("""create table publish_run (run_id varchar, published_at timestamp,
            code_version varchar, validation_success boolean, row_counts varchar,
            input_file_hashes varchar)""")
        con.execute(
            "insert into publish_run values (?, now(), 'handmade', true, '{}', '{}')", [run_id]
        )
    finally:
        con.close()
    os.replace(tmp, path)
    return path
