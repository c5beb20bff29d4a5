"""Which rows of marts.fct_indicator the marts gate still has to look at.

A daily build replaces the indicators of one school year, and of those only the periods the
day's data changed differ from what passed the last gate; validating all of fct_indicator
(0.9 M rows at region scale) every day made the gate grow with the history. The gate therefore
splits the marts suite in three:

* the column set, checked on the column names alone (no rows);
* the expectations about the whole table (row count, sectors present, the share suppressed,
  anything with `mostly`, and every expectation type not known to be row by row): on every row,
  reading only the columns they name;
* the row-by-row expectations (not null, in set, between, regex, column pairs, uniqueness): on
  the rows that differ from every row the last passing gate saw, plus the rows that share a
  unique key with one of them or with each other (so a duplicate is still found), plus every
  row whose exact copy occurs twice.

A row is identified by the hash of everything the suite sees of it (all columns, the joined
`unit`, `is_gap`): a row-by-row expectation gives the same answer for the same row, so a row
that passed once need not be checked again while the suite and the parameters it uses are the
same. The hashes of the last passing gate are kept in <gx_dir>/marts_gate_passed.parquet with a
fingerprint of the suite in marts_gate_passed.json; a failed gate remembers nothing, a changed
suite or ``full=True`` validates every row. Like the raw gate, a warning is reported by the
gate that first sees the row.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ouderpeil.config import Settings
from ouderpeil.quality import frames

TABLE = "marts.fct_indicator"
STATE_FILE = "marts_gate_passed.json"
HASHES_FILE = "marts_gate_passed.parquet"
ROWS = "gate_marts_rows"  # temp table: the suite's view of every row, its hash, changed or not

# Expectations that judge each row on its own (or, for uniqueness, a row against the rows with
# the same key): what passed once passes again. Any other type judges the table as a whole.
ROW_BY_ROW = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_to_be_in_set",
        "expect_multicolumn_sum_to_equal",
        "expect_select_column_values_to_be_unique_within_record",
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
    }
)


@dataclass(frozen=True)
class MartsScope:
    everything: bool
    reason: str
    fingerprint: str
    rows_total: int
    rows_in_scope: int

    def describe(self) -> str:
        if self.everything:
            return f"all {self.rows_total} rows of {TABLE} ({self.reason})"
        return (
            f"{self.rows_in_scope} of {self.rows_total} rows of {TABLE} changed since the "
            f"last passing gate (row by row); whole-table checks on every row"
        )


def is_row_by_row(expectation: dict) -> bool:
    # `mostly` turns a row check into a share of the whole table.
    return expectation["type"] in ROW_BY_ROW and "mostly" not in expectation["kwargs"]


def split(suite: dict) -> tuple[dict | None, dict | None, dict | None]:
    """(column-set part, whole-table part, row-by-row part) of the marts suite; None if empty.
    The row-by-row part keeps the suite's name (its results are those of the old whole run)."""
    shape, rest = frames.split_shape(suite)
    whole = [e for e in rest["expectations"] if not is_row_by_row(e)]
    rows = [e for e in rest["expectations"] if is_row_by_row(e)]
    return (
        shape,
        {**suite, "name": f"{suite['name']}_table", "expectations": whole} if whole else None,
        {**suite, "expectations": rows} if rows else None,
    )


