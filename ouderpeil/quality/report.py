"""The offline quality report: one self-contained HTML page per gate run.

Great Expectations' Data Docs load jQuery, Bootstrap and bootstrap-table from a CDN: without
internet their index is empty and the validation pages show no status. This page has no
script, no external link and inline CSS only, so it reads the same offline, in a browser or
attached to a ticket. It lists every expectation of the run (table, column, expectation,
status, observed value, why it exists), failed ones first.

    write_report(gx_dir, layer, run_id, validation_results) -> Path
        <gx_dir>/reports/<run id>.<layer>.html, and <gx_dir>/reports/index.html (newest first)

Text is Dutch, like everything outside the engineers' logs.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from pathlib import Path

REPORTS_DIR = "reports"
KEEP_REPORTS = 200  # pages kept in reports/ (older ones are removed with the index entry)
STATUS_TEXT = {
    "passed": "geslaagd",
    "blocking": "MISLUKT (blokkerend)",
    "warning": "mislukt (waarschuwing)",
    "error": "FOUT bij uitvoeren",
}
LAYER_TEXT = {"raw": "ruwe laag (ingelezen bestanden)", "marts": "marts (gepubliceerde cijfers)"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.5rem;margin:0 0 .3rem} .meta{color:#555;margin:.2rem 0}
.verdict{display:inline-block;padding:.4rem .8rem;border-radius:4px;font-weight:600;margin:.8rem 0}
.ok{background:#e3f4e1;color:#1e5e1a} .bad{background:#fbe3e1;color:#8a1c12}
.warn{background:#fff4d6;color:#6b4b00}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2} tr.blocking td,tr.error td{background:#fdf0ef} tr.warning td{background:#fffaeb}
td.status{font-weight:600;white-space:nowrap} code{font-size:.85em;word-break:break-all}
"""


@dataclass
class Row:
    table: str
    suite: str
    expectation: str
    column: str
    status: str  # passed | blocking | warning | error
    observed: str
    parameters: str
    why: str


def _column(kwargs: dict) -> str:
    for key in ("column", "column_A"):
        if key in kwargs:
            return str(kwargs[key]) + (f", {kwargs['column_B']}" if key == "column_A" else "")
    if "column_list" in kwargs:
        return ", ".join(map(str, kwargs["column_list"]))
    return ""


def _short(value, limit: int = 300) -> str:
    text = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= limit else text[:limit] + " …"


def observed_text(result: dict, exception: dict | None) -> str:
    """What the expectation saw, as a person reads it."""
    if exception and exception.get("raised_exception"):
        return f"fout: {exception.get('exception_message')}"
    result = result or {}
    if "observed_value" in result:
        return _short(result["observed_value"])
    if "unexpected_count" in result:
        text = (
            f"{result['unexpected_count']} van {result.get('element_count')} rijen "
            f"({result.get('unexpected_percent') or 0:.1f} %) wijken af"
        )
        examples = result.get("partial_unexpected_list") or []
        if examples:
            text += f", bijv. {_short(examples[:5])}"
        return text
    return _short(result) if result else "–"


def _parameters(kwargs: dict) -> str:
    skip = {"column", "column_A", "column_B", "column_list", "batch_id", "result_format"}
    return "; ".join(f"{k}={_short(v, 120)}" for k, v in kwargs.items() if k not in skip)


def rows_of(validation_result) -> list[Row]:
    """Every expectation of one GX ExpectationSuiteValidationResult (object or its dict)."""
    doc = (
        validation_result
        if isinstance(validation_result, dict)
        else validation_result.to_json_dict()
    )
    suite = doc.get("suite_name") or doc.get("meta", {}).get("expectation_suite_name", "?")
    table = (doc.get("meta") or {}).get("table") or _table_of_suite(suite)
    rows = []
    for r in doc.get("results", []):
        cfg = r.get("expectation_config") or {}
        kwargs = cfg.get("kwargs") or {}
        meta = cfg.get("meta") or {}
        exc = r.get("exception_info") or {}
        if exc.get("raised_exception"):
            status = "error"
        elif r.get("success"):
            status = "passed"
        else:
            status = "warning" if meta.get("severity") == "warning" else "blocking"
        rows.append(
            Row(
                table=table,
                suite=suite,
                expectation=cfg.get("type", "?"),
                column=_column(kwargs),
                status=status,
                observed=observed_text(r.get("result") or {}, exc),
                parameters=_parameters(kwargs),
                why=str(meta.get("why", "")),
            )
        )
    return rows


def _table_of_suite(suite: str) -> str:
    m = re.match(r"^(raw|marts)_(.+?)(\..*)?$", suite)
    return f"{m[1]}.{m[2]}" if m else suite


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)


