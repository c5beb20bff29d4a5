"""Run the real DAGs on this machine: `make demo` and the tests use this, production does not.

    run_pipeline_dags(settings, airflow_home) -> {"ouderpeil_ingest": "success", ...}

What it does, in order:

1. an Airflow home with SQLite metadata (default ``<data_dir>/airflow``), DAGs from
   ``<repo>/dags``, no example DAGs; the OUDERPEIL_* variables of ``settings`` go to every
   Airflow process, so the DAGs see the same data directory as the caller;
2. ``airflow db migrate`` (skipped when this Airflow version already migrated that home);
3. ``airflow pools set duckdb_writer 1 ...`` (the pool every warehouse task needs);
4. ``dbt parse`` so the build DAG can render one task per dbt model from manifest.json;
5. ``airflow dags test <dag_id>`` for ingest, build and export, each a real DAG run (tasks run
   one after the other in that process), stopping at the first failed run with the failing
   task's message (from ``<logs_dir>/failures.log``, written by the on_failure_callback).

Airflow is only ever started as a subprocess here, so importing this module stays cheap.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ouderpeil.config import REPO_ROOT, Settings
from ouderpeil.errors import OuderpeilError
from ouderpeil.telemetry import TELEMETRY_OFF

log = logging.getLogger(__name__)

DAGS_FOLDER = REPO_ROOT / "dags"
# Kept in sync with ouderpeil.orchestration.common (not imported: that module imports Airflow).
INGEST, BUILD, EXPORT = "ouderpeil_ingest", "ouderpeil_build", "ouderpeil_export"
POOL, POOL_SLOTS = "duckdb_writer", 1
POOL_DESCRIPTION = "Ouderpeil: tasks that open the DuckDB warehouse (one writer process at a time)"


class DagRunFailed(OuderpeilError):
    """A DAG run under `airflow dags test` failed; the message says which task and why."""

    def __init__(self, message: str, dag_id: str, states: dict[str, str], log_path: Path):
        super().__init__(message)
        self.dag_id = dag_id
        self.states = states
        self.log_path = log_path


@dataclass
class DagRunResult:
    dag_id: str
    state: str  # success | failed
    seconds: float
    task_states: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    run_id: str | None = None


def settings_env(settings: Settings) -> dict[str, str]:
    """The OUDERPEIL_* variables that make Settings.from_env() in a DAG equal ``settings``."""
    env = {
        "OUDERPEIL_DATA_DIR": str(settings.data_dir),
        "OUDERPEIL_INBOX_DIR": str(settings.inbox_dir),
        "OUDERPEIL_QUARANTINE_DIR": str(settings.quarantine_dir),
        "OUDERPEIL_WAREHOUSE": str(settings.warehouse_path),
        "OUDERPEIL_SERVING": str(settings.serving_path),
        "OUDERPEIL_EXPORTS_DIR": str(settings.exports_dir),
        "OUDERPEIL_GX_DIR": str(settings.gx_dir),
        "OUDERPEIL_LOGS_DIR": str(settings.logs_dir),
        "OUDERPEIL_HMAC_KEY_FILE": str(settings.hmac_key_file),
        "OUDERPEIL_DBT_PROJECT_DIR": str(settings.dbt_project_dir),
        "OUDERPEIL_EXPECTATIONS_DIR": str(settings.expectations_dir),
        "OUDERPEIL_DASHBOARDS_DIR": str(settings.dashboards_dir),
        "OUDERPEIL_RETENTION_SCHOOL_YEARS": str(settings.retention_school_years),
        "OUDERPEIL_ROW_COUNT_DROP_TOLERANCE": str(settings.row_count_drop_tolerance),
    }
    if settings.hmac_key:
        env["OUDERPEIL_HMAC_KEY"] = settings.hmac_key
    return env


# SQLite's default busy timeout is 5 s; with four services and their task processes on two
# busy cores a writer can wait longer, and "database is locked" then killed the scheduler.
# Airflow reads connect args from an import path ([database] sql_alchemy_connect_args).
SQLITE_CONNECT_ARGS = {"timeout": 120}


def loopback_hostname() -> str:
    """[core] hostname_callable of every local Airflow process.

    The default (socket.getfqdn) asks DNS for the machine's name, a call outside the machine;
    and the task-log URL the api-server follows must point at this machine's loopback.
    """
    return "127.0.0.1"


def airflow_env(
    settings: Settings, airflow_home: Path, retries: int = 1, retry_delay_seconds: int = 5
) -> dict[str, str]:
    """Environment of every Airflow subprocess."""
    env = dict(os.environ)
    # An inherited production setting must not point the demo at another metadata DB.
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    # Every `airflow dags test` imports Airflow, dbt and GX; without bytecode (the venv has no
    # .pyc and some shells set PYTHONDONTWRITEBYTECODE) each one compiles them from source
    # again. A shared bytecode cache outside the repo and the venv makes that a one-off.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path.home() / ".cache" / "ouderpeil" / "pycache"))
    env.update(settings_env(settings))
    env.update(TELEMETRY_OFF)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "ouderpeil.orchestration.local.loopback_hostname",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "ouderpeil.orchestration.local.SQLITE_CONNECT_ARGS",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "ouderpeil.orchestration.local.SQLITE_CONNECT_ARGS",
            # Locally a data error fails at once anyway (retry policy); keep transient retries
            # short so a demo does not sit in a minute-long backoff.
            "OUDERPEIL_AIRFLOW_RETRIES": str(retries),
            "OUDERPEIL_AIRFLOW_RETRY_DELAY_SECONDS": str(retry_delay_seconds),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _airflow() -> list[str]:
    exe = Path(sys.executable).with_name("airflow")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "airflow"]


def _run(args: list[str], env: dict, log_path: Path, what: str) -> tuple[int, float]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as out:
        proc = subprocess.run(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO_ROOT)
        )
    seconds = time.monotonic() - started
    log.info("%s: exit %s in %.1f s (log %s)", what, proc.returncode, seconds, log_path)
    return proc.returncode, seconds


def _tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def prepare_airflow_home(settings: Settings, airflow_home: Path, env: dict) -> dict[str, float]:
    """Migrate the metadata DB (once per Airflow version) and create the pool."""
    # The version from the package metadata: importing airflow here would read (and create)
    # the caller's ~/airflow config.
    from importlib.metadata import version

    timings: dict[str, float] = {}
    airflow_home.mkdir(parents=True, exist_ok=True)
    logs = airflow_home / "ouderpeil-logs"
    marker = airflow_home / f".migrated-{version('apache-airflow')}"
    if not (marker.exists() and (airflow_home / "airflow.db").exists()):
        rc, timings["db_migrate"] = _run(
            _airflow() + ["db", "migrate"], env, logs / "db-migrate.log", "airflow db migrate"
        )
        if rc != 0:
            raise OuderpeilError(
                f"airflow db migrate failed in {airflow_home}:\n{_tail(logs / 'db-migrate.log')}"
            )
        marker.touch()
    # The metadata DB holds connections, variables and users: owner-only (issue 16).
    os.chmod(airflow_home, 0o700)
    os.chmod(airflow_home / "airflow.db", 0o600)
    if not _pool_exists(airflow_home):
        rc, timings["pool"] = _run(
            _airflow() + ["pools", "set", POOL, str(POOL_SLOTS), POOL_DESCRIPTION],
            env,
            logs / "pool.log",
            f"airflow pools set {POOL}",
        )
        if rc != 0:
            raise OuderpeilError(
                f"could not create the Airflow pool {POOL}:\n{_tail(logs / 'pool.log')}"
            )
    return timings


def _metadata(airflow_home: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{airflow_home / 'airflow.db'}?mode=ro", uri=True)


def _pool_exists(airflow_home: Path) -> bool:
    try:
        with _metadata(airflow_home) as con:
            row = con.execute("SELECT slots FROM slot_pool WHERE pool = ?", [POOL]).fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == POOL_SLOTS


def _latest_run(airflow_home: Path, dag_id: str) -> tuple[str | None, dict[str, str]]:
    """Run id and task states of the newest run of ``dag_id`` in the SQLite metadata DB."""
    with _metadata(airflow_home) as con:
        row = con.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", [dag_id]
        ).fetchone()
        if not row:
            return None, {}
        states = dict(
            con.execute(
                "SELECT task_id, coalesce(state, 'none') FROM task_instance "
                "WHERE dag_id = ? AND run_id = ? ORDER BY task_id",
                [dag_id, row[0]],
            ).fetchall()
        )
    return row[0], states


def _failures_since(settings: Settings, offset: int) -> str:
    path = settings.logs_dir / "failures.log"
    if not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read().decode("utf-8", errors="replace").strip()


def _failures_offset(settings: Settings) -> int:
    path = settings.logs_dir / "failures.log"
    return path.stat().st_size if path.exists() else 0


def run_dag(
    settings: Settings,
    airflow_home: Path,
    dag_id: str,
    conf: dict | None = None,
    env: dict | None = None,
) -> DagRunResult:
    """One real run of ``dag_id`` with `airflow dags test`; raises DagRunFailed on failure."""
    env = env or airflow_env(settings, airflow_home)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    log_path = airflow_home / "ouderpeil-logs" / f"{stamp}-{dag_id}.log"
    args = _airflow() + ["dags", "test", dag_id]
    if conf:
        args += ["--conf", json.dumps(conf)]
    offset = _failures_offset(settings)
    rc, seconds = _run(args, env, log_path, f"airflow dags test {dag_id}")
    run_id, states = _latest_run(airflow_home, dag_id)
    failed = [t for t, s in states.items() if s in ("failed", "upstream_failed")]
    result = DagRunResult(
        dag_id, "success" if rc == 0 and not failed else "failed", seconds, states, log_path, run_id
    )
    if result.state != "success":
        why = _failures_since(settings, offset) or _tail(log_path)
        first = [t for t, s in states.items() if s == "failed"]
        raise DagRunFailed(
            f"Airflow DAG {dag_id} failed"
            + (f" at task {', '.join(first)}" if first else "")
            + f" ({seconds:.0f} s):\n{why}\nFull log: {log_path}",
            dag_id,
            states,
            log_path,
        )
    return result


def latest_school_year(settings: Settings) -> str | None:
    """The newest school year in the published serving file (what the demo exports)."""
    if not settings.serving_path.exists():
        return None
    import duckdb

    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        row = con.execute("SELECT max(school_year) FROM indicator").fetchone()
    finally:
        con.close()
    return row[0] if row else None


def run_pipeline_dags(
    settings: Settings,
    airflow_home: Path | None = None,
    export_conf: dict | None = None,
    build_conf: dict | None = None,
    details: dict | None = None,
) -> dict[str, str]:
    """Ingest -> build -> export through real Airflow DAG runs; returns {dag_id: state}.

    ``export_conf`` defaults to the newest school year in the serving file (csv);
    ``details`` (optional dict) is filled with DagRunResult objects and preparation timings.
    Raises DagRunFailed naming the failing task and its message.
    """
    from ouderpeil.transform import run_dbt

    settings.ensure_dirs()
    airflow_home = Path(airflow_home or settings.data_dir / "airflow").resolve()
    env = airflow_env(settings, airflow_home)
    details = details if details is not None else {}
    details["prepare"] = prepare_airflow_home(settings, airflow_home, env)

    # The build DAG renders one task per dbt node from this manifest.
    started = time.monotonic()
    run_dbt(settings, command="parse")
    details["prepare"]["dbt_parse"] = time.monotonic() - started

    states: dict[str, str] = {}
    for dag_id, conf in ((INGEST, None), (BUILD, build_conf)):
        result = run_dag(settings, airflow_home, dag_id, conf, env)
        details[dag_id] = result
        states[dag_id] = result.state

    conf = dict(export_conf or {})
    conf.setdefault("period", latest_school_year(settings))
    result = run_dag(settings, airflow_home, EXPORT, conf, env)
    details[EXPORT] = result
    states[EXPORT] = result.state
    return states
