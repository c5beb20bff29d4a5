#!/usr/bin/env python3
"""Generate the Superset dashboards-as-code in this folder (Superset 6 v1 export format).

    python dashboards/build_dashboards.py          # rewrites metadata.yaml, databases/,
                                                   # datasets/, charts/, dashboards/

The generated YAML is committed and is what ``ouderpeil.superset_bootstrap import`` zips and
imports; this script only keeps the 60-odd files consistent and their UUIDs stable (uuid5 of a
fixed namespace and a readable key). Edit the tables below, run the script, commit both.
Only the standard library and PyYAML are needed (both virtualenvs have PyYAML).

How values are picked (see docs/DASHBOARDS.md): the serving table ``indicator`` holds rows at
three levels (national ``board_id = 'ALL'``, board ``school_id = 'ALL'``, school) and for SES
group ``ALL`` and per group. The dataset metrics use ``arg_max_null(value, voorkeur)`` so a
chart shows the broadest level that the user's filters and row-level security leave over:
national for an inspector without filters, the board for a board user, the school when a
school is picked, the latest school year when none is picked. Suppressed rows stay NULL
(never a lower level's value), and tables show ``value_display`` ("onderdrukt (n<10)").
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import yaml

from ouderpeil.superset_bootstrap.duckdb_lock import engine_params

HERE = Path(__file__).resolve().parent
NAMESPACE = uuid.UUID("5d1f3f0e-4f0a-4a52-9a55-0bd3a1e2c0de")  # never change: keeps UUIDs stable
VERSION = "1.0.0"
DATABASE_NAME = "Ouderpeil (serving)"
SERVING_URI_PLACEHOLDER = "__OUDERPEIL_SERVING_URI__"


def uid(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


# --------------------------------------------------------------------------- indicators
SECTORS = {
    "po": "Primair onderwijs (PO)",
    "vo": "Voortgezet onderwijs (VO)",
    "mbo": "Middelbaar beroepsonderwijs (MBO)",
}
SES_COLOURS = {
    "1. laag": "#D1495B",
    "2. midden": "#EDAE49",
    "3. hoog": "#00798C",
    "4. onbekend": "#9E9E9E",
}
# SES groups as numbered labels so legends and bars run laag -> midden -> hoog.
SES_COLUMN = {
    "expressionType": "SQL",
    "label": "SES-groep",
    "sqlExpression": "CASE ses_group WHEN 'laag' THEN '1. laag' WHEN 'midden' THEN '2. midden' "
    "WHEN 'hoog' THEN '3. hoog' WHEN 'onbekend' THEN '4. onbekend' "
    "ELSE ses_group END",
}
SECTOR_COLOURS = {"PO": "#30638E", "VO": "#00798C", "MBO": "#EDAE49"}

# Headline numbers: code, title, subtitle (what is counted), d3 format
HEADLINES = [
    (
        "contact_reach",
        "Bereik contacten",
        "gezinnen met minstens één gehouden individueel contact",
        ".0%",
    ),
    (
        "contact_frequency",
        "Contacten per gezin",
        "gehouden contacten per ingeschreven gezin",
        ",.1f",
    ),
    ("message_delivery_rate", "Berichten afgeleverd", "afgeleverd of gelezen / verstuurd", ".0%"),
    (
        "message_read_rate",
        "Berichten gelezen",
        "gelezen / afgeleverd (app, WhatsApp, e-mail)",
        ".0%",
    ),
    (
        "message_dose",
        "Berichten per week",
        "per gezin per schoolweek (onderzoek: tot 3 is genoeg)",
        ",.2f",
    ),
    ("tip_usefulness", "Tips nuttig (enquête)", "heel veel + tamelijk veel geholpen", ".0%"),
    ("comm_grade", "Rapportcijfer communicatie", "gemiddeld cijfer 1–10 (enquête)", ",.1f"),
]
HEADLINE_CODES = [h[0] for h in HEADLINES]
SES_CODES = [
    "contact_reach",
    "message_delivery_rate",
    "message_read_rate",
    "message_reach",
    "tip_usefulness",
    "tips_received",
]
# Monthly trends, one chart per indicator so each can carry its own 95% band.
TREND_CHARTS = [
    ("contact_reach", "Bereik individuele contacten", ".0%"),
    ("message_delivery_rate", "Berichten afgeleverd", ".0%"),
    ("message_read_rate", "Berichten gelezen", ".0%"),
    ("contact_frequency", "Contacten per gezin", ",.2f"),
    ("message_dose", "Berichten per schoolweek", ",.2f"),
]
REFERENCE_CODES = [
    "talk_daily",
    "read_aloud_weekly",
    "homework_help_weekly",
    "tips_received",
    "support_no_contact",
    "tip_usefulness",
    "contact_insufficient",
    "can_contribute",
    "teacher_open",
    "expectations_clear",
    "helps_school",
]
SURVEY_TABLE_CODES = REFERENCE_CODES + ["comm_grade", "survey_response_rate"]

# --------------------------------------------------------------------------- datasets
# Preference key: broadest level first (national > board > school), SES 'ALL' first, then the
# latest school year / period. Used by every metric that picks one published row.
PREF = (
    "(CASE WHEN board_id = 'ALL' THEN '2' WHEN school_id = 'ALL' THEN '1' ELSE '0' END"
    " || CASE WHEN ses_group = 'ALL' THEN '1' ELSE '0' END || school_year || period)"
)


def pick(expr: str) -> str:
    return f"arg_max_null({expr}, {PREF})"


INTERVAL_TEXT = (
    "CASE WHEN suppressed THEN 'onderdrukt (n<10)' "
    "WHEN ci_low IS NULL OR ci_high IS NULL THEN 'geen interval (volledige telling)' "
    "WHEN unit = 'aandeel' AND indicator_code LIKE '%\\_gap' ESCAPE '\\' "
    "THEN replace(replace(printf('%.1f tot %.1f procentpunt', ci_low * 100, ci_high * 100), "
    "'.', ','), '-', '−') "
    "WHEN unit = 'aandeel' THEN replace(printf('%.1f – %.1f %%', ci_low * 100, ci_high * 100), "
    "'.', ',') "
    "ELSE replace(replace(printf('%.2f – %.2f', ci_low, ci_high), '.', ','), '-', '−') END"
)
# One cell of the SES table: the published text with its interval, or the suppression text.
SES_CELL = (
    "CASE WHEN suppressed THEN 'onderdrukt (n<10)' ELSE value_display || "
    "CASE WHEN ci_low IS NULL THEN '' WHEN unit = 'aandeel' THEN replace(printf("
    "' (%.1f–%.1f)', ci_low * 100, ci_high * 100), '.', ',') ELSE replace(printf("
    "' (%.2f–%.2f)', ci_low, ci_high), '.', ',') END END"
)
SES_ORDER_SQL = (
    "CASE ses_group WHEN 'laag' THEN 1 WHEN 'midden' THEN 2 WHEN 'hoog' THEN 3 "
    "WHEN 'onbekend' THEN 4 ELSE 5 END"
)
# equity_gap: broadest level first (sector > board > school), then the latest school year.
GAP_PREF = "(CAST(level_rank AS VARCHAR) || school_year)"


def gpick(expr: str) -> str:
    return f"arg_max_null({expr}, {GAP_PREF})"


# Laag and hoog drawn on one scale with their 95% intervals (issue 14: "intervals drawn where a
# value rests on a sample"), as HTML in a table cell (Superset's table sanitiser keeps inline
# styles on spans). Shares on 0–100 %; other units from 0 to a little over the larger upper
# bound of the row, so laag and hoog are always comparable within a row.
PLOT_COLOURS = {"laag": ("#C2410C", "#F0A27A"), "hoog": ("#1D4E89", "#8DB3DE")}
# One value of all families (survey table): the blue of the gap tables, without a group label.
PLOT_COLOURS_ALL = PLOT_COLOURS["hoog"]
PLOT_SCALE_SQL = (
    "CASE WHEN unit = 'aandeel' THEN 100.0 ELSE greatest(coalesce(laag_ci_high, laag_value, 0), "
    "coalesce(hoog_ci_high, hoog_value, 0), 1e-9) * 1.15 END"
)


def _plot_pos(expr: str, scale: str) -> str:
    """A value as a CSS percentage of the plot's width (text, decimal point for CSS)."""
    return f"CAST(round(least(greatest(100.0 * ({expr}) / ({scale}), 0), 100), 1) AS VARCHAR)"


