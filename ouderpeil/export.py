"""Inspector exports: the suppressed indicator table of one school year, with a Frictionless
datapackage.json and a manifest.json, read ONLY from the serving file.

The serving file holds aggregates after disclosure control, so an export can never contain more
than the dashboards show. Output is byte-identical for identical inputs: rows in a fixed order,
no timestamps but the run's own published_at, fixed xlsx metadata and zip dates, one parquet
writer configuration.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ouderpeil.config import Settings
from ouderpeil.contracts import SECTORS, SES_GROUPS
from ouderpeil.errors import ExportError
from ouderpeil.spreadsheet_safety import csv_safe, xlsx_safe_row

FORMATS = ("csv", "parquet", "xlsx")
MEDIATYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
GRAIN = ("indicator_code", "period", "sector", "board_id", "school_id", "ses_group")
ORDER = ("indicator_code", "period_type", "period", "sector", "board_id", "school_id", "ses_group")
SUPPRESSION_RULE = (
    "Disclosure control (docs/DISCLOSURE.md): a row resting on fewer than 10 units is withheld "
    "(suppression_reason n_below_10). For every such row a few more rows are withheld "
    "(complementary), chosen so that another table, equal in every published number, differs "
    "in each withheld row: no withheld value can be worked back from totals, other SES groups, "
    "schools, boards, months, gap or weighted rows. Withheld rows keep n and denominator and "
    "have empty value, numerator, ci_low and ci_high; a gap row is withheld when its laag or "
    "hoog row is (gap_side_suppressed); a weighted row is withheld unless every school x SES "
    "group row below it is published. suppression_reason_nl gives the reason in Dutch."
)
# The indicator definitions an export refers to travel with it (a verbatim copy of the spec).
DEFINITIONS = Path(__file__).resolve().parents[1] / "docs" / "spec" / "INDICATORS.md"
LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
UNITS = {
    "aandeel": "proportion between 0 and 1 (gap rows: difference, -1 to 1)",
    "gemiddelde": "mean on the item's own scale (e.g. grade 1-10, messages per week)",
    "per_100": "count per 100 enrolled families",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # Frictionless type
    description: str
    required: bool = False  # must be in the serving table for an export to be made
    enum: tuple | None = None


INDICATOR_FIELDS = (
    Field(
        "indicator_code",
        "string",
        "Indicator code, defined in this package's "
        "indicator_catalogue "
        "(from the project's docs/spec/INDICATORS.md); "
        "suffix _weighted = post-stratified on SES, _gap = value(laag) - value(hoog).",
        True,
    ),
    Field("indicator_version", "integer", "Version of the indicator definition.", True),
    Field("indicator_label", "string", "Dutch label of the indicator."),
    Field("indicator_group", "string", "contacten, berichten, enquete or gelijkheid."),
    Field(
        "unit",
        "string",
        "Unit of value: " + "; ".join(f"{k} = {v}" for k, v in UNITS.items()),
        enum=tuple(UNITS),
    ),
    Field("period_type", "string", "school_year or month.", True, ("school_year", "month")),
    Field(
        "period", "string", "School year (2025-2026, 1 August - 31 July) or month (2025-09).", True
    ),
    Field("school_year", "string", "School year that contains the period.", True),
    Field("sector", "string", "po (primary), vo (secondary), mbo (vocational).", True, SECTORS),
    Field(
        "board_id",
        "string",
        "Board (bevoegd gezag, bestuursnummer) or ALL for the sector total.",
        True,
    ),
    Field("board_name", "string", "Name of the board."),
    Field(
        "school_id", "string", "School (BRIN + vestiging) or ALL for the board/sector total.", True
    ),
    Field("school_name", "string", "Name of the school."),
    Field(
        "ses_group",
        "string",
        "SES group from the parents' highest education, or ALL.",
        True,
        SES_GROUPS + ("ALL",),
    ),
    Field("numerator", "number", "Numerator of the value; empty when suppressed.", True),
    Field("denominator", "number", "Denominator of the value.", True),
    Field("value", "number", "The indicator value in its unit; empty when suppressed.", True),
    Field(
        "ci_low",
        "number",
        "Lower bound of the 95 % interval (Wilson for proportions, t for "
        "means); empty when suppressed.",
        True,
    ),
    Field("ci_high", "number", "Upper bound of the 95 % interval; empty when suppressed.", True),
    Field(
        "n",
        "integer",
        "Units behind the value (families, contacts, messages, family-weeks or respondents).",
        True,
    ),
    Field("suppressed", "boolean", "true when the value is withheld (disclosure control).", True),
    Field(
        "suppression_reason",
        "string",
        "n_below_10, complementary or gap_side_suppressed.",
        True,
        ("n_below_10", "complementary", "gap_side_suppressed"),
    ),
    Field(
        "suppression_reason_nl",
        "string",
        "The suppression reason in Dutch, as the "
        "dashboards show it (e.g. 'te weinig waarnemingen (n<10)').",
    ),
    Field(
        "gap_significant", "boolean", "Only on _gap rows: the 95 % interval excludes zero.", True
    ),
    Field(
        "reference_value",
        "number",
        "National figure from the 2014 parent-involvement "
        "monitor for this sector and indicator, as a proportion; empty when none.",
    ),
)
CATALOGUE_DESCRIPTIONS = {
    "indicator_code": "Indicator code.",
    "indicator_version": "Version of the definition.",
    "indicator_label": "Dutch label.",
    "label": "Dutch label.",
    "indicator_group": "contacten, berichten, enquete or gelijkheid.",
    "group": "contacten, berichten, enquete or gelijkheid.",
    "unit": "aandeel, gemiddelde or per_100.",
    "definition": "How the indicator is computed.",
    "indicator_description": "Definition: how the indicator is computed (Dutch).",
    "kind": "proportion, mean, per_100 or gap: how value and interval are computed.",
    "base_code": "The indicator a _weighted or _gap variant is derived from.",
    "variant": "base, weighted (post-stratified on SES within school) or gap (laag - hoog).",
    "sectors": "Sectors the indicator is published for (space separated).",
    "source": "Raw tables the indicator is computed from.",
    "monitor_table": "Table of the 2014 national monitor with the same item.",
    "report_table": "Table of the 2014 national monitor with the same item.",
    "value_min": "Smallest value the indicator can take (disclosure control treats it as known).",
    "value_max": "Largest value the indicator can take; empty when unbounded.",
}
FRICTIONLESS_TYPES = {
    "VARCHAR": "string",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "SMALLINT": "integer",
    "TINYINT": "integer",
    "HUGEINT": "integer",
    "DOUBLE": "number",
    "FLOAT": "number",
    "BOOLEAN": "boolean",
    "DATE": "date",
}
# A fixed date for every zip entry of an xlsx file (the zip format starts in 1980).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- reading
def _open_serving(settings: Settings):
    if not settings.serving_path.exists():
        raise ExportError(
            "no export possible yet: there is no published serving file "
            f"({settings.serving_path}); run the pipeline (validate + publish)"
        )
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _last_validated_publish(con) -> dict:
    has = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'publish_run'"
    ).fetchone()[0]
    cur = (
        con.execute("SELECT * FROM publish_run ORDER BY published_at DESC, run_id DESC LIMIT 1")
        if has
        else None
    )
    row = cur.fetchone() if cur else None
    run = dict(zip([d[0] for d in cur.description], row)) if row else {}
    if not run.get("validation_success"):
        raise ExportError(
            "no export possible yet: the serving file has no successful validated publish"
        )
    run["published_at"] = run["published_at"].astimezone(dt.UTC)
    run["input_files"] = json.loads(run.get("input_files") or "[]")
    return run


def _check_selection(con, period: str, sector: str | None, board: str | None) -> None:
    if not re.fullmatch(r"\d{4}-\d{4}", period or "") or int(period[5:]) != int(period[:4]) + 1:
        raise ExportError(f"period {period!r} is not a school year like 2025-2026")
    years = [
        r[0]
        for r in con.execute("SELECT DISTINCT school_year FROM indicator ORDER BY 1").fetchall()
    ]
    if period not in years:
        raise ExportError(
            f"unknown period {period!r}: the published data hold "
            f"{', '.join(years) or 'no school years'}"
        )
    if sector is not None:
        sectors = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT sector FROM indicator WHERE school_year = ? ORDER BY 1", [period]
            ).fetchall()
        ]
        if sector not in sectors:
            raise ExportError(
                f"unknown sector {sector!r} for {period}: published sectors are "
                f"{', '.join(sectors)}"
            )
    if board is not None:
        boards = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT board_id FROM indicator WHERE school_year = ? "
                "AND (? IS NULL OR sector = ?) ORDER BY 1",
                [period, sector, sector],
            ).fetchall()
        ]
        if board not in boards:
            where = f"{period}{' sector ' + sector if sector else ''}"
            raise ExportError(
                f"unknown board {board!r} for {where}: published boards are {', '.join(boards)}"
            )


def _table_columns(con, table: str) -> dict[str, str]:
    return {name: type_ for name, type_, *_ in con.execute(f"DESCRIBE {table}").fetchall()}


def _indicator_fields(con) -> list[Field]:
    present = _table_columns(con, "indicator")
    missing = [f.name for f in INDICATOR_FIELDS if f.required and f.name not in present]
    if missing:
        raise ExportError(f"the serving table indicator lacks columns {missing}")
    # Only documented columns leave the building (value_display is dashboard text).
    return [f for f in INDICATOR_FIELDS if f.name in present]


def _catalogue_fields(con) -> list[Field]:
    return [
        Field(
            name,
            FRICTIONLESS_TYPES.get(type_, "string"),
            CATALOGUE_DESCRIPTIONS.get(name, f"{name} (indicator catalogue)"),
        )
        for name, type_ in _table_columns(con, "indicator_catalogue").items()
    ]


def _rows(con, fields, table: str, where: str = "", params=(), order=("indicator_code",)):
    cols = ", ".join(f.name for f in fields)
    return con.execute(
        f"SELECT {cols} FROM {table} {where} ORDER BY "
        f"{', '.join(c for c in order if c in {f.name for f in fields})}",
        list(params),
    ).fetchall()


# --------------------------------------------------------------------------- writing
def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # shortest text that reads back to the same double
    return str(v)


def _write_csv(path: Path, fields, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([f.name for f in fields])
        for r in rows:
            w.writerow([_cell(csv_safe(v)) for v in r])


def _write_parquet(path: Path, fields, rows) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
    }
    schema = pa.schema([pa.field(f.name, types[f.type]) for f in fields])
    columns = list(zip(*rows)) if rows else [[] for _ in fields]
    table = pa.Table.from_arrays(
        [pa.array(list(c), type=t.type) for c, t in zip(columns, schema)], schema=schema
    )
    # One configuration, no pandas metadata: same rows, same bytes.
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        store_schema=False,
    )


def _write_xlsx(path: Path, fields, rows, sheet: str, when: dt.datetime) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([f.name for f in fields])
    for r in rows:
        ws.append(xlsx_safe_row(ws, r))
    naive = when.astimezone(dt.UTC).replace(tzinfo=None)
    wb.properties.creator = "Ouderpeil"
    wb.properties.lastModifiedBy = "Ouderpeil"
    wb.properties.created = naive
    buf = io.BytesIO()
    wb.save(buf)
    _normalise_zip(buf.getvalue(), path, naive)


def _normalise_zip(data: bytes, path: Path, when: dt.datetime) -> None:
    """Rewrite an xlsx with fixed entry dates and the publish time as 'modified': openpyxl
    stamps both with the wall clock, which would make every export differ."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, content, compresslevel=6)


