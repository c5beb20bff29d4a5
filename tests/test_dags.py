"""The Airflow side, for real: DAG files parsed by Airflow's DagBag, and the pipeline run
through `airflow dags test` on the small sample data (ouderpeil.orchestration.local).

No Airflow mocks. Every Airflow process gets its own AIRFLOW_HOME (SQLite) under tmp, so the
tests never touch ~/airflow or the demo's data/airflow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import make_settings

from ouderpeil.config import REPO_ROOT

pytestmark = pytest.mark.slow

INGEST, BUILD, EXPORT, RETENTION = (
    "ouderpeil_ingest",
    "ouderpeil_build",
    "ouderpeil_export",
    "ouderpeil_retention",
)
SOURCES = ["schools", "families", "contact_logs", "messages", "message_events", "survey_responses"]
POOL = "duckdb_writer"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _describe_dags(settings, airflow_home: Path, tmp_path: Path, **extra_env) -> dict:
    """Parse dags/ with Airflow's DagBag in a fresh process (its config reads AIRFLOW_HOME)."""
    from ouderpeil.orchestration.local import airflow_env

    env = airflow_env(settings, airflow_home)
    # The production retry settings, not the local runner's short ones.
    env.pop("OUDERPEIL_AIRFLOW_RETRIES")
    env.pop("OUDERPEIL_AIRFLOW_RETRY_DELAY_SECONDS")
    env.update(extra_env)
    out = tmp_path / "dags.json"
    proc = subprocess.run(
        [sys.executable, "-m", "ouderpeil.orchestration.inspect_dags", "--json", str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=600,
    )
    assert out.exists(), f"DagBag parse crashed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(out.read_text())


def _assert_unpausing_waits_for_the_next_slot(dag_id: str, serialized: dict, monkeypatch) -> None:
    """The DAG's timetable, rebuilt as the scheduler stores it, asked for its first run when it
    is unpaused a second, five minutes, an hour, a day or a week after each slot of 2026."""
    import airflow.timetables.trigger as trigger
    from airflow.timetables.base import TimeRestriction

    timetable = trigger.CronTriggerTimetable.deserialize(serialized)

    def slot_from(moment: dt.datetime) -> dt.datetime:
        every = TimeRestriction(earliest=moment, latest=None, catchup=True)
        return timetable.next_dagrun_info(
            last_automated_data_interval=None, restriction=every
        ).run_after

    unpaused = TimeRestriction(earliest=None, latest=None, catchup=False)
    slot = slot_from(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    while slot.year == 2026:
        for after in (
            dt.timedelta(seconds=1),
            dt.timedelta(minutes=5),
            dt.timedelta(hours=1),
            dt.timedelta(days=1),
            dt.timedelta(days=7),
        ):
            now = slot + after
            with monkeypatch.context() as clock:
                clock.setattr(trigger, "utcnow", lambda now=now: now)
                first = timetable.next_dagrun_info(
                    last_automated_data_interval=None, restriction=unpaused
                )
            assert first.run_after > now, (
                f"{dag_id}: unpaused {after} after its slot of {slot}, it runs that slot at once"
            )
        slot = slot_from(slot + dt.timedelta(seconds=1))


@pytest.fixture(scope="module")
def manifest_settings(tmp_path_factory):
    """A data dir with a dbt manifest (dbt parse), so the build DAG renders per-model tasks."""
    from ouderpeil.transform import run_dbt

    settings = make_settings(tmp_path_factory.mktemp("dagbag") / "data")
    run_dbt(settings, command="parse")
    return settings


def _dbt_nodes(settings) -> set[str]:
    """Models and seeds of the dbt project according to the manifest the DAG was built from."""
    from ouderpeil.orchestration.dbt import manifest_path

    manifest = json.loads(manifest_path(settings).read_text())
    return {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed") and n["package_name"] == "ouderpeil"
    }


def test_dagbag_imports_every_dag_with_pools_retries_and_assets(
    manifest_settings, tmp_path, monkeypatch
):
    desc = _describe_dags(manifest_settings, tmp_path / "airflow", tmp_path)
    assert desc["import_errors"] == {}
    dags = desc["dags"]
    assert set(dags) == {INGEST, BUILD, EXPORT, RETENTION}

    # Ingest: a short look at the inbox, then one load task per source in contract order,
    # each emitting its raw table's Asset.
    ingest = dags[INGEST]["tasks"]
    assert set(ingest) == {"find_new_files", "inbox_loaded"} | {f"load_{s}" for s in SOURCES}
    for prev, source in zip(["find_new_files"] + [f"load_{s}" for s in SOURCES], SOURCES):
        task = ingest[f"load_{source}"]
        assert task["outlets"] == [f"ouderpeil_raw_{source}"]
        assert prev in task["upstream"]
        assert task["trigger_rule"] == "none_failed"  # an earlier source with nothing new
    assert dags[INGEST]["timetable"] == "CronTriggerTimetable"
    # After every load, one event for the whole run (the build's schedule): a build never
    # starts between two loads of one inbox.
    done = ingest["inbox_loaded"]
    assert done["outlets"] == ["ouderpeil_inbox_loaded"]
    assert done["upstream"] == sorted(f"load_{s}" for s in SOURCES)
    assert done["trigger_rule"] == "none_failed_min_one_success"

    # Build: scheduled on every raw Asset; plan_build -> gate_raw -> one task per dbt
    # model/seed -> gate_marts -> publish.
    build = dags[BUILD]
    assert build["asset_schedule"] == ["ouderpeil_inbox_loaded"]
    assert build["params"] == {"period": None}
    tasks = build["tasks"]
    dbt_tasks = {t: v for t, v in tasks.items() if t.startswith("dbt.")}
    nodes = _dbt_nodes(manifest_settings)
    assert len(nodes) > 10
    rendered = {t.split(".", 1)[1].rsplit("_", 2)[0] for t in dbt_tasks}
    assert rendered == nodes, "one Airflow task per dbt model and seed"
    for t in dbt_tasks.values():
        assert t["operator"] == "DbtBuildLocalOperator"
        # the plan (the backfill param, or the school years and months the new loads touch)
        assert t["env"] == {
            f"OUDERPEIL_{name}": f"{{{{ ti.xcom_pull(task_ids='plan_build')['{key}'] }}}}"
            for name, key in (
                ("SCHOOL_YEARS", "school_year"),
                ("BUILD_MONTHS", "months"),
                ("PLAN_LOADED_UPTO", "loaded_upto"),
                ("PLAN_FINGERPRINT", "fingerprint"),
            )
        }
    # gate_raw before the first dbt nodes, gate_marts after the last ones.
    roots = {t for t, v in dbt_tasks.items() if not any(u in dbt_tasks for u in v["upstream"])}
    used = {u for v in dbt_tasks.values() for u in v["upstream"]}
    leaves = set(dbt_tasks) - used
    assert roots and all(dbt_tasks[t]["upstream"] == ["gate_raw"] for t in roots)
    assert tasks["gate_raw"]["upstream"] == ["plan_build"]
    assert set(tasks["gate_marts"]["upstream"]) == leaves
    assert "dbt.fct_indicator_model_build" in used | leaves
    assert tasks["publish"]["upstream"] == ["gate_marts"]
    assert tasks["gate_marts"]["outlets"] == ["ouderpeil_marts"]
    assert tasks["publish"]["outlets"] == ["ouderpeil_serving"]

    assert set(dags[EXPORT]["params"]) == {"period", "sector", "board", "format"}
    assert dags[EXPORT]["timetable"] == "CronTriggerTimetable"
    assert set(dags[RETENTION]["tasks"]) == {"purge"}
    # Unpausing them (make demo) must not export or purge at once, however soon after a slot.
    for dag_id in (EXPORT, RETENTION):
        assert dags[dag_id]["timetable"] == "CronTriggerTimetable"
        assert dags[dag_id]["start_date"] is None
        _assert_unpausing_waits_for_the_next_slot(
            dag_id, dags[dag_id]["cron_timetable"], monkeypatch
        )
    assert dags[INGEST]["start_date"] is not None

    # Every task: retries with exponential backoff, the data-error retry policy and the
    # failure callback; every task that opens the warehouse is in the one-slot pool.
    warehouse_tasks = 0
    for dag_id, dag in dags.items():
        assert dag["max_active_runs"] == 1 and dag["catchup"] is False
        for task_id, task in dag["tasks"].items():
            where = f"{dag_id}.{task_id}"
            assert task["retries"] == 3, where
            assert task["retry_exponential_backoff"] == 2.0, where
            assert task["max_retry_delay"] == 1800.0, where
            assert task["has_retry_policy"] and task["on_failure_callback"], where
            if task_id not in ("export_indicators", "inbox_loaded"):
                assert task["pool"] == POOL, where
                warehouse_tasks += 1
    assert warehouse_tasks == 7 + len(dbt_tasks) + 4 + 1


def test_build_dag_falls_back_to_one_dbt_task_without_manifest(tmp_path):
    settings = make_settings(tmp_path / "data")  # fresh data dir: no dbt manifest yet
    desc = _describe_dags(settings, tmp_path / "airflow", tmp_path)
    assert desc["import_errors"] == {}
    tasks = desc["dags"][BUILD]["tasks"]
    assert set(tasks) == {"plan_build", "gate_raw", "dbt_build", "gate_marts", "publish"}
    assert tasks["dbt_build"]["pool"] == POOL
    assert tasks["gate_marts"]["upstream"] == ["dbt_build"]


# --------------------------------------------------------------------------- real runs
@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, small_inbox):
    """ingest -> build -> export through real `airflow dags test` runs on the small data."""
    from ouderpeil.orchestration.local import run_pipeline_dags

    root = tmp_path_factory.mktemp("airflow_chain")
    settings = make_settings(root / "data")
    shutil.copytree(small_inbox, settings.inbox_dir, dirs_exist_ok=True)
    details: dict = {}
    states = run_pipeline_dags(settings, root / "airflow", details=details)
    timings = {k: (v if k == "prepare" else round(v.seconds, 1)) for k, v in details.items()}
    print(f"\nAirflow timings (s): {timings}")
    return settings, root / "airflow", states, details


def test_chain_runs_through_airflow_and_publishes(pipeline):
    settings, airflow_home, states, details = pipeline
    assert states == {INGEST: "success", BUILD: "success", EXPORT: "success"}

    ingest = details[INGEST].task_states
    assert ingest["find_new_files"] == "success"
    assert all(ingest[f"load_{s}"] == "success" for s in SOURCES), ingest

    build = details[BUILD].task_states
    dbt_states = {t: s for t, s in build.items() if t.startswith("dbt.")}
    assert len(dbt_states) > 10 and set(dbt_states.values()) == {"success"}, dbt_states
    for task in ("plan_build", "gate_raw", "gate_marts", "publish"):
        assert build[task] == "success", build
    # The plan's vars reached every cosmos task: the build recorded its watermark.
    from ouderpeil.build_plan import WATERMARK, project_fingerprint

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        recorded = con.execute(
            f"SELECT project_fingerprint, school_years FROM {WATERMARK}"
        ).fetchall()
    finally:
        con.close()
    assert recorded == [(project_fingerprint(settings.dbt_project_dir), "")]

    # The serving file carries the Airflow run's id (ouderpeil.orchestration.runs).
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        run_id, ok = con.execute(
            "SELECT run_id, validation_success FROM publish_run ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
        assert con.execute("SELECT count(*) FROM indicator").fetchone()[0] > 0
    finally:
        con.close()
    assert ok and run_id.startswith(f"{BUILD}.manual__")
    assert ":" not in run_id and "+" not in run_id

    exports = list(settings.exports_dir.glob(f"{run_id}/*/datapackage.json"))
    assert exports, f"no export under {settings.exports_dir}"
    assert not (settings.logs_dir / "failures.log").exists()


def test_ingest_without_new_files_skips_every_load(pipeline):
    """Nothing new in the inbox: no load runs, so no raw Asset event triggers a build."""
    from ouderpeil.orchestration.local import run_dag

    settings, airflow_home, _, _ = pipeline
    result = run_dag(settings, airflow_home, INGEST)
    assert result.state == "success"
    assert result.task_states["find_new_files"] == "success"
    assert {result.task_states[f"load_{s}"] for s in SOURCES} == {"skipped"}


def _negative_standard_errors(settings) -> dict[str, int]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return dict(
            con.execute(
                "SELECT school_year, count(*) FILTER (WHERE standard_error < 0) "
                "FROM intermediate.int_indicator_values GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.close()


def test_backfill_rebuilds_only_the_given_school_year(pipeline):
    """Trigger the build with params {"period": "2024-2025"}: only that year is rebuilt.

    A marker makes "not touched" visible: the sign of standard_error in the incremental
    int_indicator_values is flipped for every year (downstream only uses its square, so the
    gates and publish see the same data). A rebuilt year loses the marker, an untouched one
    keeps it.
    """
    from ouderpeil.orchestration.local import run_dag

    settings, airflow_home, _, _ = pipeline
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute(
            "UPDATE intermediate.int_indicator_values "
            "SET standard_error = -standard_error WHERE standard_error > 0"
        )
    finally:
        con.close()
    marked = _negative_standard_errors(settings)
    # The sample holds 2024-2025, 2025-2026 and the current school year up to yesterday.
    assert {"2024-2025", "2025-2026"} <= set(marked) and min(marked.values()) > 0

    result = run_dag(settings, airflow_home, BUILD, conf={"period": "2024-2025"})
    assert result.state == "success"
    assert {s for t, s in result.task_states.items() if t.startswith("dbt.")} == {"success"}

    after = _negative_standard_errors(settings)
    assert after["2024-2025"] == 0, "the backfilled year was rebuilt"
    for year in set(marked) - {"2024-2025"}:
        assert after[year] == marked[year], f"{year} was not touched"

    with pytest.raises(Exception, match="not a school year"):
        run_dag(settings, airflow_home, BUILD, conf={"period": "2024-2026"})


def _raw_counts(settings) -> dict[str, int]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return {s: con.execute(f"SELECT count(*) FROM raw.{s}").fetchone()[0] for s in SOURCES}
    finally:
        con.close()


def test_retention_dag_runs_purge_with_its_param(pipeline):
    """keep_school_years=10 keeps both sample years: the DAG runs purge, nothing goes."""
    from ouderpeil.orchestration.local import run_dag

    settings, airflow_home, _, _ = pipeline
    before = _raw_counts(settings)
    result = run_dag(settings, airflow_home, RETENTION, conf={"keep_school_years": 10})
    assert result.task_states == {"purge": "success"}
    assert _raw_counts(settings) == before


def _future_contact_logs(settings) -> Path:
    """A contact_logs export whose clock went wrong: every contact is dated in 2099.

    The loader rejects its rows (outside the plausible window); see the test for the gate.
    """
    src = sorted((settings.data_dir / "archive" / "contact_logs").rglob("*.csv"))  # loaded
    # The file in canonical form (others use a school system's Dutch headers and cp1252).
    canonical = next(
        p for p in src if p.read_bytes().removeprefix(b"\xef\xbb\xbf").startswith(b"contact_id,")
    )
    lines = canonical.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:201]
    cols = header.split(",")
    i_id, i_at = cols.index("contact_id"), cols.index("contact_at")
    out = []
    for row in rows:
        cells = row.split(",")
        cells[i_id] = "X" + cells[i_id]
        cells[i_at] = "2099" + cells[i_at][4:]
        out.append(",".join(cells))
    path = settings.inbox_dir / "contact_logs" / "contact_logs_broken_clock.csv"
    path.write_text("\n".join([header, *out]) + "\n", encoding="utf-8")
    return path


def _latest_build_run(airflow_home: Path) -> str:
    import sqlite3

    with sqlite3.connect(airflow_home / "airflow.db") as con:
        return con.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", [BUILD]
        ).fetchall()[0][0]


def _try_number(airflow_home: Path, run_id: str, task_id: str) -> int:
    import sqlite3

    with sqlite3.connect(airflow_home / "airflow.db") as con:
        return con.execute(
            "SELECT try_number FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ?",
            [BUILD, run_id, task_id],
        ).fetchall()[0][0]


def test_corrupted_input_fails_the_gate_and_keeps_the_published_file(pipeline):
    from ouderpeil.orchestration.local import DagRunFailed, run_dag

    settings, airflow_home, _, _ = pipeline
    before = _sha256(settings.serving_path)
    before_mtime = settings.serving_path.stat().st_mtime_ns
    _future_contact_logs(settings)

    loaded = run_dag(settings, airflow_home, INGEST)
    assert loaded.task_states["load_contact_logs"] == "success"
    assert loaded.task_states["load_schools"] == "skipped"
    # The loader rejects every 2099 row per row (issue 12: plausible windows); the raw gate
    # must still stop the same corruption when it reaches raw another way (by hand, a bug).
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        assert (
            con.execute(
                "SELECT count(*) FROM raw.raw_rejects WHERE file_name = "
                "'contact_logs_broken_clock.csv' AND reason = 'implausible_date'"
            ).fetchall()[0][0]
            == 200
        )
        con.execute("""INSERT INTO raw.contact_logs BY NAME
            SELECT * REPLACE ('X' || contact_id AS contact_id, 'broken-clock' AS _load_id,
                              TIMESTAMP '2099-10-03 10:00:00' AS contact_at)
            FROM raw.contact_logs LIMIT 200""")
        con.execute("""INSERT INTO raw.raw_load_files BY NAME
            SELECT * REPLACE ('broken-clock' AS load_id, 'by-hand.csv' AS file_name,
                              'by-hand' AS file_hash, now() AS loaded_at)
            FROM raw.raw_load_files WHERE source = 'contact_logs' AND status = 'loaded'
            LIMIT 1""")
    finally:
        con.close()

    with pytest.raises(DagRunFailed) as failed:
        run_dag(settings, airflow_home, BUILD)
    states = failed.value.states
    assert states["gate_raw"] == "failed"
    assert states["publish"] == "upstream_failed"
    assert {s for t, s in states.items() if t.startswith("dbt.")} == {"upstream_failed"}

    # The message names the task, the table, the column and the expectation.
    message = str(failed.value)
    for needle in (
        "gate_raw",
        "raw.contact_logs",
        "contact_at",
        "2099-",
        "expect_column_max_to_be_between",
    ):
        assert needle in message, message
    # failures.log: one block for this run, its first line the summary.
    from ouderpeil.orchestration.callbacks import _blocks

    log = (settings.logs_dir / "failures.log").read_text(encoding="utf-8")
    run_id = _latest_build_run(airflow_home)
    blocks = [b for b in _blocks(log) if f"FAILED ouderpeil_build run {run_id}:" in b]
    assert len(blocks) == 1, log
    assert blocks[0].splitlines()[0].endswith(": 1 task failed (task gate_raw)")
    assert "cause of task gate_raw: QualityGateFailed" in blocks[0] and "contact_at" in blocks[0]
    assert _try_number(airflow_home, run_id, "gate_raw") == 1  # a data error is not retried

    # Superset and the exports keep the last validated data, byte for byte.
    assert _sha256(settings.serving_path) == before
    assert settings.serving_path.stat().st_mtime_ns == before_mtime