def interval_plot(
    value: str,
    low: str,
    high: str,
    hidden: str,
    scale: str,
    colours: tuple[str, str],
    label_html: str = "''",
    reference: str | None = None,
) -> str:
    """SQL for one drawn value: a grey track, its 95% interval as a light bar, the value as a
    dark mark, optionally a black reference tick; ■ with the reason for a suppressed value."""
    dark, light = colours
    track = (
        "'<span style=\"display:inline-block;position:relative;width:160px;height:8px;"
        "background:#ECECEC;border-radius:2px;vertical-align:middle\">'"
    )
    band = (
        f"CASE WHEN {low} IS NULL OR {high} IS NULL THEN '' ELSE "
        "'<span style=\"position:absolute;top:0;bottom:0;left:' || "
        f"{_plot_pos(low, scale)} || '%;width:' || "
        f"CAST(greatest(round(100.0 * ({high} - {low}) / ({scale}), 1), 0.5) AS VARCHAR)"
        f" || '%;background:{light}\"></span>' END"
    )
    mark = (
        "'<span style=\"position:absolute;top:-3px;bottom:-3px;width:3px;margin-left:-1px;"
        f"left:' || {_plot_pos(value, scale)} || '%;background:{dark}\"></span>'"
    )
    tick = (
        ""
        if reference is None
        else f" || CASE WHEN {reference} IS NULL THEN '' ELSE "
        "'<span style=\"position:absolute;top:-5px;bottom:-5px;width:0;"
        f"border-left:2px dashed #222;left:' || {_plot_pos(reference, scale)} || '%\"></span>' END"
    )
    suppressed = "'<span style=\"font-size:11px;color:#777\">■ onderdrukt (n<10)</span>'"
    return (
        f"'<div style=\"white-space:nowrap;line-height:15px\">' || {label_html} || "
        f"CASE WHEN {hidden} OR {value} IS NULL THEN {suppressed} "
        f"ELSE {track} || {band} || {mark}{tick} || '</span>' END || '</div>'"
    )


def _plot_row(group: str) -> str:
    """Laag or hoog of one equity_gap row, labelled, on the row's common scale."""
    dark = PLOT_COLOURS[group][0]
    return interval_plot(
        f"{group}_value",
        f"{group}_ci_low",
        f"{group}_ci_high",
        f"{group}_suppressed",
        PLOT_SCALE_SQL,
        PLOT_COLOURS[group],
        label_html=f"'<span style=\"display:inline-block;width:34px;font-size:11px;"
        f"color:{dark}\">{group}</span>'",
    )


INTERVAL_PLOT_SQL = f"({_plot_row('laag')} || {_plot_row('hoog')})"


def for_sector(expr: str, sector: str) -> str:
    """The picked value of one sector only (overview tables: a column per sector); a text,
    never NULL, where the board has no school in that sector."""
    return (
        f"coalesce(arg_max_null({expr}, CASE WHEN sector = '{sector}' THEN {GAP_PREF} "
        "END), 'geen scholen in deze sector')"
    )


def colour(text_sql: str, rank_sql: str) -> str:
    """Signal text in colour: red when laag is behind (or the gap widened), grey otherwise."""
    return (
        f"CASE WHEN {rank_sql} = 0 THEN '<span style=\"color:#B3261E;font-weight:600\">' "
        f"|| {text_sql} || '</span>' WHEN {rank_sql} = 2 THEN '<span style=\"color:#777\">' "
        f"|| {text_sql} || '</span>' ELSE '<span style=\"color:#1B6E3A\">' || {text_sql} "
        f"|| '</span>' END"
    )


REFERENCE_NORMALISED = (
    "CASE WHEN unit = 'aandeel' AND reference_value > 1 "
    "THEN reference_value / 100.0 ELSE reference_value END"
)

# One published value drawn with its 95% interval and the 2014 national figure as a dashed tick
# (the survey rests on a sample): shares on 0–100 %, other units from 0 to just over the larger
# of the upper bound and the reference.
INDICATOR_PLOT_SQL = interval_plot(
    "value",
    "ci_low",
    "ci_high",
    "coalesce(suppressed, false)",
    "CASE WHEN unit = 'aandeel' THEN 1.0 ELSE greatest(coalesce(ci_high, value, 0), "
    f"coalesce({REFERENCE_NORMALISED}, 0), 1e-9) * 1.15 END",
    PLOT_COLOURS_ALL,
    reference=REFERENCE_NORMALISED,
)

COLUMN_LABELS = {
    "indicator_code": "Indicatorcode",
    "indicator_version": "Definitieversie",
    "period_type": "Soort periode",
    "period": "Periode",
    "school_year": "Schooljaar",
    "sector": "Sector",
    "board_id": "Bestuursnummer",
    "school_id": "School (BRIN)",
    "ses_group": "SES-groep",
    "numerator": "Teller",
    "denominator": "Noemer",
    "value": "Waarde",
    "ci_low": "Ondergrens 95%",
    "ci_high": "Bovengrens 95%",
    "n": "n",
    "suppressed": "Onderdrukt",
    "suppression_reason": "Reden onderdrukking",
    "gap_significant": "Kloof significant",
    "indicator_label": "Indicator",
    "indicator_group": "Groep",
    "unit": "Eenheid",
    "board_name": "Bestuur",
    "school_name": "School",
    "value_display": "Waarde (tekst)",
    "reference_value": "Landelijk 2014",
    "stream": "Stroom",
    "channel": "Kanaal",
    "n_items": "Aantal",
    "share": "Aandeel",
    "report_table": "Tabel monitor 2014",
    "has_school_days": "Maand met schooldagen",
    "level_rank": "Niveau",
    "display_order": "Volgorde",
    "gap_unit_label": "Eenheid kloof",
    "laag_value": "Laag",
    "laag_ci_low": "Laag: ondergrens",
    "laag_ci_high": "Laag: bovengrens",
    "laag_n": "n laag",
    "laag_suppressed": "Laag onderdrukt",
    "hoog_value": "Hoog",
    "hoog_ci_low": "Hoog: ondergrens",
    "hoog_ci_high": "Hoog: bovengrens",
    "hoog_n": "n hoog",
    "hoog_suppressed": "Hoog onderdrukt",
    "gap_value": "Kloof laag − hoog",
    "gap_ci_low": "Kloof: ondergrens",
    "gap_ci_high": "Kloof: bovengrens",
    "gap_suppressed": "Kloof onderdrukt",
    "previous_gap_value": "Kloof vorig schooljaar",
    "gap_change": "Verandering kloof",
    "gap_widened": "Kloof significant groter",
    "gap_narrowed": "Kloof significant kleiner",
    "laag_text": "Laag (95%-interval)",
    "hoog_text": "Hoog (95%-interval)",
    "gap_text": "Kloof laag − hoog",
    "gap_interval_text": "95%-interval kloof",
    "signal_text": "Signaal",
    "trend_text": "Sinds vorig schooljaar",
    "signal_rank": "Signaalvolgorde",
    "summary_text": "Samenvatting",
    "summary_n_behind": "Kerncijfers met achterstand laag",
    "summary_n_widened": "Kloven groter geworden",
}

