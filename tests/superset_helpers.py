"""Helpers of the Superset tests: one Superset per session, logins, dataset queries.

test_superset.py, test_dashboard_browser.py and test_security_superset.py share one server
(the `superset` fixture in conftest.py) on the serving file of `make demo`'s sample.
"""

from __future__ import annotations

import json
import re

import duckdb
import pytest
import requests
import yaml

from ouderpeil.config import REPO_ROOT

DASHBOARDS_DIR = REPO_ROOT / "dashboards"
SECTOR_SLUGS = {"po": "ouderpeil-po", "vo": "ouderpeil-vo", "mbo": "ouderpeil-mbo"}
OVERVIEW_SLUG = "ouderpeil-overzicht"
SUPPRESSED_TEXT = "onderdrukt (n<10)"

_SERVER: dict = {}


# --------------------------------------------------------------------------- server
def superset_handle(settings, tmp_path_factory, config):
    """Start Superset once per session (shared with test_dashboard_browser.py)."""
    from ouderpeil.dashboards_server import free_port, start_superset, superset_python

    if not superset_python().exists():
        pytest.skip(f"Superset virtualenv missing ({superset_python()}): run `make superset-env`")
    key = str(settings.serving_path)
    if key not in _SERVER:
        home = tmp_path_factory.mktemp("superset_home")
        handle = start_superset(settings, port=free_port(), home=home, background=True)
        config.add_cleanup(handle.stop)
        artifacts = REPO_ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        (artifacts / "superset-timings.json").write_text(
            json.dumps({k: round(v, 1) for k, v in handle.timings.items()}, indent=2)
        )
        _SERVER[key] = handle
    return _SERVER[key]


# --------------------------------------------------------------------------- HTTP helpers
def api_session(handle, user: dict) -> requests.Session:
    """Log in through the security API (JWT) and keep the CSRF token for POSTs."""
    s = requests.Session()
    r = s.post(
        f"{handle.url}/api/v1/security/login",
        timeout=60,
        json={
            "username": user["username"],
            "password": user["password"],
            "provider": "db",
            "refresh": False,
        },
    )
    assert r.status_code == 200, f"login {user['username']}: {r.status_code} {r.text[:200]}"
    s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    token = s.get(f"{handle.url}/api/v1/security/csrf_token/", timeout=60)
    if token.status_code == 200:
        s.headers["X-CSRFToken"] = token.json()["result"]
    s.headers["Referer"] = handle.url
    return s


def form_login(handle, user: dict) -> requests.Session:
    """Log in through the login form (session cookie), as a browser does."""
    s = requests.Session()
    page = s.get(f"{handle.url}/login/", timeout=60)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'"csrf_token"\s*:\s*"([^"]+)"', page.text
    )
    assert m, "no CSRF token on the login page"
    r = s.post(
        f"{handle.url}/login/",
        timeout=60,
        allow_redirects=False,
        data={"username": user["username"], "password": user["password"], "csrf_token": m.group(1)},
    )
    assert r.status_code in (302, 303) and "session" in s.cookies, (
        f"form login {user['username']} failed: {r.status_code}"
    )
    assert "/login" not in r.headers.get("Location", ""), "login form rejected the password"
    return s


def dashboards_by_slug(handle, s) -> dict:
    r = s.get(
        f"{handle.url}/api/v1/dashboard/", timeout=60, params={"q": json.dumps({"page_size": 100})}
    )
    assert r.status_code == 200, r.text[:300]
    return {d["slug"]: d for d in r.json()["result"]}


def dataset_ids(handle, s) -> dict:
    r = s.get(
        f"{handle.url}/api/v1/dataset/", timeout=60, params={"q": json.dumps({"page_size": 100})}
    )
    assert r.status_code == 200, r.text[:300]
    return {d["table_name"]: d["id"] for d in r.json()["result"]}


def query_dataset(
    handle,
    s,
    dataset_id: int,
    columns: list,
    metrics: list,
    filters: list | None = None,
    result_format: str = "json",
    row_limit: int = 10000,
    force: bool = True,
) -> requests.Response:
    body = {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": force,
        "result_format": result_format,
        "result_type": "full",
        "queries": [
            {
                "columns": columns,
                "metrics": metrics,
                "filters": filters or [],
                "row_limit": row_limit,
                "orderby": [],
                "extras": {"where": "", "having": ""},
            }
        ],
    }
    return s.post(f"{handle.url}/api/v1/chart/data", json=body, timeout=120)


def rows_of(r: requests.Response) -> list[dict]:
    assert r.status_code == 200, f"{r.status_code}: {r.text[:500]}"
    result = r.json()["result"][0]
    assert not result.get("error"), result.get("error")
    return result["data"]


def committed_charts_per_dashboard() -> dict:
    out = {}
    for path in (DASHBOARDS_DIR / "dashboards").glob("*.yaml"):
        dash = yaml.safe_load(path.read_text())
        out[dash["slug"]] = {
            v["meta"]["uuid"]
            for v in dash["position"].values()
            if isinstance(v, dict) and v.get("type") == "CHART"
        }
    return out


def serving_boards(settings) -> set[str]:
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        return {
            b
            for (b,) in con.execute(
                "select distinct board_id from indicator where board_id <> 'ALL'"
            ).fetchall()
        }
    finally:
        con.close()


def serving_board_sectors(settings) -> dict[str, set[str]]:
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        rows = con.execute(
            "select distinct board_id, sector from indicator where board_id <> 'ALL'"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, set[str]] = {}
    for board, sector in rows:
        out.setdefault(board, set()).add(sector)
    return out


def chart_rows(handle, s, dashboard: dict, title_start: str) -> list[dict]:
    """The saved query of the dashboard's chart whose title starts with ``title_start``."""
    charts = s.get(f"{handle.url}/api/v1/dashboard/{dashboard['id']}/charts", timeout=60).json()[
        "result"
    ]
    chart = next(c for c in charts if c["slice_name"].startswith(title_start))
    r = s.get(
        f"{handle.url}/api/v1/chart/{chart['id']}/data/", timeout=120, params={"force": "true"}
    )
    assert r.status_code == 200, f"{chart['slice_name']}: {r.status_code} {r.text[:300]}"
    return r.json()["result"][0]["data"]


GAP_NUMBER = re.compile(r"^(−?\d+,\d+) (procentpunt|contacten per gezin|cijferpunt)$")


def serving_sectors(settings) -> set[str]:
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        return {s for (s,) in con.execute("select distinct sector from indicator").fetchall()}
    finally:
        con.close()
