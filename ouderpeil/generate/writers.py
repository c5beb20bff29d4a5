"""Writing rendered rows: CSV (any separator and encoding), XLSX with fixed metadata, JSON lines.

Files are written in chunks (one school at a time) so the region scale fits in memory; every
writer counts its data rows for the summary.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ouderpeil.generate.profiles import FileStyle

# Fixed document and zip timestamps: the same seed must give the same bytes.
XLSX_TIMESTAMP = dt.datetime(2025, 4, 15, 9, 0, 0)


def joined_lines(lines: pa.Array) -> memoryview:
    """All lines, each followed by a newline, as one buffer (no Python string per row)."""
    with_nl = pc.binary_join_element_wise(lines, "\n", "")
    with_nl = with_nl.combine_chunks() if isinstance(with_nl, pa.ChunkedArray) else with_nl
    offsets = np.frombuffer(with_nl.buffers()[1], dtype=np.int32)
    start, end = offsets[with_nl.offset], offsets[with_nl.offset + len(with_nl)]
    return memoryview(with_nl.buffers()[2])[start:end]


def _quoted_cells(values: np.ndarray, delimiter: str) -> pa.Array:
    """Text cells; empty for None; quoted (with doubled quotes) when they hold the separator,
    a quote or a line break."""
    arr = pc.fill_null(pa.array(values, pa.string()), "")
    needs = pc.match_substring_regex(arr, f'[{delimiter}"\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, arr)


def _quote(cell: str, delimiter: str) -> str:
    if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


class CsvWriter:
    def __init__(self, path: Path, style: FileStyle, header: list[str]):
        self.path, self.style, self.header = path, style, header
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        line = self.style.delimiter.join(_quote(h, style.delimiter) for h in header) + "\n"
        self._fh = path.open("wb")
        self._fh.write(self._encode(line.encode("utf-8"), first=True))

    def _encode(self, data: bytes, first: bool = False) -> bytes:
        if self.style.crlf:
            data = data.replace(b"\n", b"\r\n")
        enc = self.style.encoding
        if enc in ("utf-8", "utf-8-sig"):
            return (b"\xef\xbb\xbf" + data) if (first and enc == "utf-8-sig") else data
        return data.decode("utf-8").encode(enc)  # strict: fake text must fit the code page

    def write(self, columns: dict[str, np.ndarray]) -> None:
        n = len(next(iter(columns.values()))) if columns else 0
        if n == 0:
            return
        # Quote only cells that need it, as spreadsheet exports do (pyarrow quotes every text).
        cells = [_quoted_cells(columns[h], self.style.delimiter) for h in self.header]
        lines = pc.binary_join_element_wise(*cells, self.style.delimiter)
        self._fh.write(self._encode(bytes(joined_lines(lines))))
        self.rows += n

    def close(self) -> None:
        self._fh.close()


class JsonlWriter:
    def __init__(self, path: Path):
        self.path = path
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("wb")

    def write(self, lines: pa.Array) -> None:
        if len(lines):
            self._fh.write(joined_lines(lines))
            self.rows += len(lines)

    def close(self) -> None:
        self._fh.close()


def write_xlsx(
    path: Path, header: list[str], columns: dict[str, np.ndarray], sheet: str = "Resultaten"
) -> int:
    """One sheet, header in row 1. Date-time columns (datetime64) become Excel date cells,
    numbers stay numbers; document properties and zip entry times are fixed."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    n = len(next(iter(columns.values())))
    cols = []
    for h in header:
        v = columns[h]
        if np.issubdtype(np.asarray(v).dtype, np.datetime64):
            v = [None if np.isnat(x) else x.astype("datetime64[s]").astype(dt.datetime) for x in v]
        else:
            v = [
                None
                if x is None or (isinstance(x, float) and np.isnan(x))
                else (int(x) if isinstance(x, (np.integer,)) else x)
                for x in v
            ]
        cols.append(v)
    for i in range(n):
        ws.append([c[i] for c in cols])
    wb.properties.creator = "Ouderpeil sample data"
    wb.properties.created = XLSX_TIMESTAMP
    wb.properties.modified = XLSX_TIMESTAMP
    buf = io.BytesIO()
    wb.save(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    _rezip_fixed_times(buf.getvalue(), path)
    return n


def _rezip_fixed_times(data: bytes, path: Path) -> None:
    """openpyxl stamps zip entries (and docProps/core.xml) with the current time: rewrite."""
    stamp = XLSX_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=XLSX_TIMESTAMP.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, content)