INDICATOR_COLUMNS = [
    ("indicator_code", "VARCHAR"),
    ("indicator_version", "INTEGER"),
    ("period_type", "VARCHAR"),
    ("period", "VARCHAR"),
    ("school_year", "VARCHAR"),
    ("sector", "VARCHAR"),
    ("board_id", "VARCHAR"),
    ("school_id", "VARCHAR"),
    ("ses_group", "VARCHAR"),
    ("numerator", "DOUBLE"),
    ("denominator", "DOUBLE"),
    ("value", "DOUBLE"),
    ("ci_low", "DOUBLE"),
    ("ci_high", "DOUBLE"),
    ("n", "INTEGER"),
    ("suppressed", "BOOLEAN"),
    ("suppression_reason", "VARCHAR"),
    ("gap_significant", "BOOLEAN"),
    ("indicator_label", "VARCHAR"),
    ("indicator_group", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("board_name", "VARCHAR"),
    ("school_name", "VARCHAR"),
    ("value_display", "VARCHAR"),
    ("reference_value", "DOUBLE"),
    ("has_school_days", "BOOLEAN"),
]
EQUITY_COLUMNS = [
    ("period_type", "VARCHAR"),
    ("period", "VARCHAR"),
    ("school_year", "VARCHAR"),
    ("sector", "VARCHAR"),
    ("board_id", "VARCHAR"),
    ("board_name", "VARCHAR"),
    ("school_id", "VARCHAR"),
    ("school_name", "VARCHAR"),
    ("level_rank", "INTEGER"),
    ("indicator_code", "VARCHAR"),
    ("indicator_label", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("display_order", "INTEGER"),
    ("gap_unit_label", "VARCHAR"),
    ("laag_value", "DOUBLE"),
    ("laag_ci_low", "DOUBLE"),
    ("laag_ci_high", "DOUBLE"),
    ("laag_n", "INTEGER"),
    ("laag_suppressed", "BOOLEAN"),
    ("hoog_value", "DOUBLE"),
    ("hoog_ci_low", "DOUBLE"),
    ("hoog_ci_high", "DOUBLE"),
    ("hoog_n", "INTEGER"),
    ("hoog_suppressed", "BOOLEAN"),
    ("gap_value", "DOUBLE"),
    ("gap_ci_low", "DOUBLE"),
    ("gap_ci_high", "DOUBLE"),
    ("gap_suppressed", "BOOLEAN"),
    ("gap_significant", "BOOLEAN"),
    ("previous_gap_value", "DOUBLE"),
    ("gap_change", "DOUBLE"),
    ("gap_widened", "BOOLEAN"),
    ("gap_narrowed", "BOOLEAN"),
    ("laag_text", "VARCHAR"),
    ("hoog_text", "VARCHAR"),
    ("gap_text", "VARCHAR"),
    ("gap_interval_text", "VARCHAR"),
    ("signal_text", "VARCHAR"),
    ("trend_text", "VARCHAR"),
    ("signal_rank", "INTEGER"),
    ("summary_text", "VARCHAR"),
    ("summary_n_behind", "INTEGER"),
    ("summary_n_widened", "INTEGER"),
]
CHANNEL_COLUMNS = [
    ("period_type", "VARCHAR"),
    ("period", "VARCHAR"),
    ("school_year", "VARCHAR"),
    ("sector", "VARCHAR"),
    ("board_id", "VARCHAR"),
    ("board_name", "VARCHAR"),
    ("school_id", "VARCHAR"),
    ("school_name", "VARCHAR"),
    ("ses_group", "VARCHAR"),
    ("stream", "VARCHAR"),
    ("channel", "VARCHAR"),
    ("n_items", "INTEGER"),
    ("share", "DOUBLE"),
    ("suppressed", "BOOLEAN"),
]
REFERENCE_COLUMNS = [
    ("sector", "VARCHAR"),
    ("indicator_code", "VARCHAR"),
    ("indicator_label", "VARCHAR"),
    ("reference_value", "DOUBLE"),
    ("report_table", "VARCHAR"),
]


def column(
    name: str,
    type_: str,
    expression: str | None = None,
    is_dttm: bool = False,
    label: str | None = None,
    description: str | None = None,
) -> dict:
    return {
        "column_name": name,
        "verbose_name": label or COLUMN_LABELS.get(name),
        "is_dttm": is_dttm,
        "is_active": True,
        "type": type_,
        "advanced_data_type": None,
        "groupby": True,
        "filterable": True,
        "expression": expression,
        "description": description,
        "python_date_format": None,
        "extra": {},
    }


def metric(
    name: str,
    label: str,
    expression: str,
    d3format: str | None = None,
    description: str | None = None,
) -> dict:
    return {
        "metric_name": name,
        "verbose_name": label,
        "metric_type": None,
        "expression": expression,
        "description": description,
        "d3format": d3format,
        "warning_text": None,
        "extra": {},
    }


DATASETS = {
    "indicator": {
        "description": "Gepubliceerde indicatoren na onthullingscontrole (serving: indicator).",
        "columns": [column(n, t) for n, t in INDICATOR_COLUMNS]
        + [
            column(
                "maand",
                "TIMESTAMP",
                "try_strptime(period, '%Y-%m')",
                is_dttm=True,
                label="Maand",
                description="Begin van de maand (alleen maandrijen)",
            ),
            column("interval_tekst", "VARCHAR", INTERVAL_TEXT, label="95%-interval"),
            column(
                "significant_tekst",
                "VARCHAR",
                "CASE WHEN gap_significant THEN 'ja' WHEN NOT gap_significant THEN 'nee' END",
                label="Kloof significant",
            ),
            column("sector_naam", "VARCHAR", "upper(sector)", label="Sector"),
        ],
        "metrics": [
            metric(
                "waarde",
                "Uitkomst",
                pick("value"),
                description="Waarde op het breedste niveau dat de filters overlaten",
            ),
            metric("ondergrens", "Ondergrens 95%", pick("ci_low")),
            metric("bovengrens", "Bovengrens 95%", pick("ci_high")),
            # Superset's timeseries charts draw "<metric>__yhat_lower" / "__yhat_upper" as a
            # shaded band around "<metric>" (its forecast band), named after that metric.
            metric("waarde__yhat_lower", "Ondergrens 95% (band)", pick("ci_low")),
            metric("waarde__yhat_upper", "Bovengrens 95% (band)", pick("ci_high")),
            metric("aantal_n", "n", pick("n"), ",d"),
            metric(
                "weergave",
                "Waarde",
                pick("value_display"),
                description="Tekst; 'onderdrukt (n<10)' bij te kleine aantallen",
            ),
            metric("interval", "95%-interval", pick(INTERVAL_TEXT)),
            metric("getekend", "Getekend met 95%-interval", pick(INDICATOR_PLOT_SQL)),
            metric("schooljaar", "Schooljaar", pick("school_year")),
            metric(
                "significant",
                "Significant",
                pick("CASE WHEN gap_significant THEN 'ja' WHEN NOT gap_significant THEN 'nee' END"),
            ),
            metric("referentie_2014", "Landelijk 2014", f"max({REFERENCE_NORMALISED})", ".0%"),
            metric(
                "referentie_2014_tekst",
                "Landelijk 2014",
                "coalesce(max(CASE WHEN "
                "reference_value IS NULL THEN NULL WHEN unit = 'aandeel' THEN printf("
                f"'%.0f %%', ({REFERENCE_NORMALISED}) * 100) ELSE replace(printf('%.1f', "
                "reference_value), '.', ',') END), 'niet gemeten in 2014')",
            ),
            metric("count", "Aantal rijen", "COUNT(*)"),
            metric(
                "volgorde",
                "Volgorde",
                "min("
                + " ".join(
                    ["CASE indicator_code"]
                    + [
                        f"WHEN '{c}' THEN {i}"
                        for i, c in enumerate(
                            dict.fromkeys(
                                HEADLINE_CODES[:4]
                                + ["message_reach"]
                                + HEADLINE_CODES[4:]
                                + SES_CODES
                                + SURVEY_TABLE_CODES
                            )
                        )
                    ]
                    + ["ELSE 99 END"]
                )
                + ")",
            ),
            metric("ses_volgorde", "SES-volgorde", f"min({SES_ORDER_SQL})"),
            *[
                metric(
                    f"ses_{g}",
                    g,
                    f"arg_max_null({SES_CELL}, CASE WHEN ses_group = '{g}' THEN {PREF} END)",
                )
                for g in ("laag", "midden", "hoog", "onbekend")
            ],
        ],
    },
    "equity_gap": {
        "description": "Bereiken we alle gezinnen? Laag naast hoog, de kloof en het signaal "
        "(serving: equity_gap).",
        "columns": [column(n, t) for n, t in EQUITY_COLUMNS],
        "metrics": [
            metric("bestuur", "Bestuur", gpick("board_name")),
            metric("school", "School", gpick("school_name")),
            metric("schooljaar", "Schooljaar", "max(school_year)"),
            metric("samenvatting", "Samenvatting", gpick("summary_text")),
            metric("laag", "Laag (95%-interval)", gpick("laag_text")),
            metric("hoog", "Hoog (95%-interval)", gpick("hoog_text")),
            metric("laag_hoog_plot", "Laag en hoog getekend", gpick(INTERVAL_PLOT_SQL)),
            metric("kloof", "Kloof laag − hoog", gpick("gap_text")),
            metric("kloof_interval", "95%-interval kloof", gpick("gap_interval_text")),
            metric("signaal", "Signaal", gpick(colour("signal_text", "signal_rank"))),
            metric(
                "trend",
                "Sinds vorig schooljaar",
                gpick(
                    colour(
                        "trend_text",
                        "CASE WHEN gap_widened THEN 0 WHEN gap_suppressed THEN 2 ELSE 1 END",
                    )
                ),
            ),
            metric("kloof_waarde", "Kloof (procentpunt)", gpick("gap_value"), ",.1f"),
            # Sort key: signals first (laag behind or widened), then the gap from most negative,
            # suppressed last; never the display text.
            metric("sortering", "Sortering", gpick("signal_rank * 1000 + coalesce(gap_value, 0)")),
            metric("volgorde", "Volgorde", "min(display_order)"),
            *[
                metric(
                    f"kloof_{sec}",
                    sec.upper(),
                    for_sector(
                        colour("signal_text_short", "signal_rank").replace(
                            "signal_text_short", "gap_text || ' ' || left(signal_text, 1)"
                        ),
                        sec,
                    ),
                )
                for sec in SECTORS
            ],
            metric("count", "Aantal rijen", "COUNT(*)"),
        ],
    },
    "channel_mix": {
        "description": "Kanaalmix van contacten en berichten (serving: channel_mix).",
        "columns": [column(n, t) for n, t in CHANNEL_COLUMNS]
        + [column("sector_naam", "VARCHAR", "upper(sector)", label="Sector")],
        "metrics": [
            metric("aandeel", "Aandeel", pick("share"), ".0%"),
            metric("aantal", "Aantal", pick("n_items"), ",d"),
            metric("count", "Aantal rijen", "COUNT(*)"),
        ],
    },
    "national_reference": {
        "description": "Landelijke referentie: Monitor Ouderbetrokkenheid 2014 (publiek).",
        "columns": [column(n, t) for n, t in REFERENCE_COLUMNS]
        + [
            column(
                "bron_tabel",
                "VARCHAR",
                "replace(report_table, 'ch. ', 'hoofdstuk ')",
                label="Tabel monitor 2014",
            ),
            column("sector_naam", "VARCHAR", "upper(sector)", label="Sector"),
        ],
        "metrics": [
            metric(
                "referentie",
                "Landelijk 2014",
                "max(CASE WHEN reference_value > 1 THEN "
                "reference_value / 100.0 ELSE reference_value END)",
                ".0%",
            ),
            metric("count", "Aantal rijen", "COUNT(*)"),
        ],
    },
}


def dataset_yaml(table: str, spec: dict) -> dict:
    return {
        "table_name": table,
        "main_dttm_col": None,
        "description": spec["description"],
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": "main",
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": {"warning_markdown": None},
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": uid(f"dataset:{table}"),
        "metrics": spec["metrics"],
        "columns": spec["columns"],
        "version": VERSION,
        "database_uuid": uid("database:serving"),
    }


# --------------------------------------------------------------------------- charts
def f_eq(col: str, val: str) -> dict:
    return {
        "expressionType": "SIMPLE",
        "subject": col,
        "operator": "==",
        "comparator": val,
        "clause": "WHERE",
        "isExtra": False,
        "sqlExpression": None,
        "filterOptionName": f"filter_{slug(col)}_{slug(val)}",
    }


def f_ne(col: str, val: str) -> dict:
    return dict(
        f_eq(col, val), operator="!=", filterOptionName=f"filter_{slug(col)}_not_{slug(val)}"
    )


def f_sql(expression: str, name: str) -> dict:
    return {
        "expressionType": "SQL",
        "sqlExpression": expression,
        "clause": "WHERE",
        "isExtra": False,
        "subject": None,
        "operator": None,
        "comparator": None,
        "filterOptionName": f"filter_{name}",
    }


def f_in(col: str, vals: list[str]) -> dict:
    return {
        "expressionType": "SIMPLE",
        "subject": col,
        "operator": "IN",
        "comparator": vals,
        "clause": "WHERE",
        "isExtra": False,
        "sqlExpression": None,
        "filterOptionName": f"filter_{slug(col)}_in_{len(vals)}",
    }


def f_like(col: str, pattern: str) -> dict:
    return {
        "expressionType": "SIMPLE",
        "subject": col,
        "operator": "LIKE",
        "comparator": pattern,
        "clause": "WHERE",
        "isExtra": False,
        "sqlExpression": None,
        "filterOptionName": f"filter_{slug(col)}_like",
    }


def f_not_like(col: str, pattern: str) -> dict:
    return {
        "expressionType": "SQL",
        "sqlExpression": f"{col} NOT LIKE '{pattern}'",
        "clause": "WHERE",
        "isExtra": False,
        "subject": None,
        "operator": None,
        "comparator": None,
        "filterOptionName": f"filter_{slug(col)}_not_like",
    }


def query_filters(adhoc: list[dict]) -> tuple[list[dict], str]:
    """What the frontend's buildQuery makes of adhoc filters (simple -> filters, SQL -> where)."""
    simple, where = [], []
    for f in adhoc:
        if f["expressionType"] == "SIMPLE":
            simple.append({"col": f["subject"], "op": f["operator"], "val": f["comparator"]})
        else:
            where.append(f"({f['sqlExpression']})")
    return simple, " AND ".join(where)


class Chart:
    def __init__(
        self,
        key: str,
        title: str,
        viz_type: str,
        dataset: str,
        params: dict,
        columns: list,
        metrics: list,
        adhoc: list[dict],
        orderby=None,
        row_limit: int = 1000,
        description: str | None = None,
        width: int = 4,
        height: int = 50,
        is_timeseries: bool = False,
    ):
        self.key, self.title, self.viz_type, self.dataset = key, title, viz_type, dataset
        self.params, self.columns, self.metrics, self.adhoc = params, columns, metrics, adhoc
        self.orderby, self.row_limit, self.description = orderby or [], row_limit, description
        self.width, self.height, self.is_timeseries = width, height, is_timeseries
        self.uuid = uid(f"chart:{key}")

    def to_yaml(self, local_id: int) -> dict:
        params = {
            "datasource": f"{local_id}__table",
            "viz_type": self.viz_type,
            "adhoc_filters": self.adhoc,
            "extra_form_data": {},
            "dashboards": [],
            "row_limit": self.row_limit,
            **self.params,
        }
        filters, where = query_filters(self.adhoc)
        query = {
            "filters": filters,
            "extras": {"having": "", "where": where},
            "applied_time_extras": {},
            "columns": self.columns,
            "metrics": self.metrics,
            "orderby": self.orderby,
            "annotation_layers": [],
            "row_limit": self.row_limit,
            "series_limit": 0,
            "order_desc": True,
            "url_params": {},
            "custom_params": {},
            "custom_form_data": {},
            "time_range": "No filter",
        }
        if self.is_timeseries:
            query["granularity"] = None
        query_context = {
            "datasource": {"id": local_id, "type": "table"},
            "force": False,
            "queries": [query],
            "form_data": params,
            "result_format": "json",
            "result_type": "full",
        }
        return {
            "slice_name": self.title,
            "description": self.description,
            "certified_by": None,
            "certification_details": None,
            "viz_type": self.viz_type,
            "params": params,
            "query_context": json.dumps(query_context, ensure_ascii=False),
            "cache_timeout": None,
            "uuid": self.uuid,
            "version": VERSION,
            "dataset_uuid": uid(f"dataset:{self.dataset}"),
        }


def base_axis(col: str) -> dict:
    return {"columnType": "BASE_AXIS", "sqlExpression": col, "label": col, "expressionType": "SQL"}


def big_number(
    prefix: str, sector_filter: list, code: str, title: str, sub: str, fmt: str, width: int
) -> Chart:
    adhoc = sector_filter + [f_eq("indicator_code", code), f_eq("period_type", "school_year")]
    return Chart(
        f"{prefix}:big:{code}",
        title,
        "big_number_total",
        "indicator",
        {
            "metric": "waarde",
            "subheader": sub,
            "header_font_size": 0.4,
            "subheader_font_size": 0.125,
            "y_axis_format": fmt,
            "time_format": "smart_date",
            "force_timestamp_formatting": False,
        },
        [],
        ["waarde"],
        adhoc,
        width=width,
        height=24,
        description=f"{title}: {sub}. Leeg als de waarde onderdrukt is (n<10).",
    )


# Column headers of the value tables (indicator dataset metrics), one wording everywhere.
VALUE_LABELS = {
    "weergave": "Waarde",
    "interval": "95%-interval",
    "aantal_n": "n",
    "referentie_2014_tekst": "Landelijk 2014",
}


def table(
    prefix: str,
    key: str,
    title: str,
    dataset: str,
    groupby: list[str],
    metrics: list[str],
    adhoc: list[dict],
    width: int,
    height: int,
    description: str | None = None,
    formats: dict | None = None,
    row_limit: int = 1000,
    sort_metric: str | None = None,
    html: bool = False,
    labels: dict | None = None,
) -> Chart:
    """A table; ``sort_metric`` orders the rows by a numeric metric that is not shown (so a
    table never sorts by display text). Cells are text metrics that are never NULL: the table
    plugin prints NULL as the English "N/A"."""
    column_config = {m: {"d3NumberFormat": f} for m, f in (formats or {}).items()}
    for m, label in (labels or {}).items():
        column_config.setdefault(m, {})["customColumnName"] = label
    orderby = [[sort_metric, True]] if sort_metric else [[g, True] for g in groupby]
    return Chart(
        f"{prefix}:table:{key}",
        title,
        "table",
        dataset,
        {
            "query_mode": "aggregate",
            "groupby": groupby,
            "metrics": metrics,
            "all_columns": [],
            "percent_metrics": [],
            "order_by_cols": [],
            "timeseries_limit_metric": sort_metric,
            "order_desc": False,
            "server_pagination": False,
            "server_page_length": 10,
            "show_totals": False,
            "include_search": False,
            "table_timestamp_format": "smart_date",
            "allow_rearrange_columns": False,
            "allow_render_html": html,
            "show_cell_bars": False,
            "color_pn": False,
            "column_config": column_config,
            "conditional_formatting": [],
            "comparison_type": "values",
        },
        groupby,
        metrics,
        adhoc,
        orderby=orderby,
        row_limit=row_limit,
        width=width,
        height=height,
        description=description,
    )


def handlebars(
    prefix: str,
    key: str,
    title: str,
    dataset: str,
    groupby: list[str],
    metrics: list[str],
    adhoc: list[dict],
    template: str,
    width: int,
    height: int,
    description: str | None = None,
    sort_metric: str | None = None,
) -> Chart:
    """Text built from query results (the board's name, the summary sentence)."""
    return Chart(
        f"{prefix}:handlebars:{key}",
        title,
        "handlebars",
        dataset,
        {
            "query_mode": "aggregate",
            "groupby": groupby,
            "metrics": metrics,
            "all_columns": [],
            "order_by_cols": [],
            "timeseries_limit_metric": sort_metric,
            "order_desc": False,
            "handlebarsTemplate": template,
            "styleTemplate": "",
        },
        groupby,
        metrics,
        adhoc,
        orderby=[[sort_metric, True]] if sort_metric else [],
        width=width,
        height=height,
        description=description,
    )


def bar(
    prefix: str,
    key: str,
    title: str,
    dataset: str,
    x: str,
    groupby: list[str],
    metrics: list[str],
    adhoc: list[dict],
    fmt: str,
    width: int,
    height: int = 50,
    description: str | None = None,
    horizontal: bool = False,
    y_title: str = "",
    sort_metric: str | None = None,
) -> Chart:
    """Bars; shares (format %) run on a fixed 0-100 % axis, every category is labelled."""
    share = fmt.endswith("%")
    return Chart(
        f"{prefix}:bar:{key}",
        title,
        "echarts_timeseries_bar",
        dataset,
        {
            "x_axis": x,
            "x_axis_sort_asc": True,
            "x_axis_sort_series": "name",
            "x_axis_sort_series_ascending": True,
            "groupby": groupby,
            "metrics": metrics,
            "x_axis_sort": sort_metric,
            "timeseries_limit_metric": sort_metric,
            "orientation": "horizontal" if horizontal else "vertical",
            "stack": None,
            "show_legend": True,
            "legendType": "scroll",
            "legendOrientation": "top",
            "y_axis_format": fmt,
            "y_axis_title": y_title,
            "y_axis_title_margin": 30,
            "y_axis_title_position": "Left",
            "x_axis_title_margin": 15,
            "truncateXAxis": True,
            "truncate_metric": True,
            "rich_tooltip": True,
            "show_value": True,
            "only_total": True,
            "zoomable": False,
            "xAxisLabelRotation": 0 if horizontal else 30,
            "xAxisLabelInterval": 0,
            "color_scheme": "supersetColors",
            "sort_series_type": "name",
            "sort_series_ascending": True,
            "time_grain_sqla": None,
            "order_desc": False,
            "series_limit": 0,
            "truncateYAxis": share,
            "y_axis_bounds": [0, 1] if share else [None, None],
        },
        [base_axis(x)] + groupby,
        metrics,
        adhoc,
        orderby=[[sort_metric, True]] if sort_metric else [[x, True]],
        width=width,
        height=height,
        description=description,
        is_timeseries=True,
    )


def line(
    prefix: str,
    code: str,
    title: str,
    sector_filter: list,
    fmt: str,
    width: int,
) -> Chart:
    """One indicator per month: the value as points inside its 95% interval drawn as a band."""
    adhoc = sector_filter + [
        f_eq("period_type", "month"),
        f_eq("indicator_code", code),
        f_sql("has_school_days", "maanden_met_schooldagen"),
        {
            "expressionType": "SIMPLE",
            "subject": "maand",
            "operator": "TEMPORAL_RANGE",
            "comparator": "No filter",
            "clause": "WHERE",
            "isExtra": False,
            "sqlExpression": None,
            "filterOptionName": "filter_maand_range",
        },
    ]
    metrics = ["waarde", "waarde__yhat_lower", "waarde__yhat_upper"]
    share = fmt.endswith("%")
    params = {
        "x_axis": "maand",
        "time_grain_sqla": "P1M",
        "x_axis_sort_asc": True,
        "groupby": [],
        "metrics": metrics,
        "time_range": "No filter",
        "y_axis_format": fmt,
        "x_axis_time_format": "%b %Y",
        "tooltipTimeFormat": "%B %Y",
        "show_legend": False,
        "rich_tooltip": True,
        "markerEnabled": True,
        "markerSize": 6,
        "zoomable": False,
        "seriesType": "line",
        "opacity": 0.35,
        "color_scheme": "supersetColors",
        "truncateYAxis": True,
        "y_axis_bounds": [0, 1] if share else [0, None],
        "order_desc": False,
        "series_limit": 0,
        "x_axis_title": "Maand (augustus t/m juli); geen punt: onderdrukt",
        "x_axis_title_margin": 30,
    }
    return Chart(
        f"{prefix}:line:{code}",
        f"{title} per maand (band: 95%-interval)",
        "echarts_timeseries_line",
        "indicator",
        params,
        [
            {
                "timeGrain": "P1M",
                "columnType": "BASE_AXIS",
                "sqlExpression": "maand",
                "label": "maand",
                "expressionType": "SQL",
            }
        ],
        metrics,
        adhoc,
        orderby=[],
        width=width,
        height=50,
        description=f"{title}, alle gezinnen, per maand met schooldagen: de punten zijn de "
        "waarde, de band het 95%-interval. Een maand zonder punt is onderdrukt: te weinig "
        "gezinnen, of ter bescherming van een kleine groep in dezelfde tabel.",
        is_timeseries=True,
    )


def pie(
    prefix: str,
    key: str,
    title: str,
    dataset: str,
    groupby: str,
    metric_: str,
    adhoc: list[dict],
    width: int,
    description: str,
) -> Chart:
    return Chart(
        f"{prefix}:pie:{key}",
        title,
        "pie",
        dataset,
        {
            "groupby": [groupby],
            "metric": metric_,
            "number_format": ".0%",
            "label_type": "percent",
            "show_labels": True,
            "show_legend": True,
            "legendType": "scroll",
            "legendOrientation": "right",
            "labels_outside": True,
            "outerRadius": 70,
            "innerRadius": 30,
            "donut": True,
            "sort_by_metric": True,
            "color_scheme": "supersetColors",
            "show_labels_threshold": 3,
        },
        [groupby],
        [metric_],
        adhoc,
        orderby=[[metric_, False]],
        width=width,
        height=50,
        description=description,
    )


# --------------------------------------------------------------------------- dashboards
def markdown_sector(sector: str) -> str:
    name = SECTORS[sector]
    return f"""### Ouderbetrokkenheid — {name}

Hoe scholen en ouders contact hebben, hoe berichten aankomen en wat ouders in de enquête
zeggen. Alleen gepubliceerde cijfers, **nooit gegevens van individuele gezinnen**.

**Filters** (links): schooljaar (standaard het laatste), bestuur, school en SES-groep
(opleiding ouders). Zonder filter zie je het breedste niveau waar je toegang toe hebt:
landelijk voor de inspectie, je eigen bestuur als bestuurder.

**Onderdrukt (n<10)**: te weinig gezinnen om te tonen. Een tabel zegt het met
*onderdrukt (n<10)*, een grafiek laat de staaf weg; nooit nul. Definities staan onderaan.
"""


def markdown_definitions() -> str:
    return """#### Definities en bronnen

- **Bereik contacten**: aandeel ingeschreven gezinnen met minstens één gehouden individueel
  contact. **Contacten per gezin**: gehouden contacten / ingeschreven gezinnen.
- **Berichten afgeleverd**: afgeleverd of gelezen / verstuurd. **Gelezen**: gelezen /
  afgeleverd, alleen kanalen die lezen melden (app, WhatsApp, e-mail).
- **Berichten per week**: berichten per gezin per schoolweek (vakanties tellen niet mee).
  Onderzoek: tot drie per week werkt, met voortgang, tips en aanmoediging als doel.
- **Tips nuttig**, **rapportcijfer** en de andere enquêtevragen komen uit de ouderenquête:
  daarom staat er een **95%-interval** bij (Wilson voor aandelen, t voor gemiddelden).
- **Kloof laag − hoog**: waarde bij laag opgeleide ouders min die bij hoog opgeleide;
  *significant* als het 95%-interval nul uitsluit.
- **Landelijk 2014**: Monitor Ouderbetrokkenheid 2014 (Panteia/ITS voor OCW), zelfde sector.
- Een gezin telt mee in een periode als het er minstens één dag ingeschreven was; het
  schooljaar loopt van 1 augustus tot en met 31 juli.
"""


def markdown_overview() -> str:
    return """### Ouderbetrokkenheid — overzicht PO, VO en MBO

De sectoren naast elkaar voor het gekozen schooljaar. Waarden zijn landelijk (inspectie) of
van het eigen bestuur (bestuurders): rijbeveiliging laat ieder alleen zijn eigen rijen zien.

- Percentages zijn aandelen van gezinnen, berichten of respondenten (zie de
  sectordashboards voor de precieze definities).
- Enquêtewaarden hebben een **95%-interval**; de tabel toont het.
- *Landelijk 2014*: Monitor Ouderbetrokkenheid 2014, per sector. Geen gegevens van dit
  jaar, maar een ijkpunt.
- *onderdrukt (n<10)*: te weinig gezinnen om de waarde te tonen.
"""


def native_filters(
    prefix: str, sector: str | None, excluded_ses: list[int], excluded_year: list[int] = ()
) -> list[dict]:
    pre = [f_eq("sector", sector)] if sector else []

    def flt(
        key: str,
        name: str,
        col: str,
        description: str,
        multi: bool = True,
        first: bool = False,
        excluded: list[int] | None = None,
        sort_asc: bool = True,
        sort_metric: str | None = None,
        extra: list[dict] | None = None,
    ) -> dict:
        return {
            **({"sortMetric": sort_metric} if sort_metric else {}),
            "id": f"NATIVE_FILTER-{slug(prefix)}-{key}",
            "name": name,
            "filterType": "filter_select",
            "type": "NATIVE_FILTER",
            "targets": [{"column": {"name": col}, "datasetUuid": uid("dataset:indicator")}],
            "controlValues": {
                "enableEmptyFilter": first,
                "defaultToFirstItem": first,
                "multiSelect": multi,
                "searchAllOptions": False,
                "inverseSelection": False,
                "sortAscending": sort_asc,
            },
            "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
            "cascadeParentIds": [],
            "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded or []},
            "adhoc_filters": pre + (extra or []),
            "time_range": "No filter",
            "requiredFirst": first,
            "description": description,
            "tabsInScope": [],
        }

    return [
        flt(
            "schooljaar",
            "Schooljaar",
            "school_year",
            "Schooljaar (1 augustus – 31 juli); standaard het laatste.",
            multi=False,
            first=True,
            sort_asc=False,
            excluded=list(excluded_year),
        ),
        flt(
            "bestuur",
            "Bestuur",
            "board_name",
            "Bevoegd gezag; bestuurders zien alleen hun eigen bestuur.",
        ),
        flt("school", "School", "school_name", "School (BRIN + vestiging)."),
        flt(
            "ses",
            "SES-groep",
            "ses_group",
            "Opleiding ouders: laag, midden, hoog, onbekend (leeg = alle gezinnen). Niet van "
            "toepassing op de kloofpanelen en de SES-tabel.",
            excluded=excluded_ses,
            sort_metric="ses_volgorde",
            extra=[f_ne("ses_group", "ALL")],
        ),
    ]


class Layout:
    """Rows of components for the dashboard position JSON."""

    def __init__(self, title: str):
        self.position: dict = {
            "DASHBOARD_VERSION_KEY": "v2",
            "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
            "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
            "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": title}},
        }
        self.charts: list[tuple[Chart, int]] = []
        self._rows = 0

    def row(self, items: list) -> None:
        self._rows += 1
        row_id = f"ROW-r{self._rows}"
        self.position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        self.position["GRID_ID"]["children"].append(row_id)
        for n, item in enumerate(items):
            parents = ["ROOT_ID", "GRID_ID", row_id]
            if isinstance(item, Chart):
                local_id = len(self.charts) + 1
                self.charts.append((item, local_id))
                cid = f"CHART-{item.uuid[:8]}"
                self.position[cid] = {
                    "type": "CHART",
                    "id": cid,
                    "children": [],
                    "parents": parents,
                    "meta": {
                        "chartId": local_id,
                        "uuid": item.uuid,
                        "sliceName": item.title,
                        "width": item.width,
                        "height": item.height,
                    },
                }
            else:  # markdown: (code, width, height)
                code, width, height = item
                cid = f"MARKDOWN-r{self._rows}c{n}"
                self.position[cid] = {
                    "type": "MARKDOWN",
                    "id": cid,
                    "children": [],
                    "parents": parents,
                    "meta": {"code": code, "width": width, "height": height},
                }
            self.position[row_id]["children"].append(cid)

    def local_id(self, chart: Chart) -> int:
        return next(i for c, i in self.charts if c is chart)