def _write(fmt: str, path: Path, fields, rows, sheet: str, when: dt.datetime) -> None:
    if fmt == "csv":
        _write_csv(path, fields, rows)
    elif fmt == "parquet":
        _write_parquet(path, fields, rows)
    else:
        _write_xlsx(path, fields, rows, sheet, when)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _schema(fields, primary_key=None) -> dict:
    out = []
    for f in fields:
        d = {"name": f.name, "type": f.type, "description": f.description}
        constraints = {}
        if f.name in GRAIN and primary_key:
            constraints["required"] = True
        if f.enum:
            constraints["enum"] = list(f.enum)
        if constraints:
            d["constraints"] = constraints
        out.append(d)
    schema = {"fields": out, "missingValues": [""]}
    if primary_key:
        schema["primaryKey"] = list(primary_key)
    return schema


def _resource(
    name: str, path: Path, fmt: str, fields, title: str, description: str, primary_key=None
) -> dict:
    res = {
        "name": name,
        "path": path.name,
        "profile": "tabular-data-resource",
        "title": title,
        "description": description,
        "format": fmt,
        "mediatype": MEDIATYPES[fmt],
    }
    if fmt == "csv":
        res["encoding"] = "utf-8"
        res["dialect"] = {"delimiter": ",", "header": True}
    if fmt == "xlsx":
        res["dialect"] = {"excel": {"sheet": name}}
    res["schema"] = _schema(fields, primary_key)
    # Frictionless reads parquet through pyarrow, not as a byte stream, so it cannot check a
    # byte count or hash there; manifest.json carries the SHA-256 of every file in any case.
    if fmt != "parquet":
        res["bytes"] = path.stat().st_size
        res["hash"] = f"sha256:{_sha256(path)}"
    return res


