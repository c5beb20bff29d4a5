"""`make demo`: a running Airflow that loads the sample data, then Superset on :8088.

Airflow (api-server, scheduler, dag-processor, triggerer; SQLite metadata and LocalExecutor
under data/airflow) starts on http://localhost:8080 (OUDERPEIL_AIRFLOW_PORT; its task-log
servers on 8793/8794, OUDERPEIL_AIRFLOW_WORKER_LOG_PORT / _TRIGGER_LOG_PORT) with every DAG
unpaused; the demo triggers one ingest, waits for the build the ingest starts and exports the
newest school year. Afterwards the scheduled ingest (every 5 minutes in the demo,
OUDERPEIL_INGEST_SCHEDULE) picks up any file dropped into the inbox and builds and publishes
it. A port in use stops the demo before anything starts, naming the variable to set.

Sample data are generated only when the inbox is empty, and the loaders skip files they have
loaded before, so a second `make demo` reuses what is there and duplicates nothing.
`make stop` stops Airflow and Superset.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from ouderpeil.config import Settings
from ouderpeil.errors import OuderpeilError

DEMO_SEED = 1
DEMO_SCALE = "demo"  # enough schools and families that the SES gaps are published
DEMO_PORT = int(os.environ.get("OUDERPEIL_DEMO_PORT", "8088"))


def _step(message: str) -> float:
    print(f"\n==> {message}", flush=True)
    return time.monotonic()


def _inbox_is_empty(settings: Settings) -> bool:
    return not any(p.is_file() for p in settings.inbox_dir.rglob("*"))


DEMO_INGEST_SCHEDULE = "*/5 * * * *"


def airflow_home(settings: Settings):
    return settings.data_dir / "airflow"


def run_demo(settings: Settings) -> None:
    from ouderpeil.dashboards_server import start_superset
    from ouderpeil.orchestration.live import run_on_airflow
    from ouderpeil.orchestration.runs import pipeline_run_id
    from ouderpeil.orchestration.services import AirflowPorts, check_ports_free, running_services
    from ouderpeil.quality.report import report_path

    settings.ensure_dirs()
    started = time.monotonic()
    home = airflow_home(settings)
    ports = AirflowPorts.from_env()
    if running_services(home) is None:
        check_ports_free(ports)  # before minutes of work, not after
    schedule = os.environ.get("OUDERPEIL_INGEST_SCHEDULE", DEMO_INGEST_SCHEDULE)

    if _inbox_is_empty(settings):
        from ouderpeil.generate import generate

        t = _step(
            f"Generating sample data (scale {DEMO_SCALE}, seed {DEMO_SEED}) into {settings.inbox_dir}"
        )
        summary = generate(settings.inbox_dir, scale=DEMO_SCALE, seed=DEMO_SEED)
        print(f"    {summary.get('rows', summary)}  ({time.monotonic() - t:.0f} s)")
    else:
        _step(f"Inbox {settings.inbox_dir} already has files: reusing them")

    t = _step(
        f"Starting Airflow on http://localhost:{ports.api} (api-server, scheduler, "
        f"dag-processor, triggerer; LocalExecutor, SQLite metadata in {home}); "
        "then ingest -> build (dbt, gates, publish) -> export as scheduler runs"
    )
    live = run_on_airflow(settings, home, ports, extra_env={"OUDERPEIL_INGEST_SCHEDULE": schedule})
    for dag_id, run in live.runs.items():
        print(f"    {dag_id}: {run['state']}  (run {run['dag_run_id']})")
    print(f"    ({time.monotonic() - t:.0f} s)")

    t = _step(f"Starting Superset on port {DEMO_PORT}")
    handle = start_superset(
        settings, port=DEMO_PORT, home=settings.data_dir / "superset", background=True
    )
    print(f"    ({time.monotonic() - t:.0f} s)")

    build = live.runs.get("ouderpeil_build")
    report = (
        report_path(
            settings.gx_dir, "marts", pipeline_run_id("ouderpeil_build", build["dag_run_id"])
        )
        if build
        else settings.gx_dir / "reports" / "index.html"
    )
    services = live.services
    print(f"""
Ouderpeil demo is running ({time.monotonic() - started:.0f} s in all).

  Dashboards      {handle.url}
  Superset login  {handle.admin["username"]} / {handle.admin["password"]}
  All users       {handle.credentials_text()}
  Airflow         {services.url}   (DAG runs, task logs, trigger with config)
  Airflow login   admin / {services.password()}
  Ingest          every 5 minutes ({schedule}): drop a file into {settings.inbox_dir}/<source>/
                  and it is loaded, built, checked and published without a command
  Quality report  {report}
                  (all gate runs: {settings.gx_dir / "reports" / "index.html"}; works offline)
  Warehouse       {settings.warehouse_path}
  Serving data    {settings.serving_path}
  Exports         {settings.exports_dir}
  Logs            {settings.logs_dir}  (failures.log: one summary per failed run)
                  Airflow: {home / "logs"}, services: {home / "ouderpeil-logs"}
                  Superset: {handle.log_path}

Commands (docs/DATA_ENGINEERS.md): .venv/bin/ouderpeil backfill --period 2024-2025
                                   .venv/bin/ouderpeil airflow dags list-runs ouderpeil_build
Stop Airflow and Superset with `make stop`; remove all demo data with `make clean-data`.
""")


def stop_demo(settings: Settings) -> None:
    from ouderpeil.dashboards_server import stop_superset
    from ouderpeil.orchestration.services import stop_airflow

    stopped = stop_airflow(airflow_home(settings))
    print(f"Airflow stopped ({', '.join(stopped)})." if stopped else "Airflow was not running.")
    stopped = stop_superset(settings, home=settings.data_dir / "superset")
    print("Superset stopped." if stopped else "Superset was not running.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stop", action="store_true", help="stop the demo's Airflow and Superset")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        stop_demo(settings) if args.stop else run_demo(settings)
    except OuderpeilError as exc:
        print(f"\nouderpeil demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