GAP_SHARE_CODES = [
    "contact_reach",
    "message_delivery_rate",
    "message_read_rate",
    "message_reach",
    "tip_usefulness",
]
GAP_MEAN_CODES = ["contact_frequency", "comm_grade"]

# Markdown, not HTML: Superset escapes HTML in Markdown (ESCAPE_MARKDOWN_HTML).
HEADER_TEMPLATE = """## Bereiken we alle gezinnen? — {{data.0.bestuur}}

Schooljaar {{data.0.schooljaar}} · {{data.0.school}} · gezinnen met laag opgeleide ouders \
naast gezinnen met hoog opgeleide ouders.

{{#each data}}
**{{#if sector_naam}}{{sector_naam}}: {{/if}}{{samenvatting}}**

{{/each}}
*Zo lees je de tabellen:* **▼** laag blijft significant achter (het 95%-interval van de \
kloof sluit nul uit) · **↑** de kloof werd significant groter dan vorig schooljaar · \
● geen significant verschil · ■ onderdrukt: te weinig gezinnen (n<10). Signalen staan \
bovenaan en in rood.
"""

SECTOR_NAME_SQL = (
    "CASE sector WHEN 'po' THEN 'Primair onderwijs' WHEN 'vo' THEN "
    "'Voortgezet onderwijs' WHEN 'mbo' THEN 'Middelbaar beroepsonderwijs' END"
)


