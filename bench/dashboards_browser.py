"""Dashboards in a real headless Chromium: time from navigation to the last chart drawn.

    python -m bench.dashboards_browser --data-dir <data dir with a published serving file>
        [--loads 5] [--result f.json]

Starts Superset (its own virtualenv, a free port on 127.0.0.1) on the data directory's serving
file, logs in through the login form, and opens every sector dashboard `--loads` times in
Chromium (driven over the DevTools protocol with `websockets`). Each load is timed from
Page.navigate until every chart of the dashboard (as committed in dashboards/) is drawn
(canvas, svg, table rows or a big number) and none is loading; the DOM is polled every 50 ms.
The first load of a dashboard is reported apart (Superset's cache is cold then), p50/p95 over
all loads. A chart that shows an error, or a load that does not finish within the timeout, is
reported, not timed as a success.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import yaml

from ouderpeil.headless_chromium import SUPERSET_CHART_STATE_JS as CHART_STATE_JS
from ouderpeil.headless_chromium import Chromium, find_binary

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SECTOR_SLUGS = ("ouderpeil-po", "ouderpeil-vo", "ouderpeil-mbo")
# Tall enough for the whole dashboard: Superset renders charts only when they are in view.
WIDTH, HEIGHT = 1600, 3600
POLL_SECONDS = 0.05


def committed_chart_counts(dashboards_dir: Path) -> dict[str, int]:
    """Slug -> number of charts in the committed dashboard YAML."""
    out = {}
    for path in (dashboards_dir / "dashboards").glob("*.yaml"):
        dash = yaml.safe_load(path.read_text())
        out[dash["slug"]] = len(
            {
                v["meta"]["uuid"]
                for v in dash["position"].values()
                if isinstance(v, dict) and v.get("type") == "CHART"
            }
        )
    return out


def login(url: str, user: dict):
    import requests

    s = requests.Session()
    page = s.get(f"{url}/login/", timeout=120)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'"csrf_token"\s*:\s*"([^"]+)"', page.text
    )
    if not m:
        raise RuntimeError("no CSRF token on the Superset login page")
    r = s.post(
        f"{url}/login/",
        timeout=120,
        allow_redirects=False,
        data={"username": user["username"], "password": user["password"], "csrf_token": m.group(1)},
    )
    if r.status_code not in (302, 303) or "session" not in s.cookies:
        raise RuntimeError(f"login as {user['username']} failed: {r.status_code}")
    return s


def dashboard_ids(url: str, session) -> dict[str, int]:
    r = session.get(
        f"{url}/api/v1/dashboard/", timeout=120, params={"q": json.dumps({"page_size": 100})}
    )
    r.raise_for_status()
    return {d["slug"]: d["id"] for d in r.json()["result"]}


def time_load(browser: Chromium, url: str, expected: int, timeout: float) -> dict:
    """Navigate and wait for the last chart; seconds from navigation to that moment."""
    browser.navigate("about:blank")
    started = time.perf_counter()
    browser.navigate(url)
    states: list[dict] = []
    while time.perf_counter() - started < timeout:
        try:
            states = browser.eval(CHART_STATE_JS) or []
        except TimeoutError:  # a starved renderer answers late: keep polling until `timeout`
            continue
        settled = [
            s for s in states if (s["drawn"] or s["error"] or s["empty"]) and not s["loading"]
        ]
        if len(states) >= expected and len(settled) == len(states):
            seconds = time.perf_counter() - started
            errors = [s["name"] for s in states if s["error"]]
            return {
                "seconds": seconds,
                "charts": len(states),
                "ok": not errors,
                "errors": errors,
                "empty": [s["name"] for s in states if s["empty"]],
            }
        time.sleep(POLL_SECONDS)
    return {
        "seconds": None,
        "ok": False,
        "charts": len(states),
        "error": f"not every chart drawn within {timeout:.0f} s "
        f"({sum(1 for s in states if s['drawn'])} of {expected})",
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(data_dir: Path, loads: int, timeout: float, start_timeout: float = 1800) -> dict:
    from ouderpeil.config import Settings
    from ouderpeil.dashboards_server import free_port, start_superset

    binary = find_binary()
    if binary is None:
        raise RuntimeError("headless Chromium not installed: run `make browser`")
    settings = Settings.from_env()
    started = time.perf_counter()
    # Superset's first init (database migrations) alone took over 10 minutes on the shared
    # machine: a generous limit, reported as superset_start_seconds.
    handle = start_superset(
        settings, port=free_port(), home=data_dir / "superset-bench", timeout=start_timeout
    )
    start_seconds = time.perf_counter() - started
    browser = None
    try:
        session = login(handle.url, handle.admin)
        ids = dashboard_ids(handle.url, session)
        counts = committed_chart_counts(settings.dashboards_dir)
        browser = Chromium(binary, width=WIDTH, height=HEIGHT)
        browser.set_cookie(handle.url, "session", session.cookies.get("session"))
        out = {}
        for slug in SECTOR_SLUGS:
            if slug not in ids:
                out[slug] = {"ok": False, "error": "dashboard not imported"}
                continue
            url = f"{handle.url}/superset/dashboard/{ids[slug]}/"
            runs = []
            for _ in range(loads):
                try:
                    runs.append(time_load(browser, url, counts.get(slug, 1), timeout))
                except (TimeoutError, RuntimeError) as exc:  # reported, the rest still runs
                    runs.append({"seconds": None, "ok": False, "error": repr(exc)})
            good = [r["seconds"] for r in runs if r["ok"]]
            out[slug] = {
                "ok": len(good) == len(runs),
                "charts": counts.get(slug),
                "first_load_seconds": runs[0]["seconds"],
                "p50_seconds": statistics.median(good) if good else None,
                "p95_seconds": _percentile(good, 0.95) if good else None,
                "all_seconds": [
                    None if r["seconds"] is None else round(r["seconds"], 3) for r in runs
                ],
                "problems": [r for r in runs if not r["ok"]],
            }
        every = [s for d in out.values() for s in d.get("all_seconds") or [] if s is not None]
        return {
            "dashboards": out,
            "loads_per_dashboard": loads,
            "superset_start_seconds": start_seconds,
            "p50_seconds": statistics.median(every) if every else None,
            "p95_seconds": _percentile(every, 0.95) if every else None,
            "ok": all(d["ok"] for d in out.values()),
        }
    finally:
        if browser is not None:
            browser.close()
        handle.stop()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--loads", type=int, default=5)
    p.add_argument("--timeout", type=float, default=180, help="per load, seconds")
    p.add_argument(
        "--start-timeout",
        type=float,
        default=1800,
        help="seconds for Superset to init, import and answer",
    )
    p.add_argument("--result", type=Path)
    args = p.parse_args(argv)
    from ouderpeil.config import Settings

    result = measure(Settings.from_env().data_dir, args.loads, args.timeout, args.start_timeout)
    # The stage result format of bench.run (as bench.stage writes it): the numbers in details.
    text = json.dumps(
        {"stage": "dashboards_browser", "ok": result["ok"], "details": result},
        indent=2,
        default=str,
    )
    if args.result:
        args.result.write_text(text)
    print(text)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