def _export_name(period: str, sector: str | None, board: str | None) -> str:
    parts = (
        ["ouderpeil", period]
        + ([sector] if sector else [])
        + ([f"board-{re.sub(r'[^A-Za-z0-9_-]', '_', board)}"] if board else [])
    )
    return "-".join(parts).lower()


def _dump(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n"


def export(
    settings: Settings,
    period: str,
    sector: str | None = None,
    board: str | None = None,
    fmt: str = "csv",
    out: Path | None = None,
) -> Path:
    """Write the export for one school year (optionally one sector/board); returns its folder."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    con = _open_serving(settings)
    try:
        run = _last_validated_publish(con)
        _check_selection(con, period, sector, board)
        fields = _indicator_fields(con)
        where = (
            "WHERE school_year = ? AND (? IS NULL OR sector = ?) AND (? IS NULL OR board_id = ?)"
        )
        rows = _rows(con, fields, "indicator", where, (period, sector, sector, board, board), ORDER)
        cat_fields = _catalogue_fields(con)
        cat_rows = _rows(
            con,
            cat_fields,
            "indicator_catalogue",
            order=("indicator_code", *[f.name for f in cat_fields]),
        )
        version = con.execute("SELECT max(indicator_version) FROM indicator").fetchone()[0]
    finally:
        con.close()
    _refuse_disclosive_rows(fields, rows)

    name = _export_name(period, sector, board)
    out = Path(out) if out else settings.exports_dir / run["run_id"] / f"{name}-{fmt}"
    out.mkdir(parents=True, exist_ok=True)
    when = run["published_at"]
    data_path = out / f"indicators.{fmt}"
    cat_path = out / f"indicator_catalogue.{fmt}"
    _write(fmt, data_path, fields, rows, "indicators", when)
    _write(fmt, cat_path, cat_fields, cat_rows, "indicator_catalogue", when)
    if not DEFINITIONS.exists():
        raise ExportError(
            f"the indicator definitions {DEFINITIONS} are missing from this "
            "installation; an export must carry them"
        )
    definitions_path = out / DEFINITIONS.name
    definitions_path.write_bytes(DEFINITIONS.read_bytes())

    selection = {"period": period, "sector": sector, "board": board, "format": fmt}
    package = {
        "profile": "data-package",  # tabular resources plus the definitions (markdown)
        "name": name,
        "title": f"Ouderpeil parent-involvement indicators {period}"
        + (f", sector {sector}" if sector else "")
        + (f", board {board}" if board else ""),
        "description": "Indicators of parent involvement (contacts, messages, parent survey, "
        "SES gaps) after disclosure control. Definitions: INDICATORS.md (in "
        "this package) and indicator_catalogue.",
        "version": f"{version}",
        "created": when.isoformat(),
        "licenses": [LICENSE],
        "sources": [
            {
                "title": "School administration, messaging platform and parent survey "
                "exports, pseudonymised and aggregated by Ouderpeil"
            }
        ],
        "ouderpeil": {
            "run_id": run["run_id"],
            "code_version": run["code_version"],
            "indicator_definitions_version": version,
            "selection": selection,
            "suppression_rule": SUPPRESSION_RULE,
            "units": UNITS,
        },
        "resources": [
            _resource(
                "indicators",
                data_path,
                fmt,
                fields,
                "Indicators",
                "Long table, one row per indicator x period x sector x board x school x "
                "SES group (ALL = total).",
                primary_key=GRAIN,
            ),
            _resource(
                "indicator_catalogue",
                cat_path,
                fmt,
                cat_fields,
                "Indicator catalogue",
                f"Definitions of the indicators, version {version}.",
            ),
            {
                "name": "indicator_definitions",
                "path": definitions_path.name,
                "profile": "data-resource",
                "title": "Indicator definitions",
                "description": "The indicator catalogue specification (version "
                f"{version}) the codes and definitions refer to.",
                "format": "md",
                "mediatype": "text/markdown",
                "encoding": "utf-8",
                "bytes": definitions_path.stat().st_size,
                "hash": f"sha256:{_sha256(definitions_path)}",
            },
        ],
    }
    (out / "datapackage.json").write_text(_dump(package), encoding="utf-8")
    manifest = {
        "run_id": run["run_id"],
        "published_at": when.isoformat(),
        "code_version": run["code_version"],
        "validation_success": bool(run["validation_success"]),
        "validated_at": run.get("validated_at"),
        "selection": selection,
        "input_files": run["input_files"],
        "row_counts": {
            "indicators": len(rows),
            "indicator_catalogue": len(cat_rows),
            "published": {
                k: run.get(k)
                for k in (
                    "rows_indicator",
                    "rows_channel_mix",
                    "rows_national_reference",
                    "rows_indicator_catalogue",
                )
            },
        },
        "files": [
            {"path": p.name, "bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in (data_path, cat_path, definitions_path, out / "datapackage.json")
        ],
    }
    (out / "manifest.json").write_text(_dump(manifest), encoding="utf-8")
    return out


def _refuse_disclosive_rows(fields, rows) -> None:
    """Last line of defence: never write a value resting on fewer than 10 units."""
    idx = {f.name: i for i, f in enumerate(fields)}
    for r in rows:
        small = r[idx["n"]] is not None and r[idx["n"]] < 10
        if (small or r[idx["suppressed"]]) and any(
            r[idx[c]] is not None for c in ("value", "numerator", "ci_low", "ci_high")
        ):
            raise ExportError(
                f"refusing to export: {r[idx['indicator_code']]} {r[idx['period']]} "
                f"school {r[idx['school_id']]} carries a value although it is suppressed or n < 10"
            )
