"""A running Airflow, for real: api-server, scheduler, dag-processor and triggerer on free ports
(SQLite metadata, LocalExecutor), as `make demo` starts them (ouderpeil.orchestration.services).

Nobody triggers the first run: the scheduled ingest (every minute here) loads the inbox, its
Asset starts the build, the build publishes. Then a new file dropped into the inbox flows
through on its own, a task log is read through the api-server as the UI does, a setup error
(missing school calendar) is reported once and the documented `ouderpeil rerun` runs the failed
run again, and every command printed in README.md and docs/ runs from the repo root exactly as
printed against this Airflow. Everything is bounded in time; the services are stopped at the
end (and on failure).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import make_settings

from ouderpeil.config import REPO_ROOT

pytestmark = pytest.mark.slow

INGEST, BUILD, EXPORT = "ouderpeil_ingest", "ouderpeil_build", "ouderpeil_export"
RUN_TIMEOUT = 1200  # seconds for one scheduled chain on 2 shared cores
DOCS = [
    REPO_ROOT / "README.md",
    REPO_ROOT / "DEVELOPERS.md",
    *sorted((REPO_ROOT / "docs").glob("*.md")),
]


@dataclass
class Live:
    settings: object
    services: object
    env: dict  # the environment a user's shell needs for this data directory
    inbox_hashes: set  # of the files in the inbox before Airflow started (the loader may
    #                    move loaded files away)

    @property
    def api(self):
        return self.services.api()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _published_hashes(settings) -> tuple[int, set[str]]:
    """How many publishes the serving file records, and the input file hashes of the last."""
    import json

    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        rows = con.execute("SELECT input_files FROM publish_run ORDER BY published_at").fetchall()
    finally:
        con.close()
    if not rows:
        return 0, set()
    files = json.loads(rows[-1][0]) if isinstance(rows[-1][0], str) else rows[-1][0]
    return len(rows), {f["file_hash"] for f in files}


def _wait_for(predicate, timeout: float, what: str, poll: float = 5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from ouderpeil.generate import generate
    from ouderpeil.orchestration.services import AirflowPorts, start_airflow, stop_airflow
    from ouderpeil.transform import run_dbt

    root = tmp_path_factory.mktemp("live")
    # A copy of the dbt project: one test takes its school calendar away for a while.
    dbt_copy = root / "dbt_project"
    shutil.copytree(
        REPO_ROOT / "dbt_project", dbt_copy, ignore=shutil.ignore_patterns("target", "logs")
    )
    env = {"OUDERPEIL_DBT_PROJECT_DIR": str(dbt_copy)}
    settings = make_settings(root / "data", **env)
    generate(settings.inbox_dir, scale="small", seed=1)  # the demo's data (board 41037)
    inbox_hashes = {_sha256(p) for p in settings.inbox_dir.rglob("*") if p.is_file()}
    run_dbt(settings, command="parse")
    home = settings.data_dir / "airflow"
    services = start_airflow(
        settings,
        home,
        AirflowPorts.free(),
        extra_env={
            "OUDERPEIL_INGEST_SCHEDULE": "* * * * *",
            "OUDERPEIL_DBT_TASKS": "single",  # one dbt task: the chain in minutes, not tens
        },
    )
    shell_env = {
        **os.environ,
        "OUDERPEIL_DATA_DIR": str(settings.data_dir),
        "OUDERPEIL_HMAC_KEY": settings.hmac_key,
        "OUDERPEIL_HMAC_KEY_FILE": str(settings.hmac_key_file),
        "OUDERPEIL_DBT_TASKS": "single",
        **env,
    }  # --local runs: one dbt task too
    try:
        yield Live(settings, services, shell_env, inbox_hashes)
    finally:
        stop_airflow(home)


def _first_publish(live: Live) -> dict:
    api = live.api

    def published():
        if not live.settings.serving_path.exists():
            return None
        runs = [r for r in api.runs(BUILD) if r["state"] == "success"]
        return runs[-1] if runs else None

    return _wait_for(published, RUN_TIMEOUT, "the scheduled ingest -> build -> publish")


def test_scheduled_ingest_builds_and_publishes_without_a_command(live):
    build = _first_publish(live)
    api = live.api
    assert {d: api.dags()[d]["is_paused"] for d in (INGEST, BUILD, EXPORT)} == {
        INGEST: False,
        BUILD: False,
        EXPORT: False,
    }
    # Nobody triggered anything: a scheduled ingest, an asset-triggered build.
    assert build["run_type"] == "asset_triggered"
    assert any(r["run_type"] == "scheduled" and r["state"] == "success" for r in api.runs(INGEST))
    n, hashes = _published_hashes(live.settings)
    assert n >= 1 and live.inbox_hashes <= hashes, "every inbox file reached the serving file"
    # The build ran only after every load of its ingest run: one build for the whole inbox.
    assert len([r for r in api.runs(BUILD) if r["state"] == "failed"]) == 0


def test_task_logs_open_through_the_api_server_while_the_scheduler_runs(live):
    build = _first_publish(live)
    text = live.api.task_log(BUILD, build["dag_run_id"], "gate_marts")
    assert "quality gate marts passed" in text, text[-2000:]
    # The gate's summary is not buried under Great Expectations' import-time INFO lines.
    noise = [
        line
        for line in text.splitlines()
        if "great_expectations" in line or "Skipping registering function" in line
    ]
    assert len(noise) <= 3, noise[:5]
    # The scheduler's log server (running tasks' logs) listens on the configured free port.
    with socket.create_connection(("127.0.0.1", live.services.ports["worker_logs"]), timeout=5):
        pass


def test_a_file_dropped_into_the_inbox_flows_through_to_the_serving_file(live, tmp_path):
    from ouderpeil.generate.day import generate_day

    _first_publish(live)
    before, _ = _published_hashes(live.settings)
    # Written elsewhere, then moved in whole, as an SFTP drop with a rename would.
    summary = generate_day(tmp_path, scale="small", seed=1, day="2025-10-07")
    assert summary["files"], summary
    wanted = set()
    for f in summary["files"]:
        src = tmp_path / f["path"]
        wanted.add(_sha256(src))
        dst = live.settings.inbox_dir / f["path"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(src, dst)

    def published_new():
        n, hashes = _published_hashes(live.settings)
        return n > before and wanted <= hashes

    _wait_for(published_new, RUN_TIMEOUT, "the new file in a published serving file")


def test_a_missing_pool_is_a_setup_error_with_a_fix_that_works(live):
    _first_publish(live)
    api = live.api
    before = len(api.runs(INGEST, limit=100))
    api._request("DELETE", "/api/v2/pools/duckdb_writer")
    fix = None
    try:
        proc = subprocess.run(
            ".venv/bin/ouderpeil trigger ouderpeil_ingest",
            shell=True,
            cwd=REPO_ROOT,
            env=live.env,
            text=True,
            capture_output=True,
            timeout=300,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        message = proc.stderr.strip()
        assert message.startswith(
            "ouderpeil: setup error: the Airflow pool duckdb_writer is missing"
        ), message
        fix = re.search(r"Fix: `(.+)`$", message)
        assert fix, message
        assert len(api.runs(INGEST, limit=100)) == before, "nothing was triggered"
    finally:
        # The fix, exactly as the message prints it.
        done = subprocess.run(
            fix.group(1) if fix else ".venv/bin/ouderpeil airflow pools set duckdb_writer 1 x",
            shell=True,
            cwd=REPO_ROOT,
            env=live.env,
            text=True,
            capture_output=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert api._request("GET", "/api/v2/pools/duckdb_writer")["slots"] == 1


@pytest.mark.browser
def test_airflow_ui_shows_the_runs_and_a_task_log(live):
    """The UI itself, in headless Chromium: the DAG list and a task log page of the build."""
    from ouderpeil.headless_chromium import Chromium, find_binary

    chromium = find_binary()
    if not chromium:
        pytest.skip("no chromium installed (make browser): the log was read over the API above")

    build = _first_publish(live)
    token = live.api.token()
    shots = REPO_ROOT / "test-artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    browser = Chromium(chromium)
    try:
        # The simple auth manager's UI reads its JWT from the `_token` cookie.
        browser.set_cookie(live.services.url + "/", "_token", token, http_only=False)
        pages = {
            "airflow_dags": (f"{live.services.url}/dags", "ouderpeil_build"),
            "airflow_task_log": (
                f"{live.services.url}/dags/{BUILD}/runs/{build['dag_run_id']}/tasks/gate_marts",
                "quality gate marts passed",
            ),
        }
        for name, (url, needle) in pages.items():
            browser.navigate(url)
            _wait_for(
                lambda needle=needle: needle in (browser.eval("document.body.innerText") or ""),
                120,
                f"{needle!r} on {url}",
                poll=2,
            )
            (shots / f"{name}.png").write_bytes(browser.screenshot(900))
    finally:
        browser.close()


# --- Commands as documented ---------------------------------------------------------------

# Documented commands this test does not run, each with the reason it prints as a skip.
NOT_RUN_HERE = [
    (
        r"^make (demo|test|test-fast|bench|lock|env|superset-env|browser)\b",
        "builds environments or runs the suite/benchmarks/demo itself (minutes to an hour); "
        "`make demo` runs the same ouderpeil.orchestration.live code as this module's fixture",
    ),
    (
        r"^docker compose",
        "no Docker engine on these machines; docker-compose.yml is checked "
        "by tests/test_compose.py",
    ),
    (r"^cp \.env\.example", "production set-up (edits secrets by hand)"),
    (
        r"^(export OUDERPEIL_SUPERSET_HOME|PYTHONPATH=\$PWD \.venv-superset)",
        "Superset's own set-up, run by tests/test_superset.py through dashboards_server",
    ),
    (
        r"^(sha256sum|python -c \"import frictionless)",
        "run inside a received export folder, not from the repo root (EXPORTS.md)",
    ),
    (r"^\.venv/bin/python -m pytest", "runs tests: this is a test"),
]


def documented_commands() -> list[tuple[str, str]]:
    """(doc, command) for every line of every ```bash / ```sh block, continuations joined."""
    out = []
    for doc in DOCS:
        for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", doc.read_text(), re.S):
            joined = re.sub(r"\\\n\s*", " ", block)
            for line in joined.splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    out.append((doc.name, line))
    # Commands that need no running Airflow (`--local`) go last: they stop it first.
    return sorted(out, key=lambda dc: "--local" in dc[1])


def _make_failed_build(live: Live) -> str:
    """A failed build: the school calendar is gone (a setup error), then it is restored."""
    calendar = Path(live.env["OUDERPEIL_DBT_PROJECT_DIR"]) / "seeds" / "school_holidays.csv"
    kept = calendar.read_bytes()
    calendar.unlink()
    try:
        api = live.api
        run_id = api.trigger(BUILD, {"period": "2025-2026"})
        run = api.wait(BUILD, run_id, timeout=RUN_TIMEOUT)
    finally:
        calendar.write_bytes(kept)
    assert run["state"] == "failed"
    return run_id


def _failures_log_blocks(live: Live, run_id: str) -> list[str]:
    from ouderpeil.orchestration.callbacks import _blocks

    text = (live.settings.logs_dir / "failures.log").read_text()
    return [b for b in _blocks(text) if f"run {run_id}:" in b.splitlines()[0]]


@pytest.mark.parametrize(
    "doc, command", documented_commands(), ids=[f"{d}:{c[:60]}" for d, c in documented_commands()]
)
def test_documented_command_runs_as_printed(live, doc, command):
    for pattern, reason in NOT_RUN_HERE:
        if re.search(pattern, command):
            pytest.skip(f"{doc}: `{command}` not run here: {reason}")
    _first_publish(live)
    failed_run = None
    if " rerun " in f" {command} ":
        failed_run = _make_failed_build(live)
        blocks = _failures_log_blocks(live, failed_run)
        assert len(blocks) == 1, "one failures.log summary per failed run"
        assert blocks[0].splitlines()[0].endswith("1 task failed (task gate_raw)"), blocks[0]
        assert "setup error: the school calendar" in blocks[0] and "Fix:" in blocks[0]
    if "--local" in command:
        from ouderpeil.orchestration.services import stop_airflow

        stop_airflow(Path(live.services.airflow_home))
    proc = subprocess.run(
        command,
        shell=True,
        cwd=REPO_ROOT,
        env=live.env,
        text=True,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        executable="/bin/bash",
    )
    print(f"$ {command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    assert proc.returncode == 0, (
        f"{doc}: `{command}` exited {proc.returncode}:\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    if failed_run:
        assert live.api.run(BUILD, failed_run)["state"] == "success", "the failed run re-ran"
    if " clear-task " in f" {command} ":
        assert re.search(r"cleared .*gate_marts", proc.stdout)
        assert ": success" in proc.stdout
