"""What `ouderpeil airflow|trigger|backfill|rerun|clear-task` do (cli.py only parses).

All of them work on the Airflow home of this data directory (``<data_dir>/airflow``, the
one `make demo` runs), with the environment its services run with, so a command from the
docs runs from the repo root exactly as printed. The ones that need a scheduler say so when
none runs, instead of leaving a run queued forever.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ouderpeil.config import Settings
from ouderpeil.errors import OuderpeilError
from ouderpeil.orchestration.local import BUILD, _airflow, airflow_env, run_dag
from ouderpeil.orchestration.runs import check_school_year
from ouderpeil.orchestration.services import (
    AirflowNotRunning,
    AirflowPorts,
    running_services,
    service_env,
)

START_HINT = "start it with `make demo` (it keeps running until `make stop`)"


def airflow_home(settings: Settings) -> Path:
    return (settings.data_dir / "airflow").resolve()


def command_env(settings: Settings) -> dict[str, str]:
    """The environment of the running services (their ports), else of a local run."""
    home = airflow_home(settings)
    running = running_services(home)
    ports = AirflowPorts(**running.ports) if running else AirflowPorts.from_env()
    return (
        service_env(settings, home, ports)
        if (running or home.exists())
        else airflow_env(settings, home)
    )


def run_airflow_cli(settings: Settings, args: list[str]) -> int:
    """The venv's `airflow <args>` with this data directory's Airflow home and settings."""
    home = airflow_home(settings)
    if not (home / "airflow.db").exists():
        raise OuderpeilError(f"no Airflow metadata in {home} yet: run `make demo` first")
    words = [a for a in args if not a.startswith("-")]
    if words[:2] == ["dags", "trigger"] and running_services(home) is None:
        print(
            f"ouderpeil: note: no scheduler runs for {home}; the run stays queued until one "
            f"does: {START_HINT}.",
            flush=True,
        )
    return subprocess.call(_airflow() + list(args), env=command_env(settings))


def _api(settings: Settings, hint: str = ""):
    running = running_services(airflow_home(settings))
    if running is None:
        raise AirflowNotRunning(
            f"Airflow is not running for {airflow_home(settings)}: " + START_HINT + hint
        )
    return running.api()


def _report(api, dag_id: str, run: dict, settings: Settings) -> dict:
    from ouderpeil.orchestration.live import failures_summary

    tasks = {t: ti["state"] for t, ti in api.task_instances(dag_id, run["dag_run_id"]).items()}
    out = {
        "dag_id": dag_id,
        "run_id": run["dag_run_id"],
        "state": run["state"],
        "failed_tasks": sorted(t for t, s in tasks.items() if s == "failed"),
    }
    print(f"{dag_id} run {run['dag_run_id']}: {run['state']}")
    if run["state"] == "failed":
        print(failures_summary(settings, dag_id, run["dag_run_id"]))
    return out


def trigger(
    settings: Settings,
    dag_id: str,
    conf: dict | None = None,
    wait: bool = True,
    timeout: float = 3600,
    hint: str = "",
) -> dict:
    """A run on the running scheduler (visible in the UI); waits for it unless wait=False."""
    from ouderpeil.orchestration.local import POOL, POOL_SLOTS
    from ouderpeil.orchestration.preflight import check_pool

    api = _api(settings, hint)
    check_pool(api, POOL, POOL_SLOTS)  # else the run's warehouse tasks would wait forever
    run_id = api.trigger(dag_id, conf)
    print(
        f"triggered {dag_id} run {run_id}" + (f" with {json.dumps(conf)}" if conf else ""),
        flush=True,
    )
    if not wait:
        return {"dag_id": dag_id, "run_id": run_id, "state": "queued"}
    return _report(api, dag_id, api.wait(dag_id, run_id, timeout=timeout), settings)


def backfill(settings: Settings, period: str, wait: bool = True, local: bool = False) -> dict:
    """Rebuild one school year: the build DAG with {"period": ...}."""
    period = check_school_year(period)
    if local:
        if running_services(airflow_home(settings)) is not None:
            raise OuderpeilError(
                "Airflow is running for this data directory: its scheduler "
                "would write the warehouse at the same time; leave out --local"
            )
        from ouderpeil.orchestration.local import prepare_airflow_home
        from ouderpeil.transform import run_dbt

        home = airflow_home(settings)
        env = airflow_env(settings, home)
        prepare_airflow_home(settings, home, env)
        run_dbt(settings, command="parse")
        result = run_dag(settings, home, BUILD, {"period": period}, env)
        print(
            f"{BUILD} run {result.run_id}: {result.state} ({result.seconds:.0f} s, "
            f"log {result.log_path})"
        )
        return {"dag_id": BUILD, "run_id": result.run_id, "state": result.state}
    return trigger(
        settings,
        BUILD,
        {"period": period},
        wait=wait,
        hint=f"; or rebuild without a scheduler: `.venv/bin/ouderpeil backfill "
        f"--period {period} --local`",
    )


def _pick_run(api, dag_id: str, run_id: str | None, failed: bool) -> dict:
    if run_id:
        return api.run(dag_id, run_id)
    for run in api.runs(dag_id):
        if not failed or run["state"] == "failed":
            return run
    raise OuderpeilError(f"{dag_id} has no {'failed ' if failed else ''}run to clear")


def rerun_failed(
    settings: Settings,
    dag_id: str,
    run_id: str | None = None,
    wait: bool = True,
    timeout: float = 3600,
) -> dict:
    """Clear the failed (and upstream-failed) tasks of a failed run: it runs again as is."""
    api = _api(settings)
    run = _pick_run(api, dag_id, run_id, failed=True)
    cleared = api.clear(dag_id, run["dag_run_id"], only_failed=True)
    print(
        f"cleared {len(cleared)} task(s) of {dag_id} run {run['dag_run_id']}: "
        f"{', '.join(sorted(cleared))}",
        flush=True,
    )
    if not wait:
        return {"dag_id": dag_id, "run_id": run["dag_run_id"], "cleared": cleared}
    return _report(api, dag_id, _wait_rerun(api, dag_id, run["dag_run_id"], timeout), settings)


def clear_task(
    settings: Settings,
    dag_id: str,
    task_id: str,
    run_id: str | None = None,
    downstream: bool = True,
    wait: bool = True,
    timeout: float = 3600,
) -> dict:
    """Clear one task (and, by default, the tasks after it) of a run: they run again."""
    api = _api(settings)
    run = _pick_run(api, dag_id, run_id, failed=False)
    known = api.task_instances(dag_id, run["dag_run_id"])
    if task_id not in known:
        raise OuderpeilError(
            f"{dag_id} run {run['dag_run_id']} has no task {task_id!r}; "
            f"its tasks: {', '.join(sorted(known))}"
        )
    cleared = api.clear(dag_id, run["dag_run_id"], task_ids=[task_id], downstream=downstream)
    print(f"cleared {', '.join(sorted(cleared))} of {dag_id} run {run['dag_run_id']}", flush=True)
    if not wait:
        return {"dag_id": dag_id, "run_id": run["dag_run_id"], "cleared": cleared}
    return _report(api, dag_id, _wait_rerun(api, dag_id, run["dag_run_id"], timeout), settings)


def _wait_rerun(api, dag_id: str, run_id: str, timeout: float) -> dict:
    """A cleared run goes back to queued: wait for it to leave the finished state first."""
    import time

    deadline = time.monotonic() + 60
    while api.run(dag_id, run_id)["state"] in ("success", "failed") and time.monotonic() < deadline:
        time.sleep(1)
    return api.wait(dag_id, run_id, timeout=timeout)


def parse_conf(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OuderpeilError(
            f'--conf is not JSON ({exc}): write it like \'{{"period": "2024-2025"}}\''
        ) from None
    if not isinstance(conf, dict):
        raise OuderpeilError('--conf must be a JSON object, like \'{"period": "2024-2025"}\'')
    return conf
