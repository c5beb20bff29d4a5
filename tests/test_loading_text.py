"""Encodings, text normalisation and Excel cells on real files (issue 12, items 3 and 4)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from loading_helpers import CONTACT_HEADER, KEY, query, rejects_of, write

from ouderpeil.loading import load_file
from ouderpeil.loading.pseudonymise import pseudonym

GOOD = "2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,5,"


def test_a_file_mixing_utf8_and_cp1252_never_loads_altered_ids(settings):
    """Line 2 is UTF-8, line 3 Windows-1252, line 4 plain ASCII: which encoding a non-ASCII
    line is in is not guessed; its non-ASCII cells are rejected, ASCII lines load."""
    header = b"school_id,school_name,sector,board_id\n"
    body = (
        "C9é1,School één,po,41000\n".encode()
        + "C9é2,School twee,po,41000\n".encode("cp1252")
        + b"C9E3,School drie,po,41000\n"
        + "C9E4,Caf\u00e9 (notes only),po,41000\n".encode("cp1252")
    )
    path = settings.inbox_dir / "schools" / "mixed.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(header + body)
    result = load_file(settings, "schools", path)
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (4, 1, 3)
    assert query(settings, "SELECT school_id, school_name FROM raw.schools") == [
        ("C9E3", "School drie")
    ]
    lines = rejects_of(settings, "mixed.csv")
    assert {(r[0], r[1], r[3]) for r in lines} >= {
        (2, "school_id", "undecodable_text"),
        (3, "school_id", "undecodable_text"),
        (5, "school_name", "undecodable_text"),
    }
    for _, _, value, _ in lines:  # never a mojibake spelling
        assert value is None or ("Ã" not in value and "é" not in value)


def test_pure_cp1252_and_pure_utf8_files_still_decode(settings):
    for name, encoding in (("a.csv", "cp1252"), ("b.csv", "utf-8-sig")):
        write(
            settings,
            "schools",
            name,
            f"school_id,school_name,sector,board_id\nX{name[0]},Ëlla €,po,41000\n",
            encoding,
        )
        assert (
            load_file(settings, "schools", settings.inbox_dir / "schools" / name).rows_loaded == 1
        )
    assert sorted(query(settings, "SELECT school_name FROM raw.schools")) == [
        ("Ëlla €",),
        ("Ëlla €",),
    ]


def test_ids_and_labels_compare_after_normalisation(settings, schools_loaded):
    """Non-breaking spaces around ids and labels, a decomposed é, upper-case labels and an id
    written as a float by Excel: the same school, family pseudonym and code as the plain
    spelling. An id in exponent notation is rejected (digits may be lost)."""
    nbsp = "\u00a0"
    decomposed = unicodedata.normalize("NFD", "Fé1")
    rows = [
        f"C1,12AB00,Fé1,,,{GOOD}",
        f"C2,{nbsp}12AB00{nbsp},{decomposed},,,2025-10-03 14:30:00,{nbsp}TELEFOON,Ouder,"
        "gedrag,GEHOUDEN,5,",
        f"C3,12AB00,41037.0,,,{GOOD}",
        f"C4,12AB00,4.1037E+4,,,{GOOD}",
        f"5.0,12AB00,F9,,,{GOOD}",
        f"C6.0,12AB00,F9,,,{GOOD}",
    ]
    path = write(settings, "contact_logs", "n.csv", CONTACT_HEADER + "\n" + "\n".join(rows))
    result = load_file(settings, "contact_logs", path)
    assert (result.rows_loaded, result.rows_rejected) == (5, 1)
    got = dict(query(settings, "SELECT contact_id, family_ref FROM raw.contact_logs"))
    assert got["C1"] == got["C2"] == pseudonym(KEY, "Fé1")
    assert got["C3"] == pseudonym(KEY, "41037") and got["5"] == got["C6.0"] == pseudonym(KEY, "F9")
    assert query(
        settings, "SELECT channel, status FROM raw.contact_logs WHERE contact_id = 'C2'"
    ) == [("telefoon", "gehouden")]
    assert {(r[0], r[1], r[2], r[3]) for r in rejects_of(settings, "n.csv")} >= {
        (5, "family_ref", None, "id_as_number")
    }


def test_whole_numbers_written_as_floats(settings, schools_loaded):
    rows = [
        f"C1,12AB00,F1,,,2025-10-03 14:30:00,telefoon,ouder,gedrag,gehouden,{v},".replace(
            "C1", f"C{i}"
        )
        for i, v in enumerate(["15.0", '"15,00"', "15.5", "1e1"])
    ]
    path = write(settings, "contact_logs", "i.csv", CONTACT_HEADER + "\n" + "\n".join(rows))
    load_file(settings, "contact_logs", path)
    assert query(settings, "SELECT duration_min FROM raw.contact_logs") == [(15,), (15,)]
    assert [r[2:] for r in rejects_of(settings, "i.csv")] == [
        ("15.5", "invalid_int"),
        ("1e1", "invalid_int"),
    ]


def test_one_long_field_and_one_malformed_row_lose_only_that_row(settings, schools_loaded):
    header = CONTACT_HEADER + ",notitie"
    rows = [
        f"C1,12AB00,F1,,,{GOOD}," + "x" * 200_000,
        f"C2,12AB00,F2,,,{GOOD},kort,extra veld",
        f'C3,12AB00,F3,,,{GOOD},"met, komma"',
    ]
    path = write(settings, "contact_logs", "long.csv", header + "\n" + "\n".join(rows) + "\n")
    result = load_file(settings, "contact_logs", path)
    assert result.status == "loaded" and (result.rows_loaded, result.rows_rejected) == (2, 1)
    assert [(r[0], r[3]) for r in rejects_of(settings, "long.csv")] == [(3, "malformed_row")]


# --------------------------------------------------------------------------- Excel
def _workbook(path, rows):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)


def test_excel_formulas_without_value_and_error_cells_are_rejected(settings, schools_loaded):
    """openpyxl writes formulas without a cached value (as many export tools do): such a cell
    has no value to read. Cached errors (#N/A) are no value either. Date and datetime cells
    and whole numbers stored as floats are read."""
    folder = settings.inbox_dir / "contact_logs"
    folder.mkdir(parents=True)
    header = CONTACT_HEADER.split(",")
    base = [
        "12AB00",
        "F1",
        None,
        None,
        dt.datetime(2025, 10, 3, 14, 30),
        "telefoon",
        "ouder",
        "gedrag",
        "gehouden",
        5.0,
        None,
    ]
    rows = [
        header,
        ["X1", *base],
        ["X2", '=A2&"x"', *base[1:]],  # school_id is a formula, never computed
        ["X3", *base[:8], "#N/A", 5.0, None],  # status holds an Excel error
        ["X4", *base[:4], dt.date(2025, 10, 6), *base[5:]],
    ]
    _workbook(folder / "f.xlsx", rows)
    result = load_file(settings, "contact_logs", folder / "f.xlsx")
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    assert query(
        settings, "SELECT contact_id, contact_at, duration_min FROM raw.contact_logs ORDER BY 1"
    ) == [("X1", dt.datetime(2025, 10, 3, 14, 30), 5), ("X4", dt.datetime(2025, 10, 6), 5)]
    lines = {(r[0], r[1], r[3]) for r in rejects_of(settings, "f.xlsx")}
    assert (3, "school_id", "formula_without_value") in lines
    assert (4, "status", "excel_error") in lines
