"""One dbt project, two engines: the small sample built on DuckDB and on Apache Spark
(local[2], dbt-spark session mode) from the same raw loads, then one new school day built
incrementally on both; every mart (and the seeds) must be equal row for row
(ouderpeil.engine_compare: non-float columns exactly, floats within 1e-9 relative).

Flow, as production would run it (docs/SCALE_OUT.md): the loader writes DuckDB's raw layer,
ouderpeil.spark_raw exports the new loads as Parquet, both engines build with the same build
plan (the school years the new loads touch), and Spark writes its marts as Parquet
(macro export_marts_parquet) for the comparison.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from conftest import make_settings  # tests/conftest.py

pytestmark = [pytest.mark.slow, pytest.mark.spark]

# A school day (Tuesday) in the sample's last school year; its ids carry the date, so they
# are new (as in tests/test_build_plan.py and bench/run.py).
NEW_DAY = "2026-03-10"
COMPARED_SCHEMAS = ("marts", "seeds")
TIMINGS: dict[str, float] = {}
NODES: dict[str, dict[str, float]] = {}
# Timings of the last run (seconds, per step and per Spark node), for docs/SCALE_OUT.md.
TIMINGS_FILE = Path(__file__).resolve().parents[2] / "test-artifacts" / "spark" / "timings.json"


def _compared_tables(warehouse: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [
            tuple(r)
            for r in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                f"WHERE table_schema IN ({', '.join(repr(s) for s in COMPARED_SCHEMAS)}) "
                "ORDER BY 1, 2"
            ).fetchall()
        ]
    finally:
        con.close()


def _build_both(settings, label: str, unit_tests: bool = True) -> list:
    """Plan, DuckDB build, raw export, Spark build with the same plan; then compare.

    dbt's unit tests have fixed inputs: their result on Spark cannot change between the two
    builds, and on 2 cores they are most of a Spark build (the three disclosure-pattern tests
    took 9 of 12 minutes), so the second build leaves them out."""
    from ouderpeil.build_plan import build_args
    from ouderpeil.engine_compare import compare_with_parquet
    from ouderpeil.spark_build import run_dbt_spark
    from ouderpeil.spark_raw import export_raw
    from ouderpeil.transform import run_build

    args = build_args(settings)
    t = time.time()
    run_build(settings, args)
    TIMINGS[f"{label}: duckdb build"] = time.time() - t
    t = time.time()
    export = export_raw(settings)
    TIMINGS[f"{label}: raw export"] = time.time() - t
    print(export)
    out = settings.data_dir / "spark" / f"marts-{label}"
    env = {
        **args.dbt_env(),
        "OUDERPEIL_SPARK_MARTS_OUT": str(out),
        "OUDERPEIL_SPARK_EXPORT_SCHEMAS": ",".join(COMPARED_SCHEMAS),
    }
    t = time.time()
    exclude = " ".join(
        filter(None, [args.exclude, None if unit_tests else "resource_type:unit_test"])
    )
    result = run_dbt_spark(settings, "build", env=env, exclude=exclude or None)
    TIMINGS[f"{label}: spark build"] = time.time() - t
    TIMINGS[f"{label}: load average after"] = os.getloadavg()[0]
    NODES[label] = result.timings()
    print(result)
    return args, compare_with_parquet(
        settings.warehouse_path, _compared_tables(settings.warehouse_path), out
    )


@pytest.fixture(scope="module")
def engines(tmp_path_factory, small_inbox):
    from ouderpeil.generate import generate_day
    from ouderpeil.loading import load_inbox

    settings = make_settings(tmp_path_factory.mktemp("engines") / "data")
    shutil.copytree(small_inbox, settings.inbox_dir, dirs_exist_ok=True)
    load_inbox(settings)
    first_args, first = _build_both(settings, "first")
    generate_day(settings.inbox_dir, scale="small", seed=7, day=NEW_DAY)
    load_inbox(settings)
    day_args, day = _build_both(settings, "day", unit_tests=False)
    print("\n".join(f"{k}: {v:.1f}" for k, v in TIMINGS.items()))
    TIMINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS_FILE.write_text(
        json.dumps({"steps": TIMINGS, "spark_nodes": NODES, "cpus": os.cpu_count()}, indent=1)
    )
    return {"first": (first_args, first), "day": (day_args, day)}


def _assert_equal(comparisons):
    from ouderpeil.engine_compare import report

    text = report(comparisons)
    print(text)
    assert comparisons, "nothing was compared"
    assert all(c.equal for c in comparisons), "DuckDB and Spark disagree:\n" + text


def test_first_build_equal_on_both_engines(engines):
    args, comparisons = engines["first"]
    assert args.school_year == "", args  # the first build covers every school year
    names = {c.table for c in comparisons}
    assert {
        "fct_indicator",
        "mart_indicator_dashboard",
        "mart_channel_mix",
        "mart_national_reference",
        "municipality_region",
    } <= names, names
    fct = next(c for c in comparisons if c.table == "fct_indicator")
    assert fct.rows_left > 1000, fct  # both empty would be "equal" too
    _assert_equal(comparisons)


def test_new_day_built_incrementally_equal_on_both_engines(engines):
    args, comparisons = engines["day"]
    # the day touches one school year: both engines replace only that year's rows
    assert args.school_year == "2025-2026", args
    first_rows = {c.table: c.rows_left for c in engines["first"][1]}
    day_rows = {c.table: c.rows_left for c in comparisons}
    assert day_rows["fct_indicator"] >= first_rows["fct_indicator"], (first_rows, day_rows)
    _assert_equal(comparisons)
