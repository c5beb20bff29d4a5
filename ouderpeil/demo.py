"""`make demo`: the whole chain on embedded defaults, then Superset on http://localhost:8088.

Sample data are generated only when the inbox is empty, and the loaders skip files they have
loaded before, so a second `make demo` reuses what is there and duplicates nothing.
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


def run_demo(settings: Settings) -> None:
    from ouderpeil.dashboards_server import start_superset
    from ouderpeil.orchestration.local import run_pipeline_dags

    settings.ensure_dirs()
    started = time.monotonic()

    if _inbox_is_empty(settings):
        from ouderpeil.generate import generate

        t = _step(f"Generating sample data (scale {DEMO_SCALE}, seed {DEMO_SEED}) into {settings.inbox_dir}")
        summary = generate(settings.inbox_dir, scale=DEMO_SCALE, seed=DEMO_SEED)
        print(f"    {summary.get('rows', summary)}  ({time.monotonic() - t:.0f} s)")
    else:
        _step(f"Inbox {settings.inbox_dir} already has files: reusing them")

    t = _step("Running the Airflow DAGs (SQLite metadata): ingest -> dbt build -> gate -> publish -> export")
    states = run_pipeline_dags(settings, airflow_home=settings.data_dir / "airflow")
    for dag_id, state in states.items():
        print(f"    {dag_id}: {state}")
    print(f"    ({time.monotonic() - t:.0f} s)")

    t = _step(f"Starting Superset on port {DEMO_PORT}")
    handle = start_superset(settings, port=DEMO_PORT, home=settings.data_dir / "superset",
                            background=True)
    print(f"    ({time.monotonic() - t:.0f} s)")

    gx_docs = next(settings.gx_dir.rglob("data_docs/local_site/index.html"), settings.gx_dir)
    print(f"""
Ouderpeil demo is running ({time.monotonic() - started:.0f} s in all).

  Dashboards      {handle.url}
  Admin login     {handle.admin['username']} / {handle.admin['password']}
  All users       {handle.credentials_text()}
  Warehouse       {settings.warehouse_path}
  Serving data    {settings.serving_path}
  Exports         {settings.exports_dir}
  GX data docs    {gx_docs}
  Logs            {settings.logs_dir}  (Superset: {handle.log_path})

Stop Superset with `make stop`; remove all demo data with `make clean-data`.
""")


def stop_demo(settings: Settings) -> None:
    from ouderpeil.dashboards_server import stop_superset

    stopped = stop_superset(settings, home=settings.data_dir / "superset")
    print("Superset stopped." if stopped else "Superset was not running.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stop", action="store_true", help="stop the demo's Superset")
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
