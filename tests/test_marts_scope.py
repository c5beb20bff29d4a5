"""The marts gate checks row by row only the rows of fct_indicator the last passing gate did
not see (ouderpeil/quality/marts_scope.py), on a real DuckDB file with real GX validations:
a changed row, a new duplicate of an old key and an exact copy of a passed row are still
found; whole-table checks still see every row."""

from __future__ import annotations

import duckdb
from handmade_warehouse import build_handmade_warehouse, build_wide_marts, corrupt

from ouderpeil.quality import validate


def _blocking(result):
    return {(f.expectation, f.column) for f in result.failures}


def _share_row_where():
    # One unsuppressed proportion row of the hand-made marts.
    return (
        "rowid = (SELECT min(rowid) FROM marts.fct_indicator WHERE NOT suppressed "
        "AND indicator_code = 'contact_reach' AND period_type = 'school_year')"
    )


def test_a_passed_table_is_not_checked_again_but_every_change_is(settings):
    build_handmade_warehouse(settings)
    first = validate(settings, layer="marts", run_id="scope-1")
    assert first.success, first.summary()
    assert first.scope.startswith("all "), first.scope

    again = validate(settings, layer="marts", run_id="scope-2")
    assert again.success, again.summary()
    assert again.scope.startswith("0 of "), again.scope

    # A changed row: out of range, checked although the rest passed before.
    corrupt(
        settings,
        f"UPDATE marts.fct_indicator SET value = 1.4, ci_high = 1.5 WHERE {_share_row_where()}",
    )
    bad = validate(settings, layer="marts", run_id="scope-3")
    assert ("expect_column_values_to_be_between", "value") in _blocking(bad), bad.summary()
    assert bad.scope.startswith("1 of "), bad.scope
    # A failed gate remembers nothing: the same row fails again.
    assert not validate(settings, layer="marts", run_id="scope-4").success


def test_duplicates_of_passed_rows_are_found(settings):
    build_handmade_warehouse(settings)
    assert validate(settings, layer="marts", run_id="dup-1").success

    # An exact copy of a row that passed: both copies are in scope, uniqueness fails.
    corrupt(
        settings,
        f"INSERT INTO marts.fct_indicator SELECT * FROM marts.fct_indicator "
        f"WHERE {_share_row_where()}",
    )
    copy = validate(settings, layer="marts", run_id="dup-2")
    assert (
        "expect_compound_columns_to_be_unique",
        "indicator_code, period, sector, board_id, school_id, ses_group",
    ) in _blocking(copy), copy.summary()

    # A new row with an old row's key but other values: the old row joins the check.
    corrupt(
        settings,
        "DELETE FROM marts.fct_indicator WHERE rowid = "
        "(SELECT max(rowid) FROM marts.fct_indicator)",
    )
    assert validate(settings, layer="marts", run_id="dup-3").success
    corrupt(
        settings,
        f"INSERT INTO marts.fct_indicator SELECT * REPLACE (n + 1 AS n) "
        f"FROM marts.fct_indicator WHERE {_share_row_where()}",
    )
    other = validate(settings, layer="marts", run_id="dup-4")
    assert (
        "expect_compound_columns_to_be_unique",
        "indicator_code, period, sector, board_id, school_id, ses_group",
    ) in _blocking(other), other.summary()


def test_whole_table_checks_see_every_row(settings):
    build_handmade_warehouse(settings)
    assert validate(settings, layer="marts", run_id="whole-1").success
    # Removing a sector changes no remaining row: only the whole-table check can see it.
    corrupt(settings, "DELETE FROM marts.fct_indicator WHERE sector = 'mbo'")
    con = duckdb.connect(str(settings.warehouse_path))
    build_wide_marts(con)
    con.close()
    result = validate(settings, layer="marts", run_id="whole-2")
    assert result.scope.startswith("0 of "), result.scope
    assert ("expect_column_distinct_values_to_contain_set", "sector") in _blocking(result)
    # full=True checks every row again.
    assert validate(settings, layer="marts", run_id="whole-3", full=True).scope.startswith("all ")
