"""Start and stop Superset from the main virtualenv (``make demo``, the tests).

Superset lives in its own virtualenv (``.venv-superset``); this module only runs
``python -m ouderpeil.superset_bootstrap`` there with ``subprocess``: ``init`` (metadata DB,
roles, admin), ``import`` (``dashboards/`` against the serving file, RLS rules, demo users) and
``serve`` (gunicorn), then waits until ``/health`` answers.

Everything Superset writes goes to its home directory (default ``<data_dir>/superset``):
the SQLite metadata DB, the generated ``secret_key``, ``credentials.json`` (mode 0600, the
generated passwords), ``superset.pid`` and ``superset.log``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ouderpeil.config import REPO_ROOT, Settings
from ouderpeil.errors import OuderpeilError
from ouderpeil.superset_user import (
    SystemUser,
    can_read_as,
    give_home,
    grant_traverse,
    superset_user,
)

PID_FILE = "superset.pid"
LOG_FILE = "superset.log"
CREDENTIALS_FILE = "credentials.json"


class SupersetError(OuderpeilError):
    """Superset could not be set up or did not come up; the message names the log."""


def superset_python() -> Path:
    return Path(
        os.environ.get("OUDERPEIL_SUPERSET_PYTHON", REPO_ROOT / ".venv-superset" / "bin" / "python")
    )


@dataclass
class SupersetHandle:
    url: str
    port: int
    home: Path
    pid: int | None
    log_path: Path
    credentials: dict = field(repr=False)
    timings: dict = field(default_factory=dict)
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def admin(self) -> dict:
        return self.credentials["admin"]

    @property
    def inspector(self) -> dict | None:
        return self.credentials.get("inspector")

    @property
    def board_users(self) -> list[dict]:
        return self.credentials.get("boards", [])

    def credentials_text(self) -> str:
        """Who can log in, for the demo banner (passwords are in credentials.json, 0600)."""
        lines = [f"{self.admin['username']} (Admin)"]
        if self.inspector:
            lines.append(f"{self.inspector['username']} (Inspecteur, alle besturen)")
        lines += [f"{u['username']} (Bestuur {u['board_name']})" for u in self.board_users]
        return (
            "\n                  ".join(lines)
            + f"\n                  passwords: {self.home / CREDENTIALS_FILE}"
        )

    def is_running(self) -> bool:
        return self.pid is not None and _alive(self.pid)

    def stop(self, timeout: float = 30) -> None:
        if self.pid is not None:
            _terminate(self.pid, timeout)
        if self.process is not None:
            try:
                self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        pid_file = self.home / PID_FILE
        if pid_file.exists() and pid_file.read_text().strip() == str(self.pid):
            pid_file.unlink()
        self.pid = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM the process group we started (gunicorn master + workers), then SIGKILL."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    if pgid != pid:  # not a group leader we created: signal only the process itself
        sender, target = os.kill, pid
    else:
        sender, target = os.killpg, pgid
    try:
        sender(target, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    try:
        sender(target, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What Superset inherits from our environment: nothing of the pipeline's (never the HMAC key,
# Airflow's or dbt's settings), only locale, path and Superset's own variables.
_ENV_KEPT = {"PATH", "LANG", "LANGUAGE", "TZ", "DO_NOT_TRACK", "SCARF_ANALYTICS"}
_ENV_KEPT_PREFIXES = ("LC_", "SUPERSET_", "OUDERPEIL_SUPERSET_")


def _env(settings: Settings, home: Path, base: dict | None = None) -> dict:
    base = os.environ if base is None else base
    env = {
        k: v
        for k, v in base.items()
        if (k in _ENV_KEPT or k.startswith(_ENV_KEPT_PREFIXES))
        and k not in ("OUDERPEIL_SUPERSET_PYTHON", "OUDERPEIL_SUPERSET_USER")
    }
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "HOME": str(home),  # nothing lands in the starting user's home
            "TMPDIR": str(home / "tmp"),
            "PYTHONDONTWRITEBYTECODE": "1",  # the code is not Superset's to write
            "OUDERPEIL_SUPERSET_HOME": str(home),
            "OUDERPEIL_SERVING": str(settings.serving_path),
            "OUDERPEIL_DASHBOARDS_DIR": str(settings.dashboards_dir),
            "SUPERSET_CONFIG_PATH": str(
                REPO_ROOT / "ouderpeil" / "superset_bootstrap" / "superset_config.py"
            ),
            "FLASK_APP": "superset",
            "PYTHONUNBUFFERED": "1",
            "SCARF_ANALYTICS": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    return env


def _as_user(user: SystemUser | None) -> dict:
    """subprocess arguments that start a process as ``user`` (no extra groups)."""
    if user is None:
        return {}
    return {"user": user.uid, "group": user.gid, "extra_groups": []}


def _prepare_access(settings: Settings, home: Path, user: SystemUser | None) -> None:
    """Home 0700 (owned by Superset's user); that user may reach what it needs, no more."""
    (home / "tmp").mkdir(mode=0o700, exist_ok=True)
    if user is None:
        os.chmod(home, 0o700)
        return
    python = superset_python()
    grant_traverse(
        [
            python.resolve(),
            python,
            REPO_ROOT / "ouderpeil",
            settings.dashboards_dir,
            settings.serving_path,
            home,
        ],
        user,
    )
    give_home(home, user)
    if not can_read_as(user, settings.serving_path):
        raise SupersetError(
            f"Superset's user {user.name} cannot read the serving file "
            f"{settings.serving_path}: make it readable (mode 0644)"
        )


def _run_step(
    name: str,
    args: list[str],
    env: dict,
    log_path: Path,
    timeout: float,
    user: SystemUser | None = None,
) -> float:
    started = time.monotonic()
    with log_path.open("a") as log:
        log.write(f"\n==> superset_bootstrap {' '.join(args)}\n")
        log.flush()
        proc = subprocess.run(
            [str(superset_python()), "-m", "ouderpeil.superset_bootstrap", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            **_as_user(user),
        )
    if proc.returncode != 0:
        raise SupersetError(
            f"Superset {name} failed (exit {proc.returncode}); see {log_path}:\n{_tail(log_path)}"
        )
    return time.monotonic() - started


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_superset(
    settings: Settings,
    port: int = 8088,
    home: Path | None = None,
    background: bool = True,
    demo_users: bool = True,
    host: str = "127.0.0.1",
    timeout: float = 600,
    workers: int | None = None,
) -> SupersetHandle:
    """init + import + serve Superset against ``settings.serving_path``; wait for /health.

    ``background=False`` blocks until Superset exits (Ctrl-C stops it).
    """
    python = superset_python()
    if not python.exists():
        raise SupersetError(
            f"no Superset virtualenv at {python.parent.parent}: run `make superset-env`"
        )
    if not settings.serving_path.exists():
        raise SupersetError(
            f"no serving file at {settings.serving_path}: run the pipeline (publish) first"
        )
    home = Path(home or settings.data_dir / "superset").resolve()
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / LOG_FILE
    stop_superset(settings, home=home)  # a previous demo's server on this home
    if not _port_free(port, host):
        raise SupersetError(f"port {port} is in use; choose another (OUDERPEIL_DEMO_PORT)")

    env = _env(settings, home)
    if workers:
        env["OUDERPEIL_SUPERSET_WORKERS"] = str(workers)
    user = superset_user()  # never root: root could read the HMAC key
    log_path.touch(mode=0o600)
    os.chmod(log_path, 0o600)  # the log quotes SQL and paths: not for other users
    _prepare_access(settings, home, user)
    timings = {"init": _run_step("init", ["init"], env, log_path, timeout, user)}
    import_args = [
        "import",
        "--serving",
        str(settings.serving_path),
        "--dashboards",
        str(settings.dashboards_dir),
    ]
    if demo_users:
        import_args.append("--demo-users")
    timings["import"] = _run_step("import", import_args, env, log_path, timeout, user)

    started = time.monotonic()
    log = log_path.open("a")
    log.write(f"\n==> superset_bootstrap serve --port {port}\n")
    log.flush()
    proc = subprocess.Popen(
        [
            str(python),
            "-m",
            "ouderpeil.superset_bootstrap",
            "serve",
            "--port",
            str(port),
            "--host",
            host,
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own process group: stop() ends gunicorn and its workers
        **_as_user(user),
    )
    log.close()
    (home / PID_FILE).write_text(str(proc.pid))
    url = f"http://{host}:{port}"
    credentials = json.loads((home / CREDENTIALS_FILE).read_text())
    handle = SupersetHandle(
        url=url,
        port=port,
        home=home,
        pid=proc.pid,
        log_path=log_path,
        credentials=credentials,
        timings=timings,
        process=proc,
    )
    deadline = time.monotonic() + timeout
    while not _health(url):
        if proc.poll() is not None:
            handle.stop()
            raise SupersetError(
                f"Superset exited with {proc.returncode} while starting; "
                f"see {log_path}:\n{_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            handle.stop()
            raise SupersetError(
                f"Superset did not answer {url}/health within {timeout:.0f} s; see {log_path}"
            )
        time.sleep(1)
    timings["start"] = time.monotonic() - started
    if not background:
        try:
            proc.wait()
        except KeyboardInterrupt:
            pass
        finally:
            handle.stop()
    return handle


def stop_superset(settings: Settings, home: Path | None = None, timeout: float = 30) -> bool:
    """Stop the Superset whose pid is recorded under ``home``; True if one was running."""
    home = Path(home or settings.data_dir / "superset")
    pid_file = home / PID_FILE
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().strip())
    except ValueError:
        pid_file.unlink()
        return False
    running = _alive(pid) and _is_our_superset(pid)
    if running:
        _terminate(pid, timeout)
    pid_file.unlink(missing_ok=True)
    return running


def _is_our_superset(pid: int) -> bool:
    """Guard against a recycled pid: the process must be the bootstrap/gunicorn command."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return True  # no /proc (macOS): trust the pid file
    return "gunicorn" in cmdline or "superset_bootstrap" in cmdline
