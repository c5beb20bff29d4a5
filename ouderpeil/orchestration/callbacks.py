"""on_failure_callback: say clearly what failed, where people and machines will look.

The package raises ``ouderpeil.errors.*`` whose messages already name the file, model or
expectation at fault; this callback adds the DAG, task and run, then writes the message to

1. the task log (the callback runs in the task's process, so ``log`` lands in the task log),
2. ``<logs_dir>/failures.log`` (one block per failure, newest last), and
3. optionally a webhook (JSON ``{"text": ...}``, Slack/Teams/Mattermost style) and/or e-mail.

Notifications are off unless configured, by environment variable or Airflow Variable:
``OUDERPEIL_ALERT_WEBHOOK_URL`` / Variable ``ouderpeil_alert_webhook_url`` and
``OUDERPEIL_ALERT_EMAIL`` / Variable ``ouderpeil_alert_email`` (comma-separated addresses,
sent through the Airflow connection ``OUDERPEIL_ALERT_SMTP_CONN_ID``, default ``smtp_default``).
A failing notification is logged and never hides the original failure.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import urllib.request

from ouderpeil.config import Settings

log = logging.getLogger("ouderpeil.failures")

MAX_DETAIL_CHARS = 4000  # dbt output can be long; the head says what failed


_DBT_TASK = re.compile(r"^(?P<name>.+)_(?P<kind>model|seed|snapshot|source|test)_"
                       r"(?P<command>build|run|test|seed|snapshot|source)$")


def _what(task_id: str) -> str:
    """Cosmos names dbt tasks '<group>.<node>_<kind>_<command>': say which dbt node failed."""
    group, _, node = task_id.rpartition(".")
    m = _DBT_TASK.match(node)
    if group and m:
        return f"dbt {m['kind']} {m['name']} (dbt {m['command']}, task {task_id})"
    return f"task {task_id}"


def failure_message(context) -> str:
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", "?")
    try_number = getattr(ti, "try_number", "?")
    exc = context.get("exception")
    if exc is None:
        detail = "no exception was passed to the callback; see the task log"
    else:
        detail = f"{type(exc).__name__}: {exc}".strip()
    if len(detail) > MAX_DETAIL_CHARS:
        detail = detail[:MAX_DETAIL_CHARS] + " [... cut, full text in the task log]"
    return (f"Ouderpeil {dag_id}: {_what(task_id)} failed (run {run_id}, try {try_number}).\n"
            f"{detail}\n"
            "The last published serving data stays in place until a run passes the gate.")


def write_failure_log(settings: Settings, message: str, kind: str = "FAILED") -> None:
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = "\n".join("    " + line for line in message.splitlines())
    with (settings.logs_dir / "failures.log").open("a", encoding="utf-8") as fh:
        fh.write(f"{stamp} {kind}\n{body}\n")


def _setting(env_name: str, variable_name: str) -> str | None:
    """Environment first (cheap, works without a metadata DB), then the Airflow Variable."""
    value = os.environ.get(env_name)
    if value is not None:
        return value.strip() or None
    try:
        from airflow.sdk import Variable

        value = Variable.get(variable_name, default=None)
    except Exception:  # no API server reachable, e.g. when called outside a task
        return None
    return (value or "").strip() or None


def notify(message: str) -> list[str]:
    """Send the message to the configured webhook / e-mail; returns what was sent."""
    sent = []
    url = _setting("OUDERPEIL_ALERT_WEBHOOK_URL", "ouderpeil_alert_webhook_url")
    if url:
        try:
            req = urllib.request.Request(
                url, data=json.dumps({"text": message}).encode("utf-8"),
                headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(req, timeout=10) as resp:
                resp.read()
            sent.append("webhook")
        except Exception as exc:
            log.warning("failure webhook not sent: %s", exc)
    to = _setting("OUDERPEIL_ALERT_EMAIL", "ouderpeil_alert_email")
    if to:
        try:
            from airflow.providers.smtp.hooks.smtp import SmtpHook

            conn_id = os.environ.get("OUDERPEIL_ALERT_SMTP_CONN_ID", "smtp_default")
            with SmtpHook(smtp_conn_id=conn_id) as hook:
                hook.send_email_smtp(to=[a.strip() for a in to.split(",") if a.strip()],
                                     subject=message.splitlines()[0],
                                     html_content=f"<pre>{_html_escape(message)}</pre>")
            sent.append("email")
        except Exception as exc:
            log.warning("failure e-mail not sent: %s", exc)
    return sent


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def on_failure(context) -> None:
    """The on_failure_callback of every Ouderpeil task (set in common.default_args)."""
    message = failure_message(context)
    log.error("%s", message)
    try:
        write_failure_log(Settings.from_env(), message)
    except OSError as exc:
        log.error("could not write failures.log: %s", exc)
    notify(message)
