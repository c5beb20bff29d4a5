"""publish(): a serving file built from the marts, swapped in atomically, only after the gate.

Readers run in separate processes, like Superset: DuckDB caches open databases per process,
so only another process shows what a real reader sees across the os.replace.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap

import duckdb
import pytest
from handmade_warehouse import build_handmade_warehouse, build_wide_marts, corrupt

from ouderpeil.errors import QualityGateFailed
from ouderpeil.publish import PERSON_COLUMNS, publish
from ouderpeil.quality import gate

READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def report(tables):
        run = con.execute("SELECT run_id FROM publish_run ORDER BY published_at DESC, run_id "
                          "LIMIT 1").fetchone()[0]
        # Full scans of tables this connection has not read yet: DuckDB loads data blocks
        # lazily, so these read the file *after* the swap; an in-place rewrite would hand the
        # reader blocks of the new file (checksum errors or wrong rows).
        counts = [con.execute(f"SELECT count(*), sum(hash(*COLUMNS(*))::HUGEINT)::VARCHAR "
                              f"FROM {t}").fetchone() for t in tables]
        print(run, *[f"{n}:{h}" for n, h in counts], flush=True)
    report(sys.argv[2:])
    for line in sys.stdin:      # one more report per line: the tables to scan
        report(line.split())
""")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read(path, *tables) -> list[str]:
    """A fresh reader process: latest run id and row count:hash of each table."""
    out = subprocess.run(
        [sys.executable, "-c", READER, str(path), *tables],
        input="",
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def _latest_run(path) -> str:
    return _read(path)[0]


@pytest.fixture
def handmade(settings):
    build_handmade_warehouse(settings)
    return settings


def test_publish_without_a_passed_gate_is_refused(handmade):
    with pytest.raises(QualityGateFailed, match="no marts quality gate result"):
        publish(handmade, run_id="never-gated")
    assert not handmade.serving_path.exists()


def test_publish_writes_the_serving_tables(handmade):
    s = handmade
    gate(s, layer="marts", run_id="run-1")
    path = publish(s, run_id="run-1")
    assert path == s.serving_path
    con = duckdb.connect(str(path), read_only=True)
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    assert tables == {
        "indicator",
        "channel_mix",
        "national_reference",
        "indicator_catalogue",
        "equity_gap",
        "publish_run",
    }
    wh = duckdb.connect(str(s.warehouse_path), read_only=True)
    expected = wh.execute("SELECT count(*) FROM marts.mart_indicator_dashboard").fetchone()[0]
    files = wh.execute("SELECT count(*) FROM raw.raw_load_files").fetchone()[0]
    wh.close()
    run = con.execute(
        "SELECT run_id, validation_success, rows_indicator, input_files, "
        "code_version FROM publish_run"
    ).fetchall()
    assert len(run) == 1
    run_id, ok, rows, inputs, version = run[0]
    assert (run_id, ok, rows) == ("run-1", True, expected)
    assert con.execute("SELECT count(*) FROM indicator").fetchone()[0] == expected
    assert len(json.loads(inputs)) == files and version
    # Aggregates only: no table carries a person-level column.
    cols = {
        r[0] for r in con.execute("SELECT column_name FROM information_schema.columns").fetchall()
    }
    assert not cols & PERSON_COLUMNS
    con.close()
    # Nothing but the serving file is left in its folder (no temp file, no WAL).
    assert sorted(p.name for p in s.serving_path.parent.iterdir()) == [s.serving_path.name]


def test_reader_of_the_old_file_keeps_working_and_new_readers_see_the_new_run(handmade, tmp_path):
    s = handmade
    gate(s, layer="marts", run_id="run-1")
    publish(s, run_id="run-1")
    tables = ("indicator", "channel_mix", "indicator_catalogue")
    # What the old file holds, read from a byte copy of it.
    old_copy = tmp_path / "old.duckdb"
    old_copy.write_bytes(s.serving_path.read_bytes())
    expected_old = _read(old_copy, *tables)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(s.serving_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().split() == ["run-1"]
        # Another run with fewer rows, so old and new file differ in every table but one.
        corrupt(s, "DELETE FROM marts.fct_indicator WHERE period = '2025-10' AND school_id = 'ALL'")
        con = duckdb.connect(str(s.warehouse_path))
        build_wide_marts(con)
        con.close()
        gate(s, layer="marts", run_id="run-2")
        publish(s, run_id="run-2")
        reader.stdin.write(" ".join(tables) + "\n")
        reader.stdin.flush()
        during = reader.stdout.readline().split()
        assert during == expected_old  # the old reader still reads the old file, whole
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=60) == 0
    after = _read(s.serving_path, *tables)
    assert after[0] == "run-2" and after[1:3] != expected_old[1:3]
    con = duckdb.connect(str(s.serving_path), read_only=True)
    history = con.execute(
        "SELECT run_id, rows_indicator FROM publish_run ORDER BY published_at, run_id"
    ).fetchall()
    con.close()
    assert [r[0] for r in history] == ["run-1", "run-2"]
    assert history[1][1] < history[0][1]


def test_a_failed_gate_leaves_the_serving_file_byte_identical(handmade):
    s = handmade
    gate(s, layer="marts", run_id="run-1")
    publish(s, run_id="run-1")
    before = _sha(s.serving_path)
    corrupt(
        s,
        "UPDATE marts.fct_indicator SET suppressed = false, suppression_reason = NULL, "
        "value = 0.5 WHERE n < 10",
    )
    with pytest.raises(QualityGateFailed):
        gate(s, layer="marts", run_id="run-2")
    with pytest.raises(QualityGateFailed, match="failed for run 'run-2'.*expect_column_values"):
        publish(s, run_id="run-2")
    assert _sha(s.serving_path) == before
    assert _latest_run(s.serving_path) == "run-1"
    assert sorted(p.name for p in s.serving_path.parent.iterdir()) == [s.serving_path.name]


def test_marts_changed_after_the_gate_are_not_published(handmade):
    s = handmade
    gate(s, layer="marts", run_id="run-1")
    corrupt(
        s,
        "UPDATE marts.mart_indicator_dashboard SET value = 0.99 WHERE NOT suppressed "
        "AND indicator_code = 'contact_reach'",
    )
    with pytest.raises(QualityGateFailed, match="changed after the quality gate"):
        publish(s, run_id="run-1")
    assert not s.serving_path.exists()
    assert list(s.serving_path.parent.iterdir()) == []


@pytest.mark.slow
def test_real_publish(published_settings):
    s = published_settings
    assert _latest_run(s.serving_path) == "test-run"
    con = duckdb.connect(str(s.serving_path), read_only=True)
    wh = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        for table, mart in (
            ("indicator", "mart_indicator_dashboard"),
            ("channel_mix", "mart_channel_mix"),
            ("national_reference", "mart_national_reference"),
            ("equity_gap", "mart_equity_gap"),
        ):
            n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert n == wh.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0], table
        assert con.execute("SELECT count(*) FROM indicator_catalogue").fetchone()[0] > 0
        cols = {
            r[0]
            for r in con.execute("SELECT column_name FROM information_schema.columns").fetchall()
        }
        assert not cols & PERSON_COLUMNS
        assert (
            con.execute(
                "SELECT count(*) FROM indicator WHERE suppressed AND "
                "(value IS NOT NULL OR numerator IS NOT NULL)"
            ).fetchone()[0]
            == 0
        )
        inputs = json.loads(
            con.execute("SELECT input_files FROM publish_run WHERE run_id = 'test-run'").fetchone()[
                0
            ]
        )
        assert inputs and all(len(f["file_hash"]) == 64 for f in inputs)
    finally:
        con.close()
        wh.close()
