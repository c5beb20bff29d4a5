"""Readers: one inbox file into a DuckDB staging table of text values.

Every reader exposes the file's ``header`` (column names, or JSON keys) and ``stage()``, which
writes only the columns the profile maps into a TEMP table::

    _row_number BIGINT   -- CSV/XLSX: the spreadsheet row (header = 1); JSONL: the line number
    _row_problem VARCHAR -- a row-level reject reason (malformed_row, malformed_json) or NULL
    <canonical> VARCHAR  -- one per mapped column, trimmed, '' as NULL

Columns the profile does not map are never kept: CSV columns are dropped by DuckDB's reader
projection, Excel cells are not converted, and JSON lines sit in a TEMP table only until their
mapped keys are extracted. Nothing here writes to the warehouse's tables. Errors that make a
file unreadable raise SourceFileError and never quote the file's content.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import itertools
import re
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ouderpeil.errors import SourceFileError
from ouderpeil.loading import reasons

CHUNK = 1 << 20
# Python's csv module refuses fields over 128 KiB by default, which would quarantine a whole
# file for one long notes cell; a field is never bigger than the file anyway.
csv.field_size_limit(2**31 - 1)
ARROW_BATCH = 200_000
CSV_SEPARATORS = (";", ",", "\t")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- text encoding
# The bytes strict cp1252 decoding refuses (taken from the codec, not typed in by hand).
_CP1252_UNDEFINED = [
    bytes([b]) for b in range(256) if bytes([b]).decode("cp1252", errors="replace") == "\ufffd"
]


def hash_and_encoding(
    path: Path, check_text: bool = True
) -> tuple[str, str | SourceFileError | None]:
    """The file's sha256 and (when ``check_text``) its text encoding, in one read of the file.

    The encoding is what ``detect_encoding`` decides, or the SourceFileError it would raise:
    returned, not raised, because the loader needs the hash even for a file it quarantines."""
    digest = hashlib.sha256()
    if not check_text:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest(), None
    utf8 = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    utf8_fails = first_nul = first_cp1252_bad = None  # chunk numbers, None: never
    utf8_sequences = False  # bytes that only UTF-8 writes (a multi-byte sequence)
    size = index = 0
    with path.open("rb") as fh:
        for index, chunk in enumerate(iter(lambda: fh.read(CHUNK), b"")):
            digest.update(chunk)
            size += len(chunk)
            if first_nul is None and b"\x00" in chunk:
                first_nul = index
            # (five byte searches are cheaper than decoding; ASCII chunks need none)
            if (
                first_cp1252_bad is None
                and not chunk.isascii()
                and any(byte in chunk for byte in _CP1252_UNDEFINED)
            ):
                first_cp1252_bad = index
            if not utf8_sequences and not chunk.isascii() and _UTF8_SEQUENCE.search(chunk):
                utf8_sequences = True
            if utf8_fails is None:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_fails = index
        if utf8_fails is None:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_fails = index + 1
    return digest.hexdigest(), _encoding_verdict(
        path, size, utf8_fails, first_nul, first_cp1252_bad, utf8_sequences
    )


# A UTF-8 multi-byte sequence: lead byte then continuation bytes. Windows-1252 text has them
# only in letter pairs such as "Ã©", which is what UTF-8 read as Windows-1252 looks like.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
    rb"|[\xf0-\xf4][\x80-\xbf]{3}"
)
MIXED = "mixed"


def _encoding_verdict(
    path: Path, size: int, utf8_fails, first_nul, first_cp1252_bad, utf8_sequences: bool = False
):
    """The outcome of trying UTF-8 and then cp1252 chunk by chunk, each stopping at the first
    chunk holding a NUL byte (binary) or failing to decode (the order decides the message)."""
    if size == 0:
        return SourceFileError(f"{path.name}: the file is empty")
    binary = SourceFileError(f"{path.name}: binary content, not a text file")
    if utf8_fails is None:
        return binary if first_nul is not None else "utf-8-sig"
    if first_nul is not None and first_nul <= utf8_fails:
        return binary
    if first_nul is not None and (first_cp1252_bad is None or first_nul <= first_cp1252_bad):
        return binary
    if first_cp1252_bad is not None:
        return SourceFileError(f"{path.name}: text is neither UTF-8 nor Windows-1252")
    # Not UTF-8 as a whole, yet with UTF-8 sequences: lines of both encodings. Read as
    # Windows-1252, its UTF-8 lines would turn into mojibake ids ("C9Ã©1"); utf8_copy keeps
    # the plain ASCII of every line and marks its other characters as undecodable.
    return MIXED if utf8_sequences else "cp1252"


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (UTF-8 with or without BOM) or ``cp1252``, decided by strict decoding.

    Raises SourceFileError for empty files, binary files and text that is neither."""
    return checked_encoding(hash_and_encoding(path)[1])


