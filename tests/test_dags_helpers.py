"""Fast checks of the orchestration helpers that need no Airflow process: school years and run
ids for params and schedules, and the failure callback's message, log file and webhook."""

from __future__ import annotations

import datetime as dt
import email
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from ouderpeil.errors import OuderpeilError, QualityGateFailed
from ouderpeil.orchestration import callbacks
from ouderpeil.orchestration.runs import (
    check_school_year,
    export_period_for,
    pipeline_run_id,
    school_year_of,
)


@pytest.mark.parametrize(
    "day, year",
    [
        (dt.date(2025, 7, 31), "2024-2025"),
        (dt.date(2025, 8, 1), "2025-2026"),
        (dt.date(2026, 1, 1), "2025-2026"),
    ],
)
def test_school_year_starts_on_1_august(day, year):
    assert school_year_of(day) == year


@pytest.mark.parametrize(
    "run_date, period",
    [
        (dt.datetime(2026, 1, 1, 6), "2025-2026"),  # autumn term of 2025-2026
        (dt.datetime(2026, 4, 1, 6), "2025-2026"),
        (dt.datetime(2026, 8, 1, 6), "2025-2026"),  # the school year that ended on 31 July
    ],
)
def test_termly_export_takes_the_term_that_just_closed(run_date, period):
    assert export_period_for(run_date) == period


def test_backfill_period_must_be_a_school_year():
    assert check_school_year("2024-2025") == "2024-2025"
    for bad in ("2024-2026", "2024", "24-25", "2024/2025", "", None):
        with pytest.raises(OuderpeilError):
            check_school_year(bad)


def test_pipeline_run_id_is_file_name_safe_and_traceable():
    rid = pipeline_run_id("ouderpeil_build", "manual__2026-11-26T04:06:51.732930+00:00")
    assert rid == "ouderpeil_build.manual__2026-11-26T04-06-51.732930-00-00"


def _context(task_id: str, exc: BaseException):
    ti = SimpleNamespace(
        dag_id="ouderpeil_build", task_id=task_id, run_id="manual__x", try_number=1
    )
    return {"ti": ti, "exception": exc}


def test_failure_message_names_the_dbt_model_and_the_package_error():
    msg = callbacks.failure_message(
        _context(
            "dbt.fct_indicator_model_build", OuderpeilError("dbt build failed: model fct_indicator")
        )
    )
    assert "dbt model fct_indicator (dbt build, task dbt.fct_indicator_model_build)" in msg
    assert "OuderpeilError: dbt build failed: model fct_indicator" in msg
    msg = callbacks.failure_message(_context("gate_raw", QualityGateFailed("raw.contact_logs ...")))
    assert msg.startswith("Ouderpeil ouderpeil_build: task gate_raw failed (run manual__x, try 1)")
    assert "last published serving data stays in place" in msg


def test_on_failure_writes_failures_log_without_notifications(settings, monkeypatch):
    # The callback reads the settings of the worker it runs on: the environment.
    monkeypatch.setenv("OUDERPEIL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OUDERPEIL_LOGS_DIR", str(settings.logs_dir))
    monkeypatch.setenv("OUDERPEIL_ALERT_WEBHOOK_URL", "")  # explicitly off; no Variable lookup
    monkeypatch.setenv("OUDERPEIL_ALERT_EMAIL", "")
    callbacks.on_failure(_context("load_messages", QualityGateFailed("messages_2025.csv: bad")))
    text = (settings.logs_dir / "failures.log").read_text()
    assert text.splitlines()[0].endswith(
        "FAILED ouderpeil_build run manual__x: 1 task failed (task load_messages)"
    )
    assert "cause of task load_messages: QualityGateFailed: messages_2025.csv: bad" in text


def _run_context(task_id: str, exc: BaseException, run_id: str):
    ti = SimpleNamespace(dag_id="ouderpeil_build", task_id=task_id, run_id=run_id, try_number=1)
    return {"ti": ti, "exception": exc}


def test_failures_log_has_one_summary_per_failed_run(settings, monkeypatch):
    """Ten dbt tasks failing on one cause: one block for the run, the cause once, every task
    named; a different cause in the same run is added to that block; another run gets its own."""
    monkeypatch.setenv("OUDERPEIL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OUDERPEIL_LOGS_DIR", str(settings.logs_dir))
    monkeypatch.setenv("OUDERPEIL_ALERT_WEBHOOK_URL", "")
    monkeypatch.setenv("OUDERPEIL_ALERT_EMAIL", "")
    missing = OuderpeilError("Env var required but not provided: 'OUDERPEIL_WAREHOUSE'")
    models = [f"stg_model_{i}" for i in range(10)]
    for m in models:
        callbacks.on_failure(_run_context(f"dbt.{m}_model_build", missing, "run_a"))
    callbacks.write_failure_log(settings, "Ouderpeil ingest: x.csv quarantined", "QUARANTINED")
    callbacks.on_failure(_run_context("gate_marts", QualityGateFailed("marts: n < 0"), "run_a"))
    callbacks.on_failure(_run_context("gate_raw", QualityGateFailed("raw: bad"), "run_b"))

    from ouderpeil.orchestration.callbacks import _blocks

    blocks = _blocks((settings.logs_dir / "failures.log").read_text())
    run_a = [b for b in blocks if " FAILED ouderpeil_build run run_a:" in b]
    run_b = [b for b in blocks if " FAILED ouderpeil_build run run_b:" in b]
    assert len(run_a) == 1 and len(run_b) == 1
    assert sum("QUARANTINED" in b for b in blocks) == 1 and len(blocks) == 3
    head = run_a[0].splitlines()[0]
    assert head.endswith(
        ": 11 tasks failed ("
        + ", ".join(
            [f"dbt model {m} (dbt build, task dbt.{m}_model_build)" for m in models]
            + ["task gate_marts"]
        )
        + ")"
    )
    # The setup cause once, said as what it is, with the fix; the gate's cause once.
    assert run_a[0].count("OUDERPEIL_WAREHOUSE") == 1
    assert "setup error: environment variable OUDERPEIL_WAREHOUSE not set" in run_a[0]
    assert "Fix: run Airflow through `make demo`" in run_a[0]
    assert run_a[0].count("cause of") == 2 and "marts: n < 0" in run_a[0]


