"""ouderpeil.engine_compare finds every kind of disagreement between two engines' tables, and
ouderpeil.spark_raw exports each load once (no Spark needed here: DuckDB on both sides)."""

from __future__ import annotations

import duckdb
import pytest

from ouderpeil.engine_compare import compare_table, compare_with_parquet, report


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE a (k VARCHAR, n INTEGER, v DOUBLE, s VARCHAR)")
    c.execute(
        "INSERT INTO a VALUES ('x', 1, 0.5, '50,0 %'), ('y', 2, NULL, NULL), ('y', 2, 1.0, 'z')"
    )
    yield c
    c.close()


def _other(con, sql):
    con.execute("CREATE OR REPLACE TABLE b AS SELECT * FROM a")
    if sql:
        con.execute(sql)
    return compare_table(con, "a", "b", "t")


def test_equal_tables_and_float_noise_are_equal(con):
    assert _other(con, None).equal
    noisy = _other(con, "UPDATE b SET v = v * (1 + 1e-12) WHERE k = 'x'")
    assert noisy.equal, noisy.problems
    assert 0 < noisy.max_float_difference < 1e-9


@pytest.mark.parametrize(
    "change, expected",
    [
        ("UPDATE b SET v = v + 1e-6 WHERE k = 'x'", "differ beyond"),
        ("UPDATE b SET v = NULL WHERE k = 'x'", "differ beyond"),
        ("UPDATE b SET s = '50,1 %' WHERE k = 'x'", "rows only on duckdb"),
        ("UPDATE b SET n = 3 WHERE k = 'x'", "rows only on spark"),
        ("DELETE FROM b WHERE k = 'x'", "3 rows on duckdb, 2 on spark"),
        ("INSERT INTO b VALUES ('y', 2, 1.0, 'z')", "4 on spark"),
        ("ALTER TABLE b DROP COLUMN s", "columns missing on spark: s"),
        ("ALTER TABLE b ADD COLUMN extra INTEGER", "columns only on spark: extra"),
    ],
)
def test_every_difference_is_reported(con, change, expected):
    result = _other(con, change)
    assert not result.equal
    assert expected in report([result]), report([result])


def test_missing_parquet_is_a_difference(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    c = duckdb.connect(str(warehouse))
    c.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 1 AS k")
    c.close()
    (result,) = compare_with_parquet(warehouse, [("marts", "t")], tmp_path / "nothing")
    assert not result.equal and "no Parquet files" in result.problems[0]


def test_raw_export_writes_each_load_once(loaded_settings, tmp_path):
    from ouderpeil.spark_raw import SCHEMA_FILE, export_raw

    first = export_raw(loaded_settings, tmp_path / "raw")
    assert first.files_written["messages"] >= 1, first
    again = export_raw(loaded_settings, tmp_path / "raw")
    assert sum(again.files_written.values()) == 0, again  # loads already exported stay as they are
    con = duckdb.connect(str(loaded_settings.warehouse_path), read_only=True)
    try:
        for table in ("messages", "raw_load_files", "raw_rejects"):
            files = sorted((tmp_path / "raw" / table).glob("*.parquet"))
            assert SCHEMA_FILE in {f.name for f in files}
            listing = "[" + ", ".join(f"'{f}'" for f in files) + "]"
            exported = con.execute(f"SELECT count(*) FROM read_parquet({listing})").fetchall()[0][0]
            assert exported == con.execute(f"SELECT count(*) FROM raw.{table}").fetchall()[0][0]
    finally:
        con.close()
