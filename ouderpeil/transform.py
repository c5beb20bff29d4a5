"""Run dbt (dbt_project/) against the warehouse.

dbt runs as a subprocess of this virtualenv's dbt: the warehouse path reaches profiles.yml
through the environment of that subprocess only (no global os.environ changes, so Airflow
tasks and parallel tests do not interfere), and every data directory gets its own dbt target
and log paths under ``<data_dir>/dbt/``. The per-node outcome comes from run_results.json.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ouderpeil import duckdb_settings
from ouderpeil.config import Settings
from ouderpeil.errors import DbtBuildFailed

# Statuses dbt writes to run_results.json that mean the node did not do its job.
FAILED_STATUSES = {"error", "fail", "runtime error"}
# Commands that accept --full-refresh / --vars / --select.
_FULL_REFRESH_COMMANDS = {"build", "run", "seed"}
_NODE_COMMANDS = {"build", "run", "seed", "test", "compile", "snapshot", "list", "ls", "docs"}


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str  # model, seed, test, ...
    status: str  # success, error, fail, pass, warn, skipped
    execution_time: float  # seconds
    message: str | None = None
    failures: int | None = None  # failing rows of a test

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


@dataclass
class DbtResult:
    command: str
    success: bool
    elapsed: float  # wall-clock seconds of the dbt process
    nodes: list[NodeResult] = field(default_factory=list)
    target_path: Path | None = None
    log_path: Path | None = None
    stdout: str = field(default="", repr=False)

    @property
    def failed_nodes(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.failed]

    def timings(self) -> dict[str, float]:
        return {n.unique_id: n.execution_time for n in self.nodes}

    def __str__(self) -> str:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.status] = counts.get(n.status, 0) + 1
        summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no nodes"
        lines = [
            f"dbt {self.command}: {'OK' if self.success else 'FAILED'} in "
            f"{self.elapsed:.1f}s ({summary})"
        ]
        slowest = sorted(self.nodes, key=lambda n: n.execution_time, reverse=True)[:5]
        lines += [f"  {n.execution_time:6.2f}s {n.status:8} {n.unique_id}" for n in slowest]
        return "\n".join(lines)


def dbt_executable() -> Path:
    """The dbt next to the interpreter running us (the project's venv), never one from PATH.
    The one place that says which dbt runs: run_dbt here, cosmos in orchestration/dbt.py."""
    return Path(sys.executable).with_name("dbt")


def _dbt_command() -> list[str]:
    exe = dbt_executable()
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from dbt.cli.main import cli; cli()"]


# What every dbt process of ours runs with, whoever starts it (run_dbt or a cosmos task): no
# usage statistics or version check over the network, plain log text.
DBT_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_NO_VERSION_CHECK": "true",
    "DBT_USE_COLORS": "false",
}


def dbt_paths(settings: Settings) -> tuple[Path, Path]:
    """Target and log directories of this data directory (parallel runs never collide)."""
    base = settings.data_dir / "dbt"
    return base / "target", base / "logs"


def _dbt_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env.update(
        {
            "OUDERPEIL_WAREHOUSE": str(settings.warehouse_path),
            "OUDERPEIL_DBT_THREADS": env.get("OUDERPEIL_DBT_THREADS", "2"),
            **DBT_ENV,
        }
    )
    # DuckDB memory limit and spill directory (profiles.yml), unless the caller chose them.
    for key, value in duckdb_settings.dbt_env(settings.warehouse_path).items():
        env.setdefault(key, value)
    return env


def _read_run_results(target_path: Path, started: float) -> list[NodeResult]:
    path = target_path / "run_results.json"
    # A stale file from an earlier run (e.g. dbt failed before running anything) is ignored.
    if not path.exists() or path.stat().st_mtime < started:
        return []
    data = json.loads(path.read_text())
    nodes = []
    for r in data.get("results", []):
        uid = r.get("unique_id", "")
        parts = uid.split(".")
        nodes.append(
            NodeResult(
                unique_id=uid,
                name=parts[2] if len(parts) > 2 else uid,
                resource_type=uid.split(".")[0],
                status=str(r.get("status")),
                execution_time=float(r.get("execution_time") or 0.0),
                message=r.get("message"),
                failures=r.get("failures"),
            )
        )
    return nodes


# Incremental models that keep the aggregates of every school year ever built. Retention
# deletes old raw rows but published aggregates stay (docs/spec/PRIVACY.md item 5), so a rebuild after a
# purge full-refreshes everything except these. As schema.table in the warehouse; the dbt
# model is the table name.
AGGREGATE_HISTORY_TABLES = ("intermediate.int_indicator_values", "marts.mart_channel_mix")


def run_dbt(
    settings: Settings,
    command: str = "build",
    select: str | None = None,
    vars: dict | None = None,
    full_refresh: bool = False,
    exclude: str | None = None,
    env: dict[str, str] | None = None,
) -> DbtResult:
    """Run a dbt command (``build``, ``run``, ``test``, ``seed``, ``docs generate`` ...).

    Raises DbtBuildFailed naming every failing model or test with dbt's message.
    """
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    target_path, log_path = dbt_paths(settings)
    target_path.mkdir(parents=True, exist_ok=True)
    log_path.mkdir(parents=True, exist_ok=True)
    project_dir = settings.dbt_project_dir

    words = shlex.split(command)
    args = (
        _dbt_command()
        + words
        + [
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(target_path),
            "--log-path",
            str(log_path),
        ]
    )
    if words and words[0] in _NODE_COMMANDS:
        if select:
            args += ["--select", select]
        if exclude:
            args += ["--exclude", *exclude.split()]
        if vars:
            args += ["--vars", json.dumps(vars)]
    if full_refresh and words and words[0] in _FULL_REFRESH_COMMANDS:
        args.append("--full-refresh")

    started = time.time()
    proc = subprocess.run(
        args, cwd=project_dir, env=_dbt_env(settings, env), capture_output=True, text=True
    )
    elapsed = time.time() - started
    nodes = _read_run_results(target_path, started)
    result = DbtResult(
        command=command,
        success=proc.returncode == 0,
        elapsed=elapsed,
        nodes=nodes,
        target_path=target_path,
        log_path=log_path,
        stdout=proc.stdout + proc.stderr,
    )
    if not result.success:
        raise DbtBuildFailed(_failure_message(result))
    return result


def _failure_message(result: DbtResult) -> str:
    failed = result.failed_nodes
    if failed:
        parts = []
        for n in failed:
            what = f"{n.resource_type} {n.name} ({n.status}"
            what += f", {n.failures} failing rows)" if n.failures else ")"
            parts.append(f"{what}: {(n.message or '').strip()}")
        return f"dbt {result.command} failed: " + "; ".join(parts)
    # dbt stopped before running nodes (parse or compile error, no warehouse ...): its output
    # is the only explanation.
    tail = "\n".join(result.stdout.strip().splitlines()[-25:])
    return f"dbt {result.command} failed before running any node:\n{tail}"


def build(settings: Settings, period: str | None = None) -> DbtResult:
    """`dbt build` of the school years that need it: `period` (a backfill) or those of the new
    loads (ouderpeil.build_plan). What Airflow's build DAG runs, for callers without Airflow."""
    from ouderpeil.build_plan import build_args

    args = build_args(settings, period)
    print(f"dbt build of {args.what}")
    return run_build(settings, args)


def run_build(settings: Settings, args) -> DbtResult:
    """`dbt build` as a build_plan.BuildArgs says: years and watermark in the environment,
    unchanged nodes excluded."""
    return run_dbt(settings, "build", env=args.dbt_env(), exclude=args.exclude or None)