def gap_header(prefix: str, adhoc: list[dict], per_sector: bool) -> Chart:
    groupby = []
    metrics = ["bestuur", "school", "schooljaar", "samenvatting"]
    if per_sector:
        groupby = [
            {"expressionType": "SQL", "sqlExpression": SECTOR_NAME_SQL, "label": "sector_naam"}
        ]
    return handlebars(
        prefix,
        "kop",
        "Bereiken we alle gezinnen?",
        "equity_gap",
        groupby,
        metrics,
        adhoc,
        HEADER_TEMPLATE,
        width=12,
        height=44 if per_sector else 36,
        description="Het antwoord in één zin: bij welke kerncijfers blijven "
        "gezinnen met laag opgeleide ouders achter?",
    )


def gap_tables(prefix: str, adhoc: list[dict]) -> list[Chart]:
    labels = {
        "laag": "Laag opgeleide ouders",
        "hoog": "Hoog opgeleide ouders",
        "laag_hoog_plot": "Laag en hoog met 95%-interval (punt: waarde, balk: interval)",
        "kloof": "Kloof laag − hoog",
        "kloof_interval": "95%-interval kloof",
        "signaal": "Signaal",
        "trend": "Sinds vorig schooljaar",
    }
    cols = ["laag", "hoog", "laag_hoog_plot", "kloof", "kloof_interval", "signaal", "trend"]
    return [
        table(
            prefix,
            "kloof_aandelen",
            "Laag naast hoog: aandelen (kloof in procentpunt, gesorteerd op kloof)",
            "equity_gap",
            ["indicator_label"],
            cols,
            adhoc + [f_in("indicator_code", GAP_SHARE_CODES)],
            width=12,
            height=46,
            sort_metric="sortering",
            html=True,
            labels=labels,
            description="Per kerncijfer de waarde bij laag en hoog opgeleide ouders met "
            "95%-interval, de kloof in procentpunt en of die significant is. "
            "Gesorteerd op de kloof: signalen bovenaan.",
        ),
        table(
            prefix,
            "kloof_gemiddelden",
            "Laag naast hoog: gemiddelden (kloof in de eenheid van het kerncijfer)",
            "equity_gap",
            ["indicator_label", "gap_unit_label"],
            cols,
            adhoc + [f_in("indicator_code", GAP_MEAN_CODES)],
            width=12,
            height=30,
            sort_metric="sortering",
            html=True,
            labels=dict(labels, gap_unit_label="Eenheid kloof"),
            description="Contacten per gezin (aantal) en rapportcijfer communicatie (1–10).",
        ),
    ]