def checked_encoding(verdict: str | SourceFileError) -> str:
    """The encoding of a ``hash_and_encoding`` verdict; raises its SourceFileError."""
    if isinstance(verdict, SourceFileError):
        raise verdict
    return verdict


def utf8_copy(path: Path, encoding: str, workdir: Path) -> Path:
    """The file itself when it is UTF-8; else a UTF-8 transcoded copy in ``workdir`` (DuckDB
    and Arrow read UTF-8 only). The caller removes ``workdir``."""
    if encoding == "utf-8-sig":
        return path
    target = workdir / (path.stem + ".utf8" + path.suffix)
    if encoding == MIXED:
        # Which encoding a non-ASCII line is in would be a guess: its non-ASCII characters
        # become U+FFFD, and normalise.py rejects every mapped cell holding one.
        with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            for line in src:
                dst.write(line.decode("ascii", errors="replace"))
        return target
    with (
        path.open("r", encoding=encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        while text := src.read(CHUNK):
            dst.write(text)
    return target


# --------------------------------------------------------------------------- CSV
class CsvReader:
    """`,`, `;` or tab separated text, UTF-8 (BOM or not) or Windows-1252."""

    format = "csv"

    def __init__(self, path: Path, workdir: Path, encoding: str | SourceFileError | None = None):
        self.path = path
        # The loader passes the verdict it got while hashing the file (one read, not two).
        self.encoding = detect_encoding(path) if encoding is None else checked_encoding(encoding)
        self.text_path = utf8_copy(path, self.encoding, workdir)
        with self.text_path.open("r", encoding="utf-8-sig", newline="") as fh:
            first_line = fh.readline()
            if not first_line.strip() and not fh.read(CHUNK).strip():
                raise SourceFileError(f"{path.name}: the file is empty")
            fh.seek(0)
            self.separator = max(CSV_SEPARATORS, key=first_line.count)
            try:
                self.header = next(csv.reader(fh, delimiter=self.separator))
            except (csv.Error, StopIteration):
                raise SourceFileError(
                    f"{path.name}: the header row cannot be parsed as CSV"
                ) from None
        if not any(cell.strip() for cell in self.header):
            raise SourceFileError(f"{path.name}: the first row (header) is empty")

    def stage(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        positions: dict[str, int],
        column_types: dict[str, str],
    ) -> None:
        try:
            self._stage_with_duckdb(con, table, positions)
        except duckdb.Error:
            # DuckDB refuses rows with a wrong number of fields (and its message quotes the
            # line, so it is not passed on). The Python reader rejects those rows one by one.
            for leftover in (f"{table}_in", table):
                con.execute(f"DROP TABLE IF EXISTS {leftover}")
            self._stage_with_python(con, table, positions)

    def _stage_with_duckdb(self, con, table: str, positions: dict[str, int]) -> None:
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(self.header))) + "}"
        select = ", ".join(
            f"NULLIF(trim(c{pos}), '') AS {_quote_ident(name)}" for name, pos in positions.items()
        )
        # skip=1 skips the header (and any BOM). Insertion order is preserved, so the rowids
        # of a new table count the records in file order (from an offset inside a
        # transaction, hence the min).
        con.execute(f"""
            CREATE TEMP TABLE {table}_in AS
            SELECT {select} FROM read_csv({_sql_str(str(self.text_path))},
                delim={_sql_str(self.separator)}, quote='"', escape='"', header=false, skip=1,
                columns={columns}, auto_detect=false, strict_mode=true, null_padding=false)
        """)
        names = ", ".join(_quote_ident(n) for n in positions)
        con.execute(f"""
            CREATE TEMP TABLE {table} AS
            SELECT rowid - (SELECT min(rowid) FROM {table}_in) + 2 AS _row_number,
                   NULL::VARCHAR AS _row_problem{", " if names else ""}{names}
            FROM {table}_in
        """)
        con.execute(f"DROP TABLE {table}_in")

    def _stage_with_python(self, con, table: str, positions: dict[str, int]) -> None:
        width = len(self.header)
        schema = pa.schema(
            [("_row_number", pa.int64()), ("_row_problem", pa.string())]
            + [(name, pa.string()) for name in positions]
        )
        batches = _BatchWriter(con, table, schema)
        with self.text_path.open("r", encoding="utf-8-sig", newline="") as fh:
            rows = csv.reader(fh, delimiter=self.separator)
            next(rows)
            row_number = 1
            try:
                for fields in rows:
                    if not fields:  # blank line: not a record (as in the DuckDB path)
                        continue
                    row_number += 1
                    if len(fields) > width and not any(f.strip() for f in fields[width:]):
                        fields = fields[:width]  # trailing separators only: nothing is lost
                    if len(fields) != width:
                        batches.add([row_number, reasons.MALFORMED_ROW] + [None] * len(positions))
                    else:
                        batches.add(
                            [row_number, None]
                            + [fields[p].strip() or None for p in positions.values()]
                        )
            except csv.Error:
                raise SourceFileError(
                    f"{self.path.name}: row {row_number + 1}: not readable as CSV"
                ) from None
        batches.close()


