"""Cells that are safe to open in a spreadsheet (formula or CSV injection, issue 16).

Excel, LibreOffice and Google Sheets run a text cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula (``=HYPERLINK(...)`` sends data away, DDE starts programs); a leading tab
or carriage return hides such a start from a quick look. The full-width forms (＝＋－＠)
are converted to the ASCII ones by some spreadsheets, so they count too, as do leading
spaces before any of them.

- CSV: such a text gets a leading apostrophe (OWASP's advice): every spreadsheet shows it as
  text, and a reader can strip the one character back off. Numbers are never touched
  (``-0.05`` stays a number).
- XLSX: such a text is stored as a string cell (never a formula) with the quote prefix set,
  so editing it in Excel does not turn it into a formula either.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
# Spaces (also non-breaking) before the start are skipped by some spreadsheets.
_FORMULA_LIKE = re.compile(r"^[ \u00a0]*[" + re.escape(FORMULA_STARTS) + "]")
CSV_PREFIX = "'"
# The same test in DuckDB's (RE2) syntax, for the loader's check of reference names.
FORMULA_LIKE_SQL_REGEX = (
    "^[ \u00a0]*[" + "".join("\\" + c if c in "\\-]^[" else c for c in FORMULA_STARTS) + "]"
)


def is_formula_like(text: Any) -> bool:
    """True for a text a spreadsheet could run as a formula."""
    return isinstance(text, str) and bool(_FORMULA_LIKE.match(text))


def csv_safe(value: Any) -> Any:
    """The value to write to a CSV cell: formula-like texts get a leading apostrophe."""
    if is_formula_like(value):
        return CSV_PREFIX + value
    return value


def xlsx_safe_row(worksheet: Any, values: Any) -> list:
    """A row for ``worksheet.append``: formula-like texts as string cells, never formulas."""
    from openpyxl.cell import Cell

    row = []
    for value in values:
        if is_formula_like(value):
            cell = Cell(worksheet, value=value)
            cell.data_type = "s"  # openpyxl made it a formula ('f') because of the '='
            cell.quotePrefix = True  # Excel keeps it text when the cell is edited
            row.append(cell)
        else:
            row.append(value)
    return row
