"""A running Airflow on this machine: api-server, scheduler, dag-processor and triggerer.

    start_airflow(settings, airflow_home, ports) -> AirflowServices   # all four, healthy
    stop_airflow(airflow_home) -> list[str]                           # what was stopped
    running_services(airflow_home) -> AirflowServices | None

`make demo`, `make stop`, the `ouderpeil trigger/backfill/rerun/clear-task` commands and the
tests use this; production runs the same four commands as compose services. Metadata live in
SQLite under the Airflow home and tasks run with the LocalExecutor (Airflow 3.3 supports that
pair). Every process gets the same environment (``service_env``): the OUDERPEIL_* settings,
the ports, a JWT secret shared by all four (the task processes authenticate to the api-server
with it), telemetry off, and (from local.airflow_env) a loopback host name for the log
servers, so task logs open in the UI while the scheduler runs.

Airflow is only ever started as a subprocess here, so importing this module stays cheap.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ouderpeil.config import REPO_ROOT, Settings
from ouderpeil.errors import OuderpeilError
from ouderpeil.orchestration.local import _airflow, airflow_env

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"
STATE_FILE = "ouderpeil-services.json"
# The defaults Airflow itself uses; every one can be moved with its environment variable.
PORT_ENV = {
    "api": ("OUDERPEIL_AIRFLOW_PORT", 8080),
    "worker_logs": ("OUDERPEIL_AIRFLOW_WORKER_LOG_PORT", 8793),
    "trigger_logs": ("OUDERPEIL_AIRFLOW_TRIGGER_LOG_PORT", 8794),
}


class AirflowNotRunning(OuderpeilError):
    """The command needs the demo's Airflow (scheduler and api-server) and it is not up."""


@dataclass
class AirflowPorts:
    api: int
    worker_logs: int
    trigger_logs: int

    @classmethod
    def from_env(cls, env: dict | None = None) -> AirflowPorts:
        env = os.environ if env is None else env
        return cls(
            **{key: int(env.get(name) or default) for key, (name, default) in PORT_ENV.items()}
        )

    @classmethod
    def free(cls) -> AirflowPorts:
        """Three ports nobody listens on now (tests: never the fixed defaults)."""
        socks = [socket.socket() for _ in range(3)]
        try:
            for s in socks:
                s.bind(("127.0.0.1", 0))
            return cls(*(s.getsockname()[1] for s in socks))
        finally:
            for s in socks:
                s.close()


@dataclass
class AirflowServices:
    airflow_home: str
    ports: dict
    pids: dict = field(default_factory=dict)
    logs: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.ports['api']}"

    def password(self) -> str:
        return admin_password(Path(self.airflow_home))

    def check_alive(self) -> None:
        """Raise, naming the service and its log tail, when one of the four has stopped."""
        for service, pid in self.pids.items():
            if not _alive(pid):
                raise OuderpeilError(
                    f"Airflow {service} has stopped; last lines of {self.logs[service]}:\n"
                    f"{_log_tail(self.logs[service])}\n`make stop`, then `make demo` again"
                )

    def api(self):
        from ouderpeil.orchestration.api import AirflowApi

        return AirflowApi(self.url, ADMIN_USER, self.password())


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def check_ports_free(ports: AirflowPorts) -> None:
    """Fail before starting anything, naming the port, what needs it and how to move it."""
    taken = []
    for key, (name, _default) in PORT_ENV.items():
        port = getattr(ports, key)
        if _port_taken(port):
            taken.append(
                f"port {port} ({key.replace('_', ' ')}) is already in use: "
                f"set {name}=<free port> and run again"
            )
    if taken:
        raise OuderpeilError("cannot start Airflow: " + "; ".join(taken))


def _secret(airflow_home: Path, name: str) -> str:
    """A random secret kept in the Airflow home, the same for every process and restart."""
    path = airflow_home / "ouderpeil-secrets.json"
    airflow_home.mkdir(parents=True, exist_ok=True)
    known = json.loads(path.read_text()) if path.exists() else {}
    if name not in known:
        known[name] = secrets.token_hex(32)
        path.write_text(json.dumps(known))
        path.chmod(0o600)
    return known[name]


def passwords_file(airflow_home: Path) -> Path:
    return airflow_home / "simple_auth_manager_passwords.json.generated"


def admin_password(airflow_home: Path) -> str:
    """The password the simple auth manager generated for ``admin`` on first start."""
    path = passwords_file(airflow_home)
    if not path.exists():
        raise AirflowNotRunning(
            f"no Airflow login yet: {path} is written when the api-server first starts (make demo)"
        )
    return json.loads(path.read_text())[ADMIN_USER]


