"""The Airflow 3 REST API (/api/v2) of a running api-server, with the standard library only.

What the demo, the `ouderpeil trigger/backfill/rerun/clear-task` commands and the tests need:
log in (simple auth manager: POST /auth/token), list and unpause DAGs, trigger a run with a
conf, read runs and task instances, clear task instances, and wait for a run to finish.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from ouderpeil.errors import OuderpeilError

FINISHED = ("success", "failed")


class AirflowApiError(OuderpeilError):
    """The api-server answered with an error; the message holds its detail."""


def health(base_url: str) -> dict | None:
    """/api/v2/monitor/health, or None while the api-server does not answer yet."""
    try:
        with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=10) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str):
        self.base_url = base_url.rstrip("/")
        self._login = (username, password)
        self._token: str | None = None

    def _request(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.base_url}{path}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")
            raise AirflowApiError(
                f"Airflow API {method} {path}: HTTP {exc.code}: {detail}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise AirflowApiError(
                f"Airflow API at {self.base_url} does not answer ({exc}); "
                "is Airflow running (make demo)?"
            ) from None
        return json.loads(raw) if raw else None

    def token(self) -> str:
        if self._token is None:
            user, password = self._login
            self._token = self._request(
                "POST", "/auth/token", {"username": user, "password": password}, auth=False
            )["access_token"]
        return self._token

    def dags(self) -> dict[str, dict]:
        return {d["dag_id"]: d for d in self._request("GET", "/api/v2/dags?limit=100")["dags"]}

    def unpause(self, dag_id: str) -> None:
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        run = self._request(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )
        return run["dag_run_id"]

    def runs(self, dag_id: str, limit: int = 25) -> list[dict]:
        """Newest first."""
        q = urllib.parse.urlencode({"order_by": "-id", "limit": limit})
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns?{q}")["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{_q(run_id)}")

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict]:
        out = self._request(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{_q(run_id)}/taskInstances?limit=500"
        )
        return {t["task_id"]: t for t in out["task_instances"]}

    def clear(
        self,
        dag_id: str,
        run_id: str,
        task_ids: list[str] | None = None,
        only_failed: bool = False,
        downstream: bool = False,
    ) -> list[str]:
        """Clear task instances of one run so the scheduler runs them again."""
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "only_failed": only_failed,
            "include_downstream": downstream,
            "reset_dag_runs": True,
        }
        if task_ids:
            body["task_ids"] = task_ids
        out = self._request("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", body)
        return [t["task_id"] for t in out.get("task_instances", [])]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task log as the UI shows it (read by the api-server, local file or log server)."""
        out = self._request(
            "GET",
            f"/api/v2/dags/{dag_id}/dagRuns/{_q(run_id)}/taskInstances/"
            f"{_q(task_id)}/logs/{try_number}?full_content=true",
        )
        content = out.get("content")
        if isinstance(content, list):
            return "\n".join(c.get("event", "") if isinstance(c, dict) else str(c) for c in content)
        return str(content)

    def wait(
        self, dag_id: str, run_id: str, timeout: float = 1800, poll: float = 3, alive=None
    ) -> dict:
        """Until the run is success or failed; raises OuderpeilError on timeout.

        alive: optional callable that raises when the services stopped (nothing would run)."""
        deadline = time.monotonic() + timeout
        while True:
            if alive is not None:
                alive()
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise OuderpeilError(
                    f"{dag_id} run {run_id} still {run['state']} after "
                    f"{timeout:.0f} s; see the Airflow UI"
                )
            time.sleep(poll)

    def failed_tasks(self, dag_id: str, run_id: str) -> list[str]:
        return sorted(
            t for t, ti in self.task_instances(dag_id, run_id).items() if ti["state"] == "failed"
        )


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")