def school_signals(prefix: str, adhoc: list[dict]) -> Chart:
    return table(
        prefix,
        "signalen",
        "Signalen: scholen gerangschikt op kloof (aandelen, procentpunt)",
        "equity_gap",
        ["school_name", "indicator_label"],
        ["laag", "hoog", "kloof", "kloof_interval", "signaal", "trend"],
        adhoc + [f_ne("school_id", "ALL"), f_in("indicator_code", GAP_SHARE_CODES)],
        width=12,
        height=80,
        sort_metric="sortering",
        html=True,
        row_limit=500,
        labels={
            "school_name": "School",
            "indicator_label": "Kerncijfer",
            "laag": "Laag",
            "hoog": "Hoog",
            "kloof": "Kloof laag − hoog",
            "kloof_interval": "95%-interval kloof",
            "signaal": "Signaal",
            "trend": "Sinds vorig schooljaar",
        },
        description="Bovenaan de scholen waar laag opgeleide ouders significant achterblijven "
        "of waar de kloof significant groter werd; onderaan onderdrukte kloven.",
    )


def ses_table(prefix: str, adhoc: list[dict]) -> Chart:
    return table(
        prefix,
        "ses",
        "Alle SES-groepen per kerncijfer (met 95%-interval)",
        "indicator",
        ["indicator_label"],
        ["ses_laag", "ses_midden", "ses_hoog", "ses_onbekend"],
        adhoc
        + [
            f_in("indicator_code", HEADLINE_CODES + ["message_reach"]),
            f_eq("period_type", "school_year"),
            f_in("ses_group", ["laag", "midden", "hoog", "onbekend"]),
        ],
        width=12,
        height=52,
        sort_metric="volgorde",
        labels={
            "indicator_label": "Kerncijfer",
            "ses_laag": "laag",
            "ses_midden": "midden",
            "ses_hoog": "hoog",
            "ses_onbekend": "onbekend",
        },
        description="Opleiding ouders: laag, midden, hoog, onbekend. Onderdrukte groepen staan "
        "er als 'onderdrukt (n<10)', nooit als nul of leeg.",
    )