def service_env(
    settings: Settings, airflow_home: Path, ports: AirflowPorts, extra: dict | None = None
) -> dict[str, str]:
    """Environment of every Airflow process of the running demo (and of CLI calls into it)."""
    env = airflow_env(settings, airflow_home)
    base = f"http://127.0.0.1:{ports.api}"
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Two cores: two task processes at a time (the warehouse pool allows one writer).
            "AIRFLOW__CORE__PARALLELISM": env.get("OUDERPEIL_AIRFLOW_PARALLELISM", "2"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(airflow_home)),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(ports.api),
            "AIRFLOW__API__BASE_URL": f"http://localhost:{ports.api}",
            "AIRFLOW__API__SECRET_KEY": _secret(airflow_home, "api_secret_key"),
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(airflow_home, "jwt_secret"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports.worker_logs),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports.trigger_logs),
            # New DAG files and changed ones are seen within half a minute.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__TRIGGERER__CAPACITY": "50",
        }
    )
    env.update(extra or {})
    return env


def _state_path(airflow_home: Path) -> Path:
    return airflow_home / "run" / STATE_FILE


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def running_services(airflow_home: Path) -> AirflowServices | None:
    """The services this Airflow home runs now (all four alive), else None."""
    path = _state_path(airflow_home)
    if not path.exists():
        return None
    state = AirflowServices(**json.loads(path.read_text()))
    if state.pids and all(_alive(pid) for pid in state.pids.values()):
        return state
    return None


def start_airflow(
    settings: Settings,
    airflow_home: Path,
    ports: AirflowPorts,
    extra_env: dict | None = None,
    timeout: float = 600,
) -> AirflowServices:
    """Start the four services (metadata migrated and pool created first); wait until healthy.

    Raises OuderpeilError naming the port in use, or the service that died with its log tail.
    """
    from ouderpeil.orchestration.local import prepare_airflow_home

    airflow_home = Path(airflow_home).resolve()
    if running_services(airflow_home):
        raise OuderpeilError(f"Airflow already runs for {airflow_home}: `make stop` first")
    check_ports_free(ports)
    env = service_env(settings, airflow_home, ports, extra_env)
    prepare_airflow_home(settings, airflow_home, env)
    logs_dir = airflow_home / "ouderpeil-logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    state = AirflowServices(str(airflow_home), asdict(ports))
    path = _state_path(airflow_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        log_path = logs_dir / f"{service}.log"
        args = (
            _airflow() + [service] + (["--port", str(ports.api)] if service == "api-server" else [])
        )
        with log_path.open("ab") as out:
            # Its own session: `make stop` ends the service with the task processes it forked.
            proc = subprocess.Popen(
                args,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=str(REPO_ROOT),
                start_new_session=True,
            )
        state.pids[service] = proc.pid
        state.logs[service] = str(log_path)
        path.write_text(json.dumps(asdict(state), indent=1))
        try:
            if service == "api-server":
                # Task processes report to the api-server: a scheduler that starts first
                # fails its first tasks with "connection refused".
                _wait_healthy(state, timeout, api_only=True)
            elif service == SERVICES[-1]:
                _wait_healthy(state, timeout)
        except BaseException:
            stop_airflow(airflow_home)
            raise
    return state


def _log_tail(path: str, lines: int = 25) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _wait_healthy(state: AirflowServices, timeout: float, api_only: bool = False) -> None:
    """Until /api/v2/monitor/health answers (api_only) or reports every component healthy."""
    from ouderpeil.orchestration.api import health

    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        state.check_alive()
        status = health(state.url)
        if status is not None and api_only:
            return
        if status is not None:
            unhealthy = [
                k
                for k, v in status.items()
                if isinstance(v, dict) and v.get("status") not in ("healthy", None)
            ]
            last = f"unhealthy: {', '.join(unhealthy)}" if unhealthy else "healthy"
            if not unhealthy and passwords_file(Path(state.airflow_home)).exists():
                return
        time.sleep(2)
    raise OuderpeilError(
        f"Airflow did not become healthy within {timeout:.0f} s ({last}); "
        f"logs in {Path(state.logs['scheduler']).parent}"
    )


def stop_airflow(airflow_home: Path, grace: float = 30) -> list[str]:
    """Stop every service this Airflow home started (and the task processes they forked)."""
    airflow_home = Path(airflow_home).resolve()
    path = _state_path(airflow_home)
    if not path.exists():
        return []
    state = AirflowServices(**json.loads(path.read_text()))
    stopped = []
    for service, pid in state.pids.items():
        if not _alive(pid):
            continue
        try:
            os.killpg(pid, signal.SIGTERM)  # the session leader's group: service + children
        except ProcessLookupError:
            continue
        stopped.append(service)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in state.pids.values()):
        time.sleep(0.5)
    for pid in state.pids.values():
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid in state.pids.values():  # reap the ones this process started
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    path.unlink(missing_ok=True)
    return stopped