def _parameters_used(suite: dict) -> list[str]:
    found = set()

    def walk(value):
        if isinstance(value, dict):
            if "$PARAMETER" in value:
                found.add(value["$PARAMETER"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk([e["kwargs"] for e in suite["expectations"]])
    return sorted(found)


def fingerprint(rows_suite: dict | None, params: dict) -> str:
    """Of what decides a row's outcome: the row-by-row expectations and their parameters."""
    doc = {
        "suite": rows_suite,
        "parameters": {
            k: params.get(k) for k in _parameters_used(rows_suite or {"expectations": []})
        },
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _state_paths(settings: Settings) -> tuple[Path, Path]:
    return settings.gx_dir / STATE_FILE, settings.gx_dir / HASHES_FILE


def _passed_hashes(settings: Settings, print_: str) -> Path | None:
    """The hash file of the last passing gate with this fingerprint, else None."""
    state_path, hashes = _state_paths(settings)
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none or unreadable: validate everything, which is always correct
    if state.get("fingerprint") != print_ or not hashes.exists():
        return None
    return hashes


def decide(
    settings: Settings, con, rows_suite: dict | None, params: dict, full: bool = False
) -> MartsScope:
    """Builds the temp table ROWS (every row as the suite sees it, its hash, whether it is
    new) on the gate's connection; raises frames.MissingTable."""
    sql = frames.fct_indicator_sql(con)
    print_ = fingerprint(rows_suite, params)
    passed = None if full else _passed_hashes(settings, print_)
    reason = (
        "asked for every row"
        if full
        else "no earlier passing gate with this suite"
        if passed is None
        else "incremental"
    )
    if passed is None:
        changed = "true"
        join = ""
    else:
        changed = "p._row_hash IS NULL"
        join = (
            f"LEFT JOIN (SELECT DISTINCT _row_hash FROM read_parquet('{_quote(passed)}')) p "
            "ON p._row_hash = r._row_hash"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {ROWS} AS SELECT r.*, {changed} AS _changed FROM "
        f"(SELECT *, hash(*COLUMNS(*)) AS _row_hash FROM ({sql})) r {join}"
    )
    # An exact copy of a row that passed is a duplicate: both copies are checked.
    con.execute(
        f"UPDATE {ROWS} SET _changed = true WHERE NOT _changed AND _row_hash IN "
        f"(SELECT _row_hash FROM {ROWS} GROUP BY _row_hash HAVING count(*) > 1)"
    )
    total, in_scope = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _changed) FROM {ROWS}"
    ).fetchall()[0]
    return MartsScope(passed is None, reason, print_, total, in_scope)


def rows_frame(con, rows_suite: dict):
    """The changed rows and the unchanged ones sharing a unique key with a changed row."""
    keys = frames.unique_keys(rows_suite)
    changed = f"SELECT * EXCLUDE (_row_hash, _changed) FROM {ROWS} WHERE _changed"
    sharing = [
        f"SELECT o.* EXCLUDE (_row_hash, _changed) FROM {ROWS} o WHERE NOT o._changed AND "
        f"EXISTS (SELECT 1 FROM {ROWS} n WHERE n._changed AND "
        + " AND ".join(f'n."{c}" IS NOT DISTINCT FROM o."{c}"' for c in key)
        + ")"
        for key in keys
    ]
    # UNION between the key branches: an unchanged row sharing two keys is one row.
    sql = changed if not sharing else f"{changed} UNION ALL ({' UNION '.join(sharing)})"
    return con.execute(sql).df()


def whole_table_frame(con, whole_suite: dict):
    """Every row, with only the columns the whole-table expectations name (all of them when
    one has a row condition, which may name any column)."""
    conditional = any(e["kwargs"].get("row_condition") for e in whole_suite["expectations"])
    if conditional:
        select = "* EXCLUDE (_row_hash, _changed)"
    else:
        select = (
            ", ".join(f'"{c}"' for c in frames.suite_columns(whole_suite))
            or "NULL::TINYINT AS _row"
        )
    return con.execute(f"SELECT {select} FROM {ROWS}").df()


def stage_passed(settings: Settings, con) -> Path:
    """Write this gate's row hashes beside the state (committed only if the gate passes)."""
    _, hashes = _state_paths(settings)
    hashes.parent.mkdir(parents=True, exist_ok=True)
    staged = hashes.with_name(f"{HASHES_FILE}.{os.getpid()}.tmp")
    con.execute(
        f"COPY (SELECT DISTINCT _row_hash FROM {ROWS}) TO '{_quote(staged)}' (FORMAT parquet)"
    )
    return staged


def remember_passed(settings: Settings, scope: MartsScope, staged: Path) -> None:
    state_path, hashes = _state_paths(settings)
    staged.replace(hashes)
    tmp = state_path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"fingerprint": scope.fingerprint, "rows": scope.rows_total}), encoding="utf-8"
    )
    tmp.replace(state_path)


def forget_staged(staged: Path | None) -> None:
    if staged is not None:
        staged.unlink(missing_ok=True)


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