def sector_dashboard(sector: str) -> tuple[dict, Layout]:
    prefix = f"sector:{sector}"
    sf = [f_eq("sector", sector)]
    name = SECTORS[sector]
    lay = Layout(f"Ouderpeil — {name}")

    header = gap_header(prefix, sf, per_sector=False)
    lay.row([header])
    share_gaps, mean_gaps = gap_tables(prefix, sf)
    lay.row([share_gaps])
    lay.row([mean_gaps])
    signals = school_signals(prefix, sf)
    lay.row([signals])
    ses = ses_table(prefix, sf)
    lay.row([ses])

    headline_table = table(
        prefix,
        "kerncijfers",
        "Kerncijfers met 95%-interval en landelijk 2014",
        "indicator",
        ["indicator_label"],
        ["weergave", "interval", "aantal_n", "referentie_2014_tekst"],
        sf + [f_in("indicator_code", HEADLINE_CODES), f_eq("period_type", "school_year")],
        width=8,
        height=50,
        sort_metric="volgorde",
        labels={
            "indicator_label": "Kerncijfer",
            **VALUE_LABELS,
        },
        description="Alle gezinnen samen: waarde (onderdrukt bij n<10), interval, n en de "
        "landelijke referentie uit 2014.",
    )
    lay.row([(markdown_sector(sector), 4, 50), headline_table])

    lay.row([line(prefix, code, title, sf, fmt, 4) for code, title, fmt in TREND_CHARTS[:3]])
    lay.row([line(prefix, code, title, sf, fmt, 6) for code, title, fmt in TREND_CHARTS[3:]])

    lay.row(
        [
            bar(
                prefix,
                "kanalen_contact",
                "Kanaalmix contacten",
                "channel_mix",
                "channel",
                [],
                ["aandeel"],
                sf + [f_eq("stream", "contact"), f_eq("period_type", "school_year")],
                ".0%",
                width=6,
                horizontal=True,
                description="Aandeel van de gehouden contacten per kanaal.",
            ),
            pie(
                prefix,
                "kanalen_bericht",
                "Kanaalmix berichten",
                "channel_mix",
                "channel",
                "aandeel",
                sf + [f_eq("stream", "message"), f_eq("period_type", "school_year")],
                6,
                "Aandeel van de verstuurde berichten per kanaal.",
            ),
        ]
    )

    # The survey runs once a year (spring): in a school year without one yet its panels would
    # be empty, so they leave the Schooljaar filter out and show each question's latest survey,
    # with its school year in a column.
    survey_drawn = table(
        prefix,
        "enquete_getekend",
        "Enquête (laatste meting): eigen uitkomst met 95%-interval naast landelijk 2014",
        "indicator",
        ["indicator_label"],
        ["schooljaar", "getekend"],
        sf + [f_in("indicator_code", REFERENCE_CODES), f_eq("period_type", "school_year")],
        width=7,
        height=66,
        sort_metric="volgorde",
        html=True,
        labels={
            "indicator_label": "Vraag",
            "schooljaar": "Schooljaar",
            "getekend": "Eigen uitkomst (balk: 95%-interval, stippellijn: landelijk 2014)",
        },
        description="Aandeel ouders in de laatste eigen enquête, met het 95%-interval van de "
        "steekproef, naast de Monitor 2014 (stippellijn). Volgt het filter Schooljaar niet: "
        "de enquête is eens per jaar.",
    )
    survey_table = table(
        prefix,
        "enquete",
        "Enquête-uitkomsten (laatste meting) met 95%-interval",
        "indicator",
        ["indicator_label"],
        ["schooljaar", "weergave", "interval", "aantal_n", "referentie_2014_tekst"],
        sf + [f_in("indicator_code", SURVEY_TABLE_CODES), f_eq("period_type", "school_year")],
        width=5,
        height=66,
        sort_metric="volgorde",
        labels={
            "indicator_label": "Vraag",
            "schooljaar": "Schooljaar",
            **VALUE_LABELS,
        },
        description="De laatste enquête per vraag; volgt het filter Schooljaar niet.",
    )
    lay.row([survey_drawn, survey_table])

    lay.row(
        [
            table(
                prefix,
                "scholen",
                "Scholen: kerncijfers (onderdrukt bij n<10)",
                "indicator",
                ["school_name", "indicator_label"],
                ["weergave", "interval", "aantal_n"],
                sf
                + [
                    f_ne("school_id", "ALL"),
                    f_in("indicator_code", HEADLINE_CODES),
                    f_eq("period_type", "school_year"),
                ],
                width=12,
                height=60,
                labels={
                    "school_name": "School",
                    "indicator_label": "Kerncijfer",
                    **{k: VALUE_LABELS[k] for k in ("weergave", "interval", "aantal_n")},
                },
                description="Per school; een onderdrukte waarde staat als 'onderdrukt (n<10)', "
                "nooit als nul.",
            ),
        ]
    )
    lay.row([(markdown_definitions(), 12, 42)])

    # The SES filter does not apply to the gap panels (they compare laag and hoog themselves).
    excluded = [lay.local_id(c) for c in (header, share_gaps, mean_gaps, signals, ses)]
    latest_survey = [lay.local_id(c) for c in (survey_drawn, survey_table)]
    meta = dashboard_metadata(native_filters(prefix, sector, excluded, latest_survey))
    return {
        "dashboard_title": f"Ouderpeil — {name}",
        "description": f"Ouderbetrokkenheid in het {name.split(' (')[0].lower()}",
        "css": "",
        "slug": f"ouderpeil-{sector}",
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": uid(f"dashboard:{sector}"),
        "position": lay.position,
        "metadata": meta,
        "version": VERSION,
    }, lay