def test_setup_checks_say_what_is_missing_and_the_fix(settings, tmp_path):
    import shutil

    from ouderpeil.config import Settings
    from ouderpeil.errors import SetupError
    from ouderpeil.orchestration import preflight

    with pytest.raises(SetupError, match="OUDERPEIL_WAREHOUSE not set.*Fix: run Airflow"):
        preflight.require_environment({"OUDERPEIL_DATA_DIR": "/x"})
    preflight.require_environment({"OUDERPEIL_DATA_DIR": "/x", "OUDERPEIL_WAREHOUSE": "/x/w"})

    project = tmp_path / "dbt_project"
    shutil.copytree(
        settings.dbt_project_dir, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    s = Settings.from_env(
        {"OUDERPEIL_DATA_DIR": str(settings.data_dir), "OUDERPEIL_DBT_PROJECT_DIR": str(project)}
    )
    # The calendar lacks a year with activity, then is missing altogether.
    preflight.check_calendar(s, {"2024-2025", "2025-2026"})
    with pytest.raises(SetupError, match="no holidays for school year 2031-2032.*Fix: add"):
        preflight.check_calendar(s, {"2025-2026", "2031-2032"})
    (project / "seeds" / "school_holidays.csv").unlink()
    with pytest.raises(SetupError, match="school calendar .* is missing.*Fix: restore"):
        preflight.check_calendar(s, {"2025-2026"})

    # A dbt project that does not parse: one setup error naming the file.
    manifest = tmp_path / "manifest.json"
    (project / "models" / "staging" / "_broken.yml").write_text("models: [: nope\n")
    with pytest.raises(SetupError, match=r"does not parse.*_broken\.yml|does not parse"):
        preflight.check_dbt_project(s, manifest)


def test_webhook_notification_posts_the_message(monkeypatch):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv(
            "OUDERPEIL_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook"
        )
        monkeypatch.setenv("OUDERPEIL_ALERT_EMAIL", "")
        assert callbacks.notify("Ouderpeil ouderpeil_build: task gate_raw failed") == ["webhook"]
    finally:
        server.shutdown()
    assert received == [{"text": "Ouderpeil ouderpeil_build: task gate_raw failed"}]


EMAIL_SCRIPT = r"""
import asyncore, json, os, smtpd, threading, time
got = []
class Server(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        got.append({"from": mailfrom, "to": rcpttos, "data": data.decode(errors="replace")})
server = Server(("127.0.0.1", 0), None)
port = server.socket.getsockname()[1]
threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True).start()
os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps({
    "conn_type": "smtp", "host": "127.0.0.1", "port": port,
    "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@example.org"}})
from ouderpeil.orchestration import callbacks
sent = callbacks.notify("Ouderpeil ouderpeil_build: task gate_raw failed\n<raw.contact_logs>")
for _ in range(50):
    if got:
        break
    time.sleep(0.1)
print(json.dumps({"sent": sent, "got": got}))
"""


def test_email_notification_goes_through_the_airflow_smtp_connection(tmp_path):
    """A real SMTP exchange with a local server, through Airflow's SmtpHook and an
    AIRFLOW_CONN_* connection (in a subprocess: Airflow reads its config on import)."""
    pytest.importorskip("smtpd", reason="smtpd (test SMTP server) was removed in Python 3.12")
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "OUDERPEIL_ALERT_WEBHOOK_URL": "",
        "OUDERPEIL_ALERT_EMAIL": "ops@example.org, data@example.org",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    proc = subprocess.run(
        [sys.executable, "-c", EMAIL_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["sent"] == ["email"]
    (mail,) = result["got"]
    assert mail["to"] == ["ops@example.org", "data@example.org"]
    message = email.message_from_string(mail["data"])
    assert message["Subject"] == "Ouderpeil ouderpeil_build: task gate_raw failed"
    body = "".join(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/html"
    )
    assert "&lt;raw.contact_logs&gt;" in body  # the message, escaped into HTML


def test_demo_stops_before_anything_when_a_port_is_taken(tmp_path):
    """`make demo` with the Airflow port in use: one clear message naming the port and the
    variable that moves it, exit 1, and nothing generated or started."""
    import os
    import socket
    import subprocess
    import sys

    from ouderpeil.config import REPO_ROOT

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {
            **os.environ,
            "OUDERPEIL_DATA_DIR": str(tmp_path / "data"),
            "OUDERPEIL_HMAC_KEY": "00" * 32,
            "OUDERPEIL_AIRFLOW_PORT": str(port),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "ouderpeil.demo"],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        f"port {port} (api) is already in use: set OUDERPEIL_AIRFLOW_PORT=<free port>"
        in proc.stderr
    )
    assert not any((tmp_path / "data" / "inbox").rglob("*.csv")), "nothing was generated"
    assert not (tmp_path / "data" / "airflow" / "run").exists(), "nothing was started"
