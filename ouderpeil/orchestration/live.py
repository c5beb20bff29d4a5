"""The pipeline on a running Airflow (what `make demo` does): scheduler runs, UI, task logs.

    run_on_airflow(settings, airflow_home, ports) -> LiveResult

Starts the four services if they are not running (ouderpeil.orchestration.services), waits
for the DAGs to be parsed, unpauses them, checks the pool, triggers an ingest run, waits for
the build that the ingest's Asset event starts (and for the scheduled ingest the scheduler may
have started on unpause), then triggers an export of the newest school year. Every run is a
normal scheduler run: it shows in the UI with its task logs. Raises DagRunFailed naming the
failing run, its tasks and the failures.log summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ouderpeil.config import Settings
from ouderpeil.errors import OuderpeilError
from ouderpeil.orchestration.local import (
    BUILD,
    EXPORT,
    INGEST,
    POOL,
    POOL_SLOTS,
    DagRunFailed,
    latest_school_year,
)
from ouderpeil.orchestration.services import (
    AirflowPorts,
    AirflowServices,
    running_services,
    start_airflow,
)

RETENTION = "ouderpeil_retention"
ALL_DAGS = (INGEST, BUILD, EXPORT, RETENTION)
ACTIVE = ("queued", "running")


@dataclass
class LiveResult:
    services: AirflowServices
    runs: dict[str, dict] = field(default_factory=dict)  # dag_id -> its run (REST JSON)
    started: bool = False  # this call started the services


def wait_for_dags(api, dag_ids=ALL_DAGS, timeout: float = 300) -> dict:
    """Until the dag-processor has parsed every DAG (else name the missing ones)."""
    deadline = time.monotonic() + timeout
    while True:
        dags = api.dags()
        missing = [d for d in dag_ids if d not in dags]
        if not missing:
            return dags
        if time.monotonic() > deadline:
            raise OuderpeilError(
                f"Airflow has not parsed {', '.join(missing)} after "
                f"{timeout:.0f} s: see the dag-processor log and "
                "`.venv/bin/python -m ouderpeil.orchestration.inspect_dags`"
            )
        time.sleep(3)


def unpause_all(api, dag_ids=ALL_DAGS) -> None:
    for dag_id, dag in api.dags().items():
        if dag_id in dag_ids and dag.get("is_paused"):
            api.unpause(dag_id)


def wait_idle(api, dag_id: str, timeout: float, alive=None) -> None:
    """Until no run of ``dag_id`` is queued or running."""
    deadline = time.monotonic() + timeout
    while any(r["state"] in ACTIVE for r in api.runs(dag_id)):
        if alive is not None:
            alive()
        if time.monotonic() > deadline:
            raise OuderpeilError(
                f"{dag_id} still has a run going after {timeout:.0f} s; see the Airflow UI"
            )
        time.sleep(3)


def failed_run_error(settings: Settings, api, dag_id: str, run: dict) -> DagRunFailed:
    failed = api.failed_tasks(dag_id, run["dag_run_id"])
    summary = failures_summary(settings, dag_id, run["dag_run_id"])
    return DagRunFailed(
        f"Airflow DAG {dag_id} run {run['dag_run_id']} failed"
        + (f" at task {', '.join(failed)}" if failed else "")
        + f":\n{summary}",
        dag_id,
        {t: "failed" for t in failed},
        settings.logs_dir / "failures.log",
    )


def failures_summary(settings: Settings, dag_id: str, run_id: str) -> str:
    """This run's block of failures.log (ouderpeil.orchestration.callbacks)."""
    path = settings.logs_dir / "failures.log"
    if not path.exists():
        return "(no entry in failures.log; see the task logs in the Airflow UI)"
    from ouderpeil.orchestration.callbacks import _blocks

    blocks = [
        b
        for b in _blocks(path.read_text(encoding="utf-8"))
        if f" FAILED {dag_id} run {run_id}:" in b.splitlines()[0]
    ]
    return blocks[-1].rstrip() if blocks else "(no entry in failures.log; see the task logs)"


def _newest_since(api, dag_id: str, since: str) -> dict | None:
    runs = [r for r in api.runs(dag_id) if (r.get("run_after") or "") >= since]
    return runs[0] if runs else None


def run_on_airflow(
    settings: Settings,
    airflow_home: Path,
    ports: AirflowPorts | None = None,
    extra_env: dict | None = None,
    export_conf: dict | None = None,
    timeout: float = 3600,
    trigger_ingest: bool = True,
) -> LiveResult:
    from ouderpeil.orchestration.preflight import check_pool
    from ouderpeil.transform import run_dbt

    airflow_home = Path(airflow_home).resolve()
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())  # runs of this call: after it
    # The build DAG renders one task per dbt model from this manifest (parse time).
    run_dbt(settings, command="parse")
    services = running_services(airflow_home)
    result = LiveResult(services=services)
    if services is None:
        result.services = start_airflow(
            settings, airflow_home, ports or AirflowPorts.from_env(), extra_env=extra_env
        )
        result.started = True
    api = result.services.api()
    wait_for_dags(api)
    unpause_all(api)
    check_pool(api, POOL, POOL_SLOTS)

    if trigger_ingest:
        run_id = api.trigger(INGEST)
        run = api.wait(INGEST, run_id, timeout=timeout, alive=result.services.check_alive)
        result.runs[INGEST] = run
        if run["state"] != "success":
            raise failed_run_error(settings, api, INGEST, run)
    # A scheduled ingest (the one unpausing starts) may be the one that loaded the files.
    wait_idle(api, INGEST, timeout, result.services.check_alive)
    time.sleep(5)  # the scheduler turns the Asset event into a build run within seconds
    wait_idle(api, BUILD, timeout, result.services.check_alive)
    build = _newest_since(api, BUILD, since)
    if build is not None:
        result.runs[BUILD] = build
        if build["state"] != "success":
            raise failed_run_error(settings, api, BUILD, build)
    elif not settings.serving_path.exists():
        raise OuderpeilError(
            "the ingest loaded nothing and nothing was ever published: is the "
            f"inbox {settings.inbox_dir} empty?"
        )

    conf = dict(export_conf or {})
    conf.setdefault("period", latest_school_year(settings))
    run_id = api.trigger(EXPORT, conf)
    run = api.wait(EXPORT, run_id, timeout=timeout, alive=result.services.check_alive)
    result.runs[EXPORT] = run
    if run["state"] != "success":
        raise failed_run_error(settings, api, EXPORT, run)
    return result