def overview_dashboard() -> tuple[dict, Layout]:
    prefix = "overzicht"
    lay = Layout("Ouderpeil — overzicht sectoren")
    share_codes = [c for c, *_, f in HEADLINES if f == ".0%"]
    mean_codes = [c for c, *_, f in HEADLINES if f != ".0%"]
    yr = [f_eq("period_type", "school_year")]
    header = gap_header(prefix, [], per_sector=True)
    lay.row([header])
    sector_cols = [f"kloof_{s}" for s in SECTORS]
    sector_labels = {f"kloof_{s}": SECTORS[s] for s in SECTORS}
    gaps_shares = table(
        prefix,
        "kloof_aandelen",
        "Kloof laag − hoog per sector: aandelen (procentpunt)",
        "equity_gap",
        ["indicator_label"],
        sector_cols,
        [f_in("indicator_code", GAP_SHARE_CODES)],
        width=7,
        height=50,
        sort_metric="volgorde",
        html=True,
        labels=dict(sector_labels, indicator_label="Kerncijfer"),
        description="Per sector de kloof tussen laag en hoog opgeleide ouders; ▼ rood: laag "
        "blijft significant achter.",
    )
    gaps_means = table(
        prefix,
        "kloof_gemiddelden",
        "Kloof laag − hoog per sector: gemiddelden",
        "equity_gap",
        ["indicator_label"],
        sector_cols,
        [f_in("indicator_code", GAP_MEAN_CODES)],
        width=5,
        height=50,
        sort_metric="volgorde",
        html=True,
        labels=dict(sector_labels, indicator_label="Kerncijfer"),
        description="Contacten per gezin en rapportcijfer communicatie, in hun eigen eenheid.",
    )
    lay.row([gaps_shares, gaps_means])
    lay.row(
        [
            (markdown_overview(), 4, 50),
            bar(
                prefix,
                "aandelen",
                "Kerncijfers per sector (aandelen)",
                "indicator",
                "indicator_label",
                ["sector_naam"],
                ["waarde"],
                yr + [f_in("indicator_code", share_codes)],
                ".0%",
                width=8,
            ),
        ]
    )
    lay.row(
        [
            bar(
                prefix,
                "gemiddelden",
                "Kerncijfers per sector (gemiddelden)",
                "indicator",
                "indicator_label",
                ["sector_naam"],
                ["waarde"],
                yr + [f_in("indicator_code", mean_codes)],
                ",.1f",
                width=6,
            ),
            bar(
                prefix,
                "kanalen",
                "Berichtkanalen per sector",
                "channel_mix",
                "channel",
                ["sector_naam"],
                ["aandeel"],
                yr + [f_eq("stream", "message")],
                ".0%",
                width=6,
            ),
        ]
    )
    lay.row(
        [
            table(
                prefix,
                "kerncijfers",
                "Kerncijfers per sector met 95%-interval",
                "indicator",
                ["indicator_label", "sector_naam"],
                ["weergave", "interval", "aantal_n", "referentie_2014_tekst"],
                yr + [f_in("indicator_code", HEADLINE_CODES)],
                width=7,
                height=60,
                sort_metric="volgorde",
                labels={
                    "indicator_label": "Kerncijfer",
                    "sector_naam": "Sector",
                    **VALUE_LABELS,
                },
            ),
            table(
                prefix,
                "referentie",
                "Landelijke referentie: Monitor Ouderbetrokkenheid 2014",
                "national_reference",
                ["indicator_label", "sector_naam", "bron_tabel"],
                ["referentie"],
                [],
                width=5,
                height=60,
                formats={"referentie": ".0%"},
                labels={
                    "indicator_label": "Indicator",
                    "sector_naam": "Sector",
                    "bron_tabel": "Tabel monitor 2014",
                    "referentie": "Landelijk 2014",
                },
            ),
        ]
    )
    excluded = [lay.local_id(c) for c in (header, gaps_shares, gaps_means)]
    meta = dashboard_metadata(native_filters(prefix, None, excluded))
    return {
        "dashboard_title": "Ouderpeil — overzicht sectoren",
        "description": "PO, VO en MBO naast elkaar",
        "css": "",
        "slug": "ouderpeil-overzicht",
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": uid("dashboard:overzicht"),
        "position": lay.position,
        "metadata": meta,
        "version": VERSION,
    }, lay


def dashboard_metadata(filters: list[dict]) -> dict:
    return {
        "native_filter_configuration": filters,
        "chart_configuration": {},
        "global_chart_configuration": {
            "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
            "chartsInScope": [],
        },
        "color_scheme": "supersetColors",
        "label_colors": {
            **SES_COLOURS,
            **SECTOR_COLOURS,
            "Uitkomst": "#30638E",
            # The monthly trends colour by metric key: points and their 95% band alike.
            **dict.fromkeys(["waarde", "waarde__yhat_lower", "waarde__yhat_upper"], "#30638E"),
            "Landelijk 2014": "#9E9E9E",
        },
        "shared_label_colors": [],
        "map_label_colors": {},
        "color_scheme_domain": [],
        "cross_filters_enabled": False,
        "refresh_frequency": 0,
        "expanded_slices": {},
        "timed_refresh_immune_slices": [],
        "default_filters": "{}",
        "positions": None,
    }


# --------------------------------------------------------------------------- write
def dump(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=True, width=100)
    path.write_text(
        "# Generated by dashboards/build_dashboards.py - edit that, not this.\n" + text,
        encoding="utf-8",
    )


def build(out: Path = HERE) -> list[Path]:
    for sub in ("databases", "datasets", "charts", "dashboards"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    written = []
    dump(
        out / "metadata.yaml",
        {"version": VERSION, "type": "assets", "timestamp": "2026-01-01T00:00:00+00:00"},
    )
    written.append(out / "metadata.yaml")
    db = {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": SERVING_URI_PLACEHOLDER,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "impersonate_user": False,
        "extra": {
            "allows_virtual_table_explore": False,
            "disable_data_preview": True,
            "metadata_params": {},
            "engine_params": engine_params(),
            "schemas_allowed_for_csv_upload": [],
        },
        "uuid": uid("database:serving"),
        "version": VERSION,
    }
    dump(out / "databases" / "ouderpeil_serving.yaml", db)
    for table_name, spec in DATASETS.items():
        p = out / "datasets" / "ouderpeil_serving" / f"{table_name}.yaml"
        dump(p, dataset_yaml(table_name, spec))
        written.append(p)
    dashboards = [sector_dashboard(s) for s in SECTORS] + [overview_dashboard()]
    for dash, lay in dashboards:
        for chart, local_id in lay.charts:
            p = out / "charts" / f"{slug(chart.key)}.yaml"
            dump(p, chart.to_yaml(local_id))
            written.append(p)
        p = out / "dashboards" / f"{dash['slug']}.yaml"
        dump(p, dash)
        written.append(p)
    return written


if __name__ == "__main__":
    files = build()
    print(f"wrote {len(files)} files under {HERE}")
