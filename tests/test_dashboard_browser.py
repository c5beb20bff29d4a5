"""The dashboards in a real headless Chromium: every chart renders, nothing shows an error.

Chromium (Debian package ``chromium``; ``make browser`` installs it) is driven over the DevTools
protocol with the ``websockets`` client that the main virtualenv already has: the test logs in
through Superset's login form with ``requests``, hands the session cookie to the browser, opens
each dashboard, waits until every chart has drawn (canvas, table or big number), checks the DOM
for error alerts and saves a full-page screenshot to ``test-artifacts/screenshots/``.
The Superset server is the session one from test_superset.py (``make demo``'s sample through
the real pipeline). Board users open every dashboard they are offered; the page must lead with
the gap panel showing numbers and hold none of Superset's English placeholders.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from test_superset import (  # noqa: F401
    GAP_NUMBER,
    OVERVIEW_SLUG,
    SECTOR_SLUGS,
    api_session,
    committed_charts_per_dashboard,
    dashboards_by_slug,
    form_login,
    superset_handle,
)

from ouderpeil.config import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.superset, pytest.mark.browser]

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--lang=nl-NL",
    "--remote-debugging-port=0",
]
WIDTH, HEIGHT = 1600, 1200
PAGE_HEIGHT = 5600  # taller than the longest dashboard
RENDER_TIMEOUT = 180

# Per chart: has it drawn, is it still loading, does it show an error? Evaluated in the page.
CHART_STATE_JS = r"""
(() => Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map(el => {
  const viz = el.getAttribute('data-test-viz-type');
  const text = (el.innerText || '').trim();
  const canvas = Array.from(el.querySelectorAll('canvas')).some(c => c.width > 0 && c.height > 0);
  const svg = el.querySelectorAll('svg path, svg rect, svg text').length > 3;
  const rows = el.querySelectorAll('table tbody tr').length;
  const big = viz && viz.startsWith('big_number')
      && /\d|N\/A|Geen|No data/.test((el.querySelector('.header-line') || el).innerText || '');
  const html = viz === 'handlebars' && /\w{4}/.test(text.replace(el.getAttribute('data-test-chart-name') || '', ''));
  const loading = el.querySelectorAll('[data-test="loading-indicator"], .loading').length > 0;
  const error = el.querySelectorAll(
      '.ant-alert-error, [data-test="error-tooltip"], [data-test="chart-error"], .alert-danger'
    ).length > 0 || /Unexpected error|Onverwachte fout|Fout:|Error:/.test(text);
  const empty = /No results|Geen resultaten/.test(text);
  return {id: el.getAttribute('data-test-chart-id'), name: el.getAttribute('data-test-chart-name'),
          viz, drawn: canvas || svg || rows > 0 || big || html, rows, loading, error, empty,
          text: text.slice(0, 400)};
}))()
"""


# --------------------------------------------------------------------------- Chromium (CDP)
class Chromium:
    """Headless Chromium with a fresh profile, driven over the DevTools protocol."""

    def __init__(self, binary: str):
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="ouderpeil-chromium-")
        self.proc = subprocess.Popen(
            [
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
        self._ids = itertools.count(1)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Network"):
            self.call(f"{domain}.enable", page=True)
        self.resize(HEIGHT)

    def call(self, method: str, page: bool = False, timeout: float = 60, **params):
        msg_id = next(self._ids)
        msg = {"id": msg_id, "method": method, "params": params}
        if page:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(method)
            data = json.loads(self.ws.recv(timeout=remaining))
            if data.get("id") == msg_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})

    def eval(self, expression: str):
        result = self.call(
            "Runtime.evaluate",
            page=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        return result.get("result", {}).get("value")

    def resize(self, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            page=True,
            width=WIDTH,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def screenshot(self, height: int) -> bytes:
        data = self.call(
            "Page.captureScreenshot",
            page=True,
            format="png",
            clip={"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1},
        )["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


def png_pixels(png: bytes) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into an array, stdlib + numpy."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8)
    stride = width * bpp
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        ftype, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 0xFF
        else:  # sub (1), average (3), paeth (4) depend on the left neighbour: byte by byte
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if ftype == 1:
                    pred = a
                elif ftype == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + pred) & 0xFF
        out[y] = cur
        prev = cur
    return out.reshape(height, width, bpp)[:, :, :3]


def assert_not_blank(png: bytes, name: str) -> None:
    px = png_pixels(png)
    h, w, _ = px.shape
    assert h >= 800 and w >= 1000, f"{name}: screenshot only {w}x{h}"
    flat = px.reshape(-1, 3)
    non_white = (flat.min(axis=1) < 235).mean()
    colours = len(np.unique((flat // 16).astype(np.int32) @ np.array([256, 16, 1])))
    # Charts in colour: blue/teal/red series, not just grey text on white.
    saturated = ((flat.max(axis=1) - flat.min(axis=1)) > 60).mean()
    assert non_white > 0.03, f"{name}: screenshot is nearly blank ({non_white:.1%} ink)"
    assert colours > 40, f"{name}: only {colours} colours in the screenshot"
    assert saturated > 0.005, f"{name}: no coloured chart content ({saturated:.2%})"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium not installed: run `make browser` (apt-get install chromium)")


@pytest.fixture(scope="session")
def superset(demo_published_settings, tmp_path_factory, request):
    return superset_handle(demo_published_settings, tmp_path_factory, request.config)


@pytest.fixture
def browser(chromium_binary):
    b = Chromium(chromium_binary)
    yield b
    b.close()


def wait_for_charts(browser: Chromium, expected_charts: int) -> list[dict]:
    deadline = time.monotonic() + RENDER_TIMEOUT
    states: list[dict] = []
    while time.monotonic() < deadline:
        time.sleep(2)
        states = browser.eval(CHART_STATE_JS) or []
        settled = [
            s for s in states if (s["drawn"] or s["error"] or s["empty"]) and not s["loading"]
        ]
        if len(states) >= expected_charts and len(settled) == len(states):
            break
    return states


CONTENT_BOTTOM_JS = r"""
(() => Math.ceil(Math.max(0, ...Array.from(document.querySelectorAll(
   '[data-test="chart-grid-component"], .dashboard-markdown, .dashboard-header'))
   .map(e => e.getBoundingClientRect().bottom + window.scrollY))))()