def report_path(gx_dir: Path, layer: str, run_id: str) -> Path:
    return Path(gx_dir) / REPORTS_DIR / f"{_safe(run_id)}.{layer}.html"


def render(layer: str, run_id: str, rows: list[Row], made_at: dt.datetime) -> str:
    order = {"error": 0, "blocking": 1, "warning": 2, "passed": 3}
    rows = sorted(rows, key=lambda r: (order[r.status], r.table, r.column, r.expectation))
    blocking = sum(r.status in ("blocking", "error") for r in rows)
    warnings = sum(r.status == "warning" for r in rows)
    if blocking:
        verdict = (
            f'<div class="verdict bad">Poort GESLOTEN: {blocking} blokkerende '
            f"verwachting(en) mislukt; er is niets gepubliceerd</div>"
        )
    elif warnings:
        verdict = f'<div class="verdict warn">Poort open, met {warnings} waarschuwing(en)</div>'
    else:
        verdict = '<div class="verdict ok">Poort open: alle verwachtingen geslaagd</div>'
    e = html.escape
    n_tables = len({r.table for r in rows})
    body = "\n".join(
        f'<tr class="{r.status}"><td>{e(r.table)}</td><td>{e(r.column)}</td>'
        f'<td><code>{e(r.expectation)}</code></td><td class="status">{e(STATUS_TEXT[r.status])}'
        f"</td><td>{e(r.observed)}</td><td><code>{e(r.parameters)}</code></td>"
        f"<td>{e(r.why)}</td></tr>"
        for r in rows
    )
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8">
<title>Kwaliteitsrapport {e(layer)} – {e(run_id)}</title>
<style>{_CSS}</style></head><body>
<h1>Kwaliteitsrapport: {e(LAYER_TEXT.get(layer, layer))}</h1>
<p class="meta">Run <code>{e(run_id)}</code> · gemaakt {e(made_at.strftime("%Y-%m-%d %H:%M:%S UTC"))}
 · {len(rows)} verwachting{"en" if len(rows) != 1 else ""} op {n_tables} tabel{"len" if n_tables != 1 else ""}</p>
{verdict}
<table><thead><tr><th>tabel</th><th>kolom</th><th>verwachting</th><th>status</th>
<th>waargenomen</th><th>parameters</th><th>waarom</th></tr></thead>
<tbody>
{body}
</tbody></table>
<p class="meta"><a href="index.html">Alle kwaliteitsrapporten</a></p>
</body></html>
"""


def write_report(
    gx_dir: Path,
    layer: str,
    run_id: str,
    validation_results: list,
    made_at: dt.datetime | None = None,
    keep_runs: set[str] | None = None,
) -> Path:
    """Write the page of one gate run and refresh the index; returns the page's path.

    keep_runs: run ids whose pages stay (the runs GX still keeps); others are removed."""
    made_at = made_at or dt.datetime.now(dt.UTC)
    rows = [row for vr in validation_results for row in rows_of(vr)]
    path = report_path(gx_dir, layer, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(layer, run_id, rows, made_at), encoding="utf-8")
    tmp.replace(path)
    if keep_runs is not None:
        keep = {_safe(r) for r in keep_runs}
        for page in path.parent.glob("*.html"):
            if page.name != "index.html" and page.name.rsplit(".", 2)[0] not in keep:
                page.unlink(missing_ok=True)
    write_index(path.parent)
    return path


def write_index(reports_dir: Path) -> Path:
    pages = sorted(
        (p for p in reports_dir.glob("*.html") if p.name != "index.html"),
        key=lambda p: (p.stat().st_mtime, p.name),
        reverse=True,
    )
    for old in pages[KEEP_REPORTS:]:
        old.unlink(missing_ok=True)
    pages = pages[:KEEP_REPORTS]
    e = html.escape
    items = []
    for p in pages:
        text = p.read_text(encoding="utf-8", errors="replace")
        state = (
            "gesloten"
            if 'class="verdict bad"' in text
            else "waarschuwing"
            if 'class="verdict warn"' in text
            else "open"
        )
        made = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC)
        items.append(
            f"<tr><td>{e(made.strftime('%Y-%m-%d %H:%M:%S'))}</td>"
            f'<td><a href="{e(p.name)}">{e(p.stem)}</a></td><td>{state}</td></tr>'
        )
    index = reports_dir / "index.html"
    index.write_text(
        f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Kwaliteitsrapporten</title>
<style>{_CSS}</style></head><body><h1>Kwaliteitsrapporten (nieuwste eerst)</h1>
<table><thead><tr><th>gemaakt (UTC)</th><th>run en laag</th><th>poort</th></tr></thead>
<tbody>{"".join(items)}</tbody></table></body></html>
""",
        encoding="utf-8",
    )
    return index
