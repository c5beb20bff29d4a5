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
from ouderpeil.orchestration.runs import (check_school_year, export_period_for,
                                          pipeline_run_id, school_year_of)


@pytest.mark.parametrize("day, year", [
    (dt.date(2025, 7, 31), "2024-2025"),
    (dt.date(2025, 8, 1), "2025-2026"),
    (dt.date(2026, 1, 1), "2025-2026"),
])
def test_school_year_starts_on_1_august(day, year):
    assert school_year_of(day) == year


@pytest.mark.parametrize("run_date, period", [
    (dt.datetime(2026, 1, 1, 6), "2025-2026"),   # autumn term of 2025-2026
    (dt.datetime(2026, 4, 1, 6), "2025-2026"),
    (dt.datetime(2026, 8, 1, 6), "2025-2026"),   # the school year that ended on 31 July
])
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
    ti = SimpleNamespace(dag_id="ouderpeil_build", task_id=task_id, run_id="manual__x",
                         try_number=1)
    return {"ti": ti, "exception": exc}


def test_failure_message_names_the_dbt_model_and_the_package_error():
    msg = callbacks.failure_message(_context(
        "dbt.fct_indicator_model_build", OuderpeilError("dbt build failed: model fct_indicator")))
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
    assert "FAILED" in text and "task load_messages failed" in text
    assert "QualityGateFailed: messages_2025.csv: bad" in text


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
        monkeypatch.setenv("OUDERPEIL_ALERT_WEBHOOK_URL",
                           f"http://127.0.0.1:{server.server_port}/hook")
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

    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "OUDERPEIL_ALERT_WEBHOOK_URL": "",
           "OUDERPEIL_ALERT_EMAIL": "ops@example.org, data@example.org",
           "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    proc = subprocess.run([sys.executable, "-c", EMAIL_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["sent"] == ["email"]
    (mail,) = result["got"]
    assert mail["to"] == ["ops@example.org", "data@example.org"]
    message = email.message_from_string(mail["data"])
    assert message["Subject"] == "Ouderpeil ouderpeil_build: task gate_raw failed"
    body = "".join(part.get_payload(decode=True).decode() for part in message.walk()
                   if part.get_content_type() == "text/html")
    assert "&lt;raw.contact_logs&gt;" in body  # the message, escaped into HTML
