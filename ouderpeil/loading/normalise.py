"""Text normalisation of a staged file, and the cell problems found on the way, in SQL.

Runs on the staging table before person ids are pseudonymised, so that ``C9é1`` written with
a combining accent, `` 4103 `` with non-breaking spaces and ``41037.0`` from Excel give the
same pseudonym and the same school id as their plain spelling. Per mapped column:

- non-breaking spaces (U+00A0, U+202F, U+2007) become spaces; then trimmed, Unicode NFC, and
  empty text is NULL;
- a cell holding U+FFFD (text that could not be decoded for sure: a line of a file mixing
  UTF-8 and Windows-1252, see readers.py) is a cell problem ``undecodable_text``;
- a reader's cell marker (``CELL_PROBLEM`` + reason: an Excel formula without cached value,
  an Excel error value) is a cell problem with that reason;
- id columns (text columns named ``*_id`` / ``*_ref``): a whole number written as a float
  (``41037.0``) is that whole number; one in exponent notation (``4.1037E+4``: digits may be
  lost) is a cell problem ``id_as_number``.

A cell with a problem is set to NULL in the staging table (its reject line keeps the reason,
and for non-person columns the text); the row is rejected as a whole in validation.py.
"""

from __future__ import annotations

import duckdb

from ouderpeil.contracts import Source
from ouderpeil.loading import reasons
from ouderpeil.loading.profiles import NON_BREAKING_SPACES

CELL_PROBLEM = "\ue000"  # private-use character: a reader's marker, never in real data
REPLACEMENT = "\ufffd"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_id_column(name: str, kind: str) -> bool:
    return kind == "text" and (name.endswith("_id") or name.endswith("_ref"))


def normalise_staged(
    con: duckdb.DuckDBPyConnection, staged: str, problems: str, source: Source, columns: list[str]
) -> None:
    """Normalise the mapped ``columns`` of ``staged`` in place and write the cell problems
    into the TEMP table ``problems`` (row_number, column_name, value, reason)."""
    con.execute(
        f"CREATE TEMP TABLE {problems} (row_number BIGINT, column_name VARCHAR, "
        "value VARCHAR, reason VARCHAR)"
    )
    if not columns:
        return
    kinds = {c.name: c.type for c in source.columns}
    person = {c.name for c in source.columns if c.person_id}
    cleaned = []
    for name in columns:
        col = _quote(name)
        text = col
        for space in NON_BREAKING_SPACES:
            text = f"replace({text}, chr({ord(space)}), ' ')"
        # Readers already trimmed: plain ASCII (strlen = bytes = characters) needs nothing more,
        # which spares the replace and NFC passes for nearly every value.
        text = (
            f"CASE WHEN strlen({col}) = length({col}) THEN {col} "
            f"ELSE NULLIF(nfc_normalize(trim({text})), '') END"
        )
        if is_id_column(name, kinds.get(name, "text")):
            text = (
                f"CASE WHEN contains({col}, '.') OR contains({col}, ',') THEN "
                f"regexp_replace({text}, '^([0-9]+)[.,]0+$', '\\1') ELSE {text} END"
            )
        cleaned.append(f"{text} AS {col}")
    others = [c for c in _staged_columns(con, staged) if c not in columns]
    con.execute(
        f"CREATE TEMP TABLE {staged}_normalised AS SELECT "
        + ", ".join([_quote(c) for c in others] + cleaned)
        + f" FROM {staged}"
    )
    # Every problem needs a non-ASCII character (the markers, U+FFFD) or, in an id, an
    # exponent: only such rows are checked column by column.
    ids = [n for n in columns if is_id_column(n, kinds.get(n, "text"))]
    every = "concat(" + ", ".join(_quote(n) for n in columns) + ")"
    suspect = [f"strlen({every}) <> length({every})"] + [
        f"regexp_matches({_quote(n)}, '[0-9][eE]')" for n in ids
    ]
    con.execute(
        f"CREATE TEMP TABLE {problems}_rows AS SELECT * FROM {staged}_normalised "
        f"WHERE {' OR '.join(suspect)}"
    )
    checks = []
    for name in columns:
        col = _quote(name)
        # A person id's text never leaves this function: its reject shows no value.
        shown = (
            "NULL::VARCHAR"
            if name in person
            else f"left(replace({col}, chr({ord(CELL_PROBLEM)}), ''), 200)"
        )
        checks.append(
            f"SELECT _row_number, '{name}', {shown}, CASE "
            f"WHEN starts_with({col}, chr({ord(CELL_PROBLEM)})) "
            f"THEN substr({col}, 2) "
            f"WHEN contains({col}, chr({ord(REPLACEMENT)})) THEN '{reasons.UNDECODABLE_TEXT}' "
            + (
                f"WHEN regexp_full_match({col}, '[+-]?[0-9]+([.,][0-9]+)?[eE][+-]?[0-9]+') "
                f"THEN '{reasons.ID_AS_NUMBER}' "
                if is_id_column(name, kinds.get(name, "text"))
                else ""
            )
            + f"END AS reason FROM {problems}_rows"
        )
    con.execute(
        f"INSERT INTO {problems} SELECT * FROM ("
        + " UNION ALL ".join(checks)
        + ") WHERE reason IS NOT NULL"
    )
    con.execute(f"DROP TABLE {problems}_rows")
    # Cells with a problem hold no value: nothing else reads them (nor pseudonymises them).
    nulls = ", ".join(
        f"{_quote(n)} = CASE WHEN EXISTS (SELECT 1 FROM {problems} p WHERE p.row_number = "
        f"s._row_number AND p.column_name = '{n}') THEN NULL ELSE {_quote(n)} END"
        for n in columns
    )
    con.execute(f"DROP TABLE {staged}")
    con.execute(f"ALTER TABLE {staged}_normalised RENAME TO {staged}")
    if con.execute(f"SELECT count(*) FROM {problems}").fetchall()[0][0]:
        con.execute(f"UPDATE {staged} AS s SET {nulls}")


def _staged_columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
