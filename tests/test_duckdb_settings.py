"""DuckDB's memory limit and spill directory (ouderpeil/duckdb_settings.py), on real files: a
query larger than the limit spills and succeeds, for the writer and for a read-only reader."""

from __future__ import annotations

import os
import subprocess

import duckdb
import pytest

from ouderpeil import duckdb_settings

# Sorting 1.5M 64-char strings needs more than the 100MB limit: it has to spill (checked
# below: without a spill directory the same query runs out of memory).
ROWS = 1500000
SPILLING_QUERY = (
    "SELECT count(*), min(s) FROM (SELECT md5(i::VARCHAR) || "
    f"md5((i * 7)::VARCHAR) AS s FROM range({ROWS}) t(i) ORDER BY s)"
)
LIMIT = "100MB"


def test_writer_and_reader_spill_to_their_own_directories(tmp_path, monkeypatch):
    monkeypatch.delenv(duckdb_settings.TEMP_DIR_ENV, raising=False)
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("SET threads = 1")
    con.execute(f"SET memory_limit = '{LIMIT}'")
    con.execute("SET temp_directory = ''")  # no spilling: the query cannot fit
    with pytest.raises(duckdb.OutOfMemoryException):
        con.execute(SPILLING_QUERY).fetchall()
    duckdb_settings.apply(con, db, LIMIT)
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert con.execute(SPILLING_QUERY).fetchall()[0][0] == ROWS
    assert con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] == str(
        tmp_path / "warehouse.duckdb.tmp"
    )
    con.close()

    reader = duckdb.connect(str(db), read_only=True)
    reader.execute("SET threads = 1")
    duckdb_settings.apply(reader, db, LIMIT, reader=True)
    assert reader.execute(SPILLING_QUERY).fetchall()[0][0] == ROWS
    used = reader.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    assert used.startswith(str(tmp_path / "warehouse.duckdb.tmp-reader-")), used
    reader.close()


def test_dbt_gets_the_same_limit_and_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(duckdb_settings.MEMORY_LIMIT_ENV, "3GB")
    monkeypatch.delenv(duckdb_settings.TEMP_DIR_ENV, raising=False)
    env = duckdb_settings.dbt_env(tmp_path / "w.duckdb")
    assert env == {
        duckdb_settings.MEMORY_LIMIT_ENV: "3GB",
        duckdb_settings.TEMP_DIR_ENV: str(tmp_path / "w.duckdb.tmp"),
    }


def test_a_dbt_build_that_spills_goes_on_in_every_thread(tmp_path, monkeypatch):
    """dbt with two threads through the project's own profile: a model spills, then more
    models open cursors of their own. A spill directory given per cursor (dbt-duckdb's
    `settings:`) fails there ("Cannot switch temporary directory after the current one has
    been used"), as it failed the full region build; the profile gives it once, when the
    database is opened (`config_options:`)."""
    from ouderpeil.config import REPO_ROOT
    from ouderpeil.transform import DBT_ENV, dbt_executable

    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: spill_probe\nversion: '1.0'\nprofile: ouderpeil\nmodel-paths: [models]\n"
        "models:\n  +materialized: table\n"
    )
    (project / "models" / "spill.sql").write_text(SPILLING_QUERY)
    for i in range(4):  # after the spill: new cursors in both threads
        (project / "models" / f"after_{i}.sql").write_text("select * from {{ ref('spill') }}")
    warehouse = tmp_path / "warehouse.duckdb"
    env = {
        **DBT_ENV,
        "OUDERPEIL_WAREHOUSE": str(warehouse),
        duckdb_settings.MEMORY_LIMIT_ENV: LIMIT,
        duckdb_settings.TEMP_DIR_ENV: str(tmp_path / "warehouse.duckdb.tmp"),
        "OUDERPEIL_DBT_THREADS": "2",
    }
    proc = subprocess.run(
        [
            str(dbt_executable()),
            "run",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(REPO_ROOT / "dbt_project"),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "PASS=5" in proc.stdout, proc.stdout[-2000:]