"""


def open_dashboard(
    browser: Chromium, handle, session, dashboard_id: int, expected_charts: int
) -> tuple[list[dict], int]:
    """Open a dashboard in a window tall enough for all of it; return chart states and the
    height of the content. (Resizing or capturing beyond the viewport makes Superset lay the
    grid out again, and a shot taken then is blank, so the window is tall from the start.)"""
    browser.resize(PAGE_HEIGHT)
    browser.call(
        "Network.setCookie",
        page=True,
        name="session",
        url=handle.url,
        value=session.cookies.get("session"),
        httpOnly=True,
    )
    browser.call("Page.navigate", page=True, url=f"{handle.url}/superset/dashboard/{dashboard_id}/")
    wait_for_charts(browser, expected_charts)
    time.sleep(3)  # chart animations (ECharts) finish
    bottom = int(browser.eval(CONTENT_BOTTOM_JS) or PAGE_HEIGHT)
    return browser.eval(CHART_STATE_JS) or [], bottom


def check_and_shoot(browser, handle, session, slug: str, name: str) -> None:
    dash = dashboards_by_slug(handle, session)[slug]
    expected = len(committed_charts_per_dashboard()[slug])
    states, bottom = open_dashboard(browser, handle, session, dash["id"], expected)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = browser.screenshot(min(PAGE_HEIGHT, bottom + 24))
    (SCREENSHOTS / f"{name}.png").write_bytes(png)
    assert len(states) == expected, (
        f"{slug}: {len(states)} charts on the page, {expected} committed"
    )
    assert bottom < PAGE_HEIGHT, f"{slug}: dashboard taller than the {PAGE_HEIGHT} px window"
    errors = [s for s in states if s["error"]]
    assert not errors, f"{slug}: charts with errors: {errors}"
    undrawn = [s for s in states if not s["drawn"]]
    assert not undrawn, f"{slug}: charts that did not render: {undrawn}"
    markdown = browser.eval("document.querySelector('.dashboard-markdown')?.innerText || ''")
    assert "Definities" in markdown or "Landelijk 2014" in markdown, "explanation text missing"
    assert_not_blank(png, name)
    return states


# What board staff must never read (issue 14): English placeholders and raw codes.
ENGLISH_PLACEHOLDERS = [
    (re.compile(r"\bN/A\b"), "N/A"),
    (re.compile(r"\b\d+ options\b"), "N options"),
    (re.compile(r"\bALL\b"), "ALL"),
    (re.compile(r"\bch\. \d"), "ch."),
    (re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d\b"), "English month"),
    (re.compile(r"\b\d+-\d+ of \d+\b"), "1-4 of 4"),
    (re.compile(r"\bNo (data|results)\b"), "No data"),
]


def english_in(text: str) -> list[str]:
    return [
        f"{label}: {m.group(0)!r}"
        for rx, label in ENGLISH_PLACEHOLDERS
        for m in [rx.search(text)]
        if m
    ]


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("sector", ["po", "vo", "mbo"])
def test_sector_dashboard_renders_for_the_inspector(superset, browser, sector):
    session = form_login(superset, superset.inspector)
    check_and_shoot(browser, superset, session, SECTOR_SLUGS[sector], sector)


def test_overview_dashboard_renders(superset, browser):
    session = form_login(superset, superset.inspector)
    check_and_shoot(browser, superset, session, OVERVIEW_SLUG, "overzicht")


def test_board_users_open_every_dashboard_they_are_offered(superset, browser):
    """Each demo board user: the dashboards listed for them (their sectors and the overview),
    each opened in Chromium: the gap panel first with the board's name and published numbers,
    no English placeholders, no other board's name, no SQL Lab in the menu."""
    d3_locale = None
    for user in superset.board_users:
        session = form_login(superset, user)
        api = api_session(superset, user)
        offered = dashboards_by_slug(superset, api)
        assert OVERVIEW_SLUG in offered and len(offered) >= 2, (user["username"], offered)
        for slug in sorted(offered):
            name = "overzicht" if slug == OVERVIEW_SLUG else slug.removeprefix("ouderpeil-")
            states = check_and_shoot(browser, superset, session, slug, f"{name}-{user['username']}")
            page_text = browser.eval("document.body.innerText") or ""
            assert not english_in(page_text), (slug, user["username"], english_in(page_text))
            header = next(s for s in states if s["name"] == "Bereiken we alle gezinnen?")
            assert f"Bereiken we alle gezinnen? — {user['board_name']}" in header["text"], header[
                "text"
            ]
            gap_panel = browser.eval(GAP_PANEL_JS) or ""
            numbers = re.findall(
                r"−?\d+,\d+ (?:procentpunt|contacten per gezin|cijferpunt)", gap_panel
            )
            assert numbers, f"{slug} {user['username']}: gap panel without numbers: {gap_panel!r}"
            others = [
                u["board_name"] for u in superset.board_users if u["board_id"] != user["board_id"]
            ]
            for other in others:
                assert other not in page_text, f"{user['username']} sees another board: {other}"
            assert "SQL" not in browser.eval(
                "Array.from(document.querySelectorAll('header a, nav a, .ant-menu-item'))"
                ".map(a => a.innerText).join(' ')"
            ), "board staff must not see SQL Lab"
            if d3_locale is None:
                d3_locale = browser.eval(D3_LOCALE_JS)
    # Month names on the (canvas-drawn) axes come from the d3 time locale Superset hands the
    # page: Dutch, so "mrt 2026", never "Mar 2026".
    assert d3_locale and d3_locale["shortMonths"][2] == "mrt", d3_locale
    assert d3_locale["decimal"] == ",", d3_locale


# The text of the gap panels: the gap tables of a sector dashboard, or of the overview.
GAP_PANEL_JS = r"""
(() => Array.from(document.querySelectorAll('[data-test="chart-grid-component"]'))
  .filter(el => /Kloof|Laag naast hoog/.test(el.getAttribute('data-test-chart-name') || ''))
  .map(el => el.innerText).join('\n'))()
"""
D3_LOCALE_JS = r"""
(() => { const el = document.getElementById('app');
  const data = JSON.parse(el && el.dataset.bootstrap || '{}').common || {};
  return {shortMonths: (data.d3_time_format || {}).shortMonths || [],
          decimal: (data.d3_format || {}).decimal}; })()
"""