# --------------------------------------------------------------------------- XLSX
EXCEL_ERRORS = frozenset(
    {
        "#N/A",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
    }
)
CELL_PROBLEM = "\ue000"  # = normalise.CELL_PROBLEM: marker + reason in place of a value


def _excel_text(value, column_type: str, formula=None) -> str | None:
    """An Excel cell as the text a CSV export would hold (ISO dates, integral numbers bare).
    ``formula`` is the same cell read without cached values: a formula whose value was never
    calculated (written by a tool, not by Excel) has no value to read."""
    if value is None:
        if isinstance(formula, str) and formula.startswith("="):
            return CELL_PROBLEM + reasons.FORMULA_WITHOUT_VALUE
        return None
    if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
        return CELL_PROBLEM + reasons.EXCEL_ERROR
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if column_type == "date":
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


class XlsxReader:
    """The first worksheet of an Excel workbook. The header is the first non-empty row, or one
    of the next few when the export starts with title rows (see ``header_candidates``)."""

    format = "xlsx"
    MAX_TITLE_ROWS = 10

    def __init__(self, path: Path, workdir: Path):
        self.path = path
        # (sheet row, cells) of the first non-empty rows: the loader picks the one a profile
        # recognises and calls use_header().
        self.header_candidates: list[tuple[int, list[str]]] = []
        workbook = self._open()
        try:
            for row_index, values in enumerate(
                workbook.worksheets[0].iter_rows(values_only=True), start=1
            ):
                if any(v is not None and str(v).strip() for v in values):
                    cells = ["" if v is None else str(v) for v in values]
                    self.header_candidates.append((row_index, cells))
                    if len(self.header_candidates) == self.MAX_TITLE_ROWS:
                        break
        finally:
            workbook.close()
        if not self.header_candidates:
            raise SourceFileError(f"{path.name}: the workbook's first sheet is empty")
        self.use_header(0)

    def use_header(self, candidate: int) -> None:
        self.header_row, self.header = self.header_candidates[candidate]

    def _open(self, data_only: bool = True):
        import openpyxl  # imported here: only Excel files need it

        try:
            workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=data_only)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise SourceFileError(
                f"{self.path.name}: not a readable Excel workbook ({type(exc).__name__})"
            ) from exc
        if not workbook.worksheets:
            raise SourceFileError(f"{self.path.name}: the workbook has no worksheet")
        return workbook

    def stage(
        self, con, table: str, positions: dict[str, int], column_types: dict[str, str]
    ) -> None:
        schema = pa.schema(
            [("_row_number", pa.int64()), ("_row_problem", pa.string())]
            + [(name, pa.string()) for name in positions]
        )
        batches = _BatchWriter(con, table, schema)
        wanted = [(pos, column_types[name]) for name, pos in positions.items()]
        workbook = self._open()
        # The same sheet read a second time with formulas instead of cached values: a cell
        # that is empty in the first and a formula in the second has no value to read.
        formulas = self._open(data_only=False)
        try:
            rows = workbook.worksheets[0].iter_rows(min_row=self.header_row + 1, values_only=True)
            formula_rows = formulas.worksheets[0].iter_rows(
                min_row=self.header_row + 1, values_only=True
            )
            for row_number, (values, raw) in enumerate(
                itertools.zip_longest(rows, formula_rows, fillvalue=()), start=self.header_row + 1
            ):
                if not any(v is not None and str(v).strip() for v in values) and not any(
                    isinstance(v, str) and v.startswith("=") for v in raw
                ):
                    continue  # empty spreadsheet row: not a record
                cells = [
                    _excel_text(
                        values[pos] if pos < len(values) else None,
                        kind,
                        raw[pos] if pos < len(raw) else None,
                    )
                    for pos, kind in wanted
                ]
                batches.add([row_number, None] + cells)
        finally:
            workbook.close()
            formulas.close()
        batches.close()


