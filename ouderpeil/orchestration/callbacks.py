"""on_failure_callback: say clearly what failed, where people and machines will look.

The package raises ``ouderpeil.errors.*`` whose messages already name the file, model or
expectation at fault; this callback adds the DAG, task and run, then writes the message to

1. the task log (the callback runs in the task's process, so ``log`` lands in the task log),
2. ``<logs_dir>/failures.log``: ONE block per failed DAG run, its first line a one-line
   summary (which tasks failed), then each distinct cause once with the tasks it failed;
   a later failure in the same run rewrites that run's block instead of adding one, and
3. optionally
a webhook (JSON ``{"text": ...}``, Slack/Teams/Mattermost style) and/or e-mail.

Notifications are off unless configured, by environment variable or Airflow Variable:
``OUDERPEIL_ALERT_WEBHOOK_URL`` / Variable ``ouderpeil_alert_webhook_url`` and
``OUDERPEIL_ALERT_EMAIL`` / Variable ``ouderpeil_alert_email`` (comma-separated addresses,
sent through the Airflow connection ``OUDERPEIL_ALERT_SMTP_CONN_ID``, default ``smtp_default``).
A failing notification is logged and never hides the original failure.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import re
import urllib.request
from pathlib import Path

from ouderpeil.config import Settings

log = logging.getLogger("ouderpeil.failures")

MAX_DETAIL_CHARS = 4000  # dbt output can be long; the head says what failed


_DBT_TASK = re.compile(
    r"^(?P<name>.+)_(?P<kind>model|seed|snapshot|source|test)_"
    r"(?P<command>build|run|test|seed|snapshot|source)$"
)


def _what(task_id: str) -> str:
    """Cosmos names dbt tasks '<group>.<node>_<kind>_<command>': say which dbt node failed."""
    group, _, node = task_id.rpartition(".")
    m = _DBT_TASK.match(node)
    if group and m:
        return f"dbt {m['kind']} {m['name']} (dbt {m['command']}, task {task_id})"
    return f"task {task_id}"


# Setup problems that reach a task although the first task checks the environment (a task
# cleared or run on its own): say what they are and the fix, not "dbt model failed".
_MISSING_ENV = re.compile(r"Env var required but not provided: '(?P<name>\w+)'")
KEEPS_SERVING = "The last published serving data stays in place until a run passes the gate."


def failure_detail(exc) -> str:
    if exc is None:
        return "no exception was passed to the callback; see the task log"
    detail = f"{type(exc).__name__}: {exc}".strip()
    m = _MISSING_ENV.search(detail)
    if m and "setup error" not in detail:
        from ouderpeil.orchestration.preflight import HOW_TO_RUN

        detail = (
            f"SetupError: setup error: environment variable {m['name']} not set for this "
            f"Airflow process (dbt's profile reads it). Fix: {HOW_TO_RUN}"
        )
    if len(detail) > MAX_DETAIL_CHARS:
        detail = detail[:MAX_DETAIL_CHARS] + " [... cut, full text in the task log]"
    return detail


def _ti_fields(context) -> tuple[str, str, str, object]:
    ti = context.get("ti") or context.get("task_instance")
    return (
        getattr(ti, "dag_id", "?"),
        getattr(ti, "task_id", "?"),
        getattr(ti, "run_id", "?"),
        getattr(ti, "try_number", "?"),
    )


def failure_message(context) -> str:
    dag_id, task_id, run_id, try_number = _ti_fields(context)
    detail = failure_detail(context.get("exception"))
    return (
        f"Ouderpeil {dag_id}: {_what(task_id)} failed (run {run_id}, try {try_number}).\n"
        f"{detail}\n{KEEPS_SERVING}"
    )


def _runs_dir(settings: Settings) -> Path:
    return settings.logs_dir / "failed_runs"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def run_summary(state: dict) -> str:
    """The failures.log block of one failed run: a one-line summary, then each cause once."""
    tasks = [t for cause in state["causes"] for t in cause["tasks"]]
    head = (
        f"{state['first_at']} FAILED {state['dag_id']} run {state['run_id']}: "
        f"{len(tasks)} task{'s' if len(tasks) != 1 else ''} failed ({', '.join(tasks)})"
    )
    lines = [head]
    for cause in state["causes"]:
        text = cause["detail"].splitlines() or [""]
        lines.append(f"    cause of {', '.join(cause['tasks'])}: {text[0]}")
        lines += ["      " + line for line in text[1:]]
    lines.append(f"    {KEEPS_SERVING}")
    return "\n".join(lines) + "\n"


def _blocks(text: str) -> list[str]:
    """failures.log as blocks: a line that does not start with a space starts a block."""
    blocks: list[str] = []
    for line in text.splitlines(keepends=True):
        if blocks and line[:1].isspace():
            blocks[-1] += line
        else:
            blocks.append(line)
    return blocks


def record_task_failure(
    settings: Settings, dag_id: str, run_id: str, what: str, detail: str
) -> str:
    """Add one failed task to its run's summary in failures.log; returns that summary."""
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    runs = _runs_dir(settings)
    runs.mkdir(parents=True, exist_ok=True)
    state_path = runs / f"{_safe(dag_id)}.{_safe(run_id)}.json"
    log_path = settings.logs_dir / "failures.log"
    # Tasks of one run may fail at the same moment (two workers): one writer at a time.
    with (settings.logs_dir / ".failures.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        state = (
            json.loads(state_path.read_text(encoding="utf-8"))
            if state_path.exists()
            else {"dag_id": dag_id, "run_id": run_id, "first_at": stamp, "causes": []}
        )
        old_block = run_summary(state) if state["causes"] else None
        for cause in state["causes"]:
            if cause["detail"] == detail:
                if what not in cause["tasks"]:
                    cause["tasks"].append(what)
                break
        else:
            state["causes"].append({"detail": detail, "tasks": [what]})
        block = run_summary(state)
        text = log_path.read_text(encoding="utf-8") if log_path.exists() else ""
        blocks = _blocks(text)
        if old_block is not None and old_block in blocks:
            blocks[blocks.index(old_block)] = block
        else:
            blocks.append(block)
        tmp = log_path.with_suffix(".tmp")
        tmp.write_text("".join(blocks), encoding="utf-8")
        tmp.replace(log_path)
        state_path.write_text(json.dumps(state, indent=1), encoding="utf-8")
    return block


def write_failure_log(settings: Settings, message: str, kind: str = "FAILED") -> None:
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
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
                url,
                data=json.dumps({"text": message}).encode("utf-8"),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
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
                hook.send_email_smtp(
                    to=[a.strip() for a in to.split(",") if a.strip()],
                    subject=message.splitlines()[0],
                    html_content=f"<pre>{_html_escape(message)}</pre>",
                )
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
    dag_id, task_id, run_id, _try = _ti_fields(context)
    try:
        record_task_failure(
            Settings.from_env(),
            dag_id,
            run_id,
            _what(task_id),
            failure_detail(context.get("exception")),
        )
    except OSError as exc:
        log.error("could not write failures.log: %s", exc)
    notify(message)