# --------------------------------------------------------------------------- JSON lines
class JsonLinesReader:
    """One JSON object per line (webhook deliveries). A line that is not a JSON object is a
    ``malformed_json`` reject of that line; the header is the set of keys seen.

    The file is streamed in blocks of lines (Arrow splits lines in C++), so memory stays
    bounded for files of any size and whole lines, which hold free text, are never stored in a
    table. It is read once: the header starts as the keys of the first block (enough to pick
    the profile), and stage() collects every block's keys in the same pass that extracts the
    mapped ones. Keys first seen after the first block end up in ``late_keys``; the loader
    then checks them against the profile (see ``loader._add_late_keys``)."""

    format = "jsonl"
    BLOCK_BYTES = 32 << 20
    PYTHON_BATCH_LINES = 200_000
    LINES_VIEW = "__ouderpeil_lines"

    def __init__(
        self,
        path: Path,
        workdir: Path,
        con: duckdb.DuckDBPyConnection,
        encoding: str | SourceFileError | None = None,
    ):
        self.path = path
        encoding = detect_encoding(path) if encoding is None else checked_encoding(encoding)
        self.text_path = utf8_copy(path, encoding, workdir)
        self.split_with_arrow = True
        self.late_keys: list[str] = []
        keys, _ = self._with_split_fallback(lambda: self._scan_keys(con, first_block=True))
        self.all_keys_read = False
        self.header = sorted(keys)  # stage() takes positions in this list
        if not self.header:
            # No object in the first block: look through the whole file before giving up.
            records = self.read_all_keys(con)
            if not self.header:
                raise SourceFileError(
                    f"{path.name}: "
                    + ("no line is a JSON object" if records else "the file is empty")
                )

    def read_all_keys(self, con) -> int:
        """Makes the header the keys of the whole file, an extra pass only needed when the
        first block's keys do not identify a profile; returns the number of records."""
        keys, records = self._with_split_fallback(lambda: self._scan_keys(con))
        self.header = sorted(keys)
        self.all_keys_read = True
        return records

    def add_late_keys(self) -> None:
        """After stage(): the header becomes the keys of the whole file."""
        self.header = sorted(set(self.header).union(self.late_keys))
        self.late_keys = []
        self.all_keys_read = True

    def _with_split_fallback(self, work):
        try:
            return work()
        except pa.ArrowInvalid:
            if not self.split_with_arrow:
                raise
            # Arrow splits on a \x01 that JSON never holds; a file with one anyway is split
            # by Python instead (slower, same line numbers). ``work`` starts from scratch.
            self.split_with_arrow = False
            return work()

    def _records_sql(self) -> str:
        # Blank lines are not records; their line numbers are simply not used. Valid JSON
        # starting with "{" is an object. The CASEs keep the costly trims off ordinary lines;
        # a BOM can only start line 1.
        line = "CASE WHEN line_no = 1 THEN ltrim(line, chr(65279)) ELSE line END"
        return (
            f"SELECT line_no, line, "
            f"CASE WHEN starts_with(line, '{{') THEN json_valid(line) "
            f"ELSE json_valid(line) AND starts_with(ltrim(line), '{{') END AS ok "
            f"FROM (SELECT line_no, {line} AS line FROM {self.LINES_VIEW}) "
            f"WHERE NOT CASE WHEN starts_with(line, '{{') THEN false ELSE trim(line) = '' END"
        )

    def _scan_keys(self, con, first_block: bool = False) -> tuple[set[str], int]:
        """The keys of the file's (or its first block's) objects, and the number of records
        (not counted for the first block alone)."""
        keys: set[str] = set()
        records = 0
        # closing(): stopping after the first block still unregisters it and closes the file.
        with contextlib.closing(self._line_blocks(con, read_ahead=not first_block)) as blocks:
            for _ in blocks:
                keys.update(self._block_keys(con))
                if first_block:
                    break
                records += con.execute(f"SELECT count(*) FROM ({self._records_sql()})").fetchall()[
                    0
                ][0]
        return keys, records

    def _block_keys(self, con) -> list[str]:
        """The keys of the objects in the current block: the lines _records_sql() calls ok.
        try() turns the error json_keys raises for invalid JSON into NULL (no keys), which
        spares the json_valid parse; DISTINCT unnest is cheaper than aggregating lists."""
        line = "CASE WHEN line_no = 1 THEN ltrim(line, chr(65279)) ELSE line END"
        return [
            k
            for (k,) in con.execute(
                f"SELECT DISTINCT unnest(try(json_keys(line))) "
                f"FROM (SELECT {line} AS line FROM {self.LINES_VIEW}) "
                f"WHERE starts_with(ltrim(line), '{{')"
            ).fetchall()
        ]

    def _line_blocks(self, con, read_ahead: bool = True):
        """Registers each block of lines as LINES_VIEW (line_no, line) and yields."""
        first_line = 1
        blocks = self._arrow_blocks(read_ahead) if self.split_with_arrow else self._python_blocks()
        for lines in blocks:
            numbers = np.arange(first_line, first_line + len(lines), dtype=np.int64)
            first_line += len(lines)
            con.register(self.LINES_VIEW, pa.table({"line_no": numbers, "line": lines}))
            try:
                yield
            finally:
                con.unregister(self.LINES_VIEW)

    def _arrow_blocks(self, read_ahead: bool = True):
        # Arrow's threads read blocks ahead: wasted work when only the first block is wanted.
        reader = pacsv.open_csv(
            self.text_path,
            read_options=pacsv.ReadOptions(
                column_names=["line"], block_size=self.BLOCK_BYTES, use_threads=read_ahead
            ),
            parse_options=pacsv.ParseOptions(
                delimiter="\x01", quote_char=False, escape_char=False, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={"line": pa.string()}, strings_can_be_null=False
            ),
        )
        for batch in reader:
            yield batch.column(0)

    def _python_blocks(self):
        with self.text_path.open("r", encoding="utf-8", newline="") as fh:
            block: list[str] = []
            for line in fh:
                block.append(line.rstrip("\r\n"))
                if len(block) == self.PYTHON_BATCH_LINES:
                    yield pa.array(block, pa.string())
                    block = []
            if block:
                yield pa.array(block, pa.string())

    def stage(
        self, con, table: str, positions: dict[str, int], column_types: dict[str, str]
    ) -> None:
        keys = self._with_split_fallback(lambda: self._stage_blocks(con, table, positions))
        self.late_keys = sorted(keys - set(self.header))

    def _stage_blocks(self, con, table: str, positions: dict[str, int]) -> set[str]:
        # Only the mapped keys are extracted (other keys, free text, are never read), all in
        # one parse of the line: json_extract_string with a list of paths gives a list.
        paths = ", ".join(_sql_str("$." + json_key(self.header[pos])) for pos in positions.values())
        columns = "".join(f", {_quote_ident(name)} VARCHAR" for name in positions)
        select = "".join(f", NULLIF(trim(v[{i}]), '')" for i in range(1, len(positions) + 1))
        # OR REPLACE: a restart after the Arrow fallback drops the rows of the first attempt.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} "
            f"(_row_number BIGINT, _row_problem VARCHAR{columns})"
        )
        keys: set[str] = set()
        for _ in self._line_blocks(con):
            con.execute(f"""
                INSERT INTO {table}
                SELECT line_no,
                       CASE WHEN ok THEN NULL ELSE '{reasons.MALFORMED_JSON}' END{select}
                FROM (SELECT line_no, ok,
                             json_extract_string(CASE WHEN ok THEN line END, [{paths}]) AS v
                      FROM ({self._records_sql()}))
            """).fetchall()  # DuckDB wants the result consumed before the block is unregistered
            if not self.all_keys_read:
                keys.update(self._block_keys(con))
        return keys


def json_key(key: str) -> str:
    """A JSON path step for a key, quoted so that dots or spaces in it are literal."""
    return '"' + key.replace('"', '\\"') + '"'


class _BatchWriter:
    """Collects rows and appends them to a TEMP table through Arrow, a batch at a time."""

    def __init__(self, con, table: str, schema: pa.Schema):
        self.con, self.table, self.schema = con, table, schema
        self.rows: list[list] = []
        columns = ", ".join(
            f"{_quote_ident(f.name)} {'BIGINT' if f.type == pa.int64() else 'VARCHAR'}"
            for f in schema
        )
        con.execute(f"CREATE TEMP TABLE {table} ({columns})")

    def add(self, row: list) -> None:
        self.rows.append(row)
        if len(self.rows) >= ARROW_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        columns = list(zip(*self.rows))
        batch = pa.table(
            [pa.array(col, type=f.type) for col, f in zip(columns, self.schema)], schema=self.schema
        )
        self.con.register("__ouderpeil_batch", batch)
        try:
            self.con.execute(f"INSERT INTO {self.table} SELECT * FROM __ouderpeil_batch").fetchall()
        finally:
            self.con.unregister("__ouderpeil_batch")
        self.rows = []

    def close(self) -> None:
        self.flush()
