"""The dashboards in a real headless Chromium: every chart renders, nothing shows an error.

Chromium (Debian package ``chromium``; ``make browser`` installs it) is driven over the DevTools
protocol with the ``websockets`` client that the main virtualenv already has: the test logs in
through Superset's login form with ``requests``, hands the session cookie to the browser, opens
each dashboard, waits until every chart has drawn (canvas, table or big number), checks the DOM
for error alerts and saves a full-page screenshot to ``test-artifacts/screenshots/``.
The Superset server is the session one of conftest.py (``superset``: ``make demo``'s sample
through the real pipeline). Board users open every dashboard they are offered; the page must lead with
the gap panel showing numbers and hold none of Superset's English placeholders.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from superset_helpers import (
    OVERVIEW_SLUG,
    SECTOR_SLUGS,
    api_session,
    committed_charts_per_dashboard,
    dashboards_by_slug,
    form_login,
)

from ouderpeil.config import REPO_ROOT
from ouderpeil.headless_chromium import SUPERSET_CHART_STATE_JS as CHART_STATE_JS
from ouderpeil.headless_chromium import Chromium, find_binary, png_pixels

pytestmark = [pytest.mark.slow, pytest.mark.superset, pytest.mark.browser]

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PAGE_HEIGHT = 5600  # taller than the longest dashboard
RENDER_TIMEOUT = 180


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
    path = find_binary()
    if not path:
        pytest.skip(
            "headless Chromium not installed: run `make browser` (apt-get install chromium)"
        )
    return path


@pytest.fixture
def browser(chromium_binary):
    b = Chromium(chromium_binary, width=1600, height=1200)
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
    browser.set_cookie(handle.url, "session", session.cookies.get("session"))
    browser.navigate(f"{handle.url}/superset/dashboard/{dashboard_id}/")
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
    """Every chart drawn; the survey values drawn with interval and 2014 mark, and each monthly
    trend with its 95% band shaded (pixels of the screenshot)."""
    session = form_login(superset, superset.inspector)
    check_and_shoot(browser, superset, session, SECTOR_SLUGS[sector], sector)
    survey = browser.eval(interval_marks_js("eigen uitkomst met 95%-interval")) or {}
    assert min(survey.get(k, 0) for k in ("bands", "marks", "ticks")) >= 3, (sector, survey)
    rects = browser.eval(TREND_RECTS_JS) or []
    assert len(rects) == 5, (sector, rects)
    pixels = png_pixels((SCREENSHOTS / f"{sector}.png").read_bytes())
    shaded = {r["name"]: round(shaded_share(pixels, r), 4) for r in rects}
    print(f"{sector}: share of each trend chart shaded by its band: {shaded}")
    # A month hidden by disclosure control has no point and no band, so a sparse chart may
    # show none; most must (a chart without the band metrics shades ~0 %).
    assert sum(v >= 0.005 for v in shaded.values()) >= 3, (sector, shaded)


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
            if slug != OVERVIEW_SLUG:
                # Laag and hoog drawn with their intervals: a band and a value mark per group,
                # positioned on the cell's scale (dashboards/build_dashboards.py _plot_row).
                drawn = browser.eval(INTERVAL_MARKS_JS) or {}
                assert drawn.get("bands", 0) >= 2 and drawn.get("marks", 0) >= 2, (slug, drawn)
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


def interval_marks_js(chart_name_pattern: str) -> str:
    """The intervals drawn in table cells of the charts whose name matches: bands (interval),
    marks (value) and dashed reference ticks, each with a width on the page."""
    return r"""
(() => { const cells = Array.from(document.querySelectorAll('[data-test="chart-grid-component"]'))
  .filter(el => /PATTERN/.test(el.getAttribute('data-test-chart-name') || ''));
  const spans = cells.flatMap(el => Array.from(el.querySelectorAll('span')))
    .filter(s => s.style.position === 'absolute' && s.getBoundingClientRect().width
                 + parseFloat(s.style.borderLeftWidth || 0) > 0);
  return {bands: spans.filter(s => s.style.top === '0px').length,
          marks: spans.filter(s => s.style.top === '-3px').length,
          ticks: spans.filter(s => s.style.borderLeftStyle === 'dashed').length}; })()
""".replace("PATTERN", chart_name_pattern)


INTERVAL_MARKS_JS = interval_marks_js("Laag naast hoog")

# Where each monthly trend chart sits on the page (document coordinates).
TREND_RECTS_JS = r"""
(() => Array.from(document.querySelectorAll('[data-test="chart-grid-component"]'))
  .filter(el => /per maand \(band/.test(el.getAttribute('data-test-chart-name') || ''))
  .map(el => { const r = (el.querySelector('canvas') || el).getBoundingClientRect();
    return {name: el.getAttribute('data-test-chart-name'), left: Math.round(r.left),
            top: Math.round(r.top + window.scrollY), width: Math.round(r.width),
            height: Math.round(r.height)}; }))()
"""


def shaded_share(pixels, rect: dict) -> float:
    """Share of a chart's pixels that are a pale tint of a series colour: the 95% band
    (points, axes and text are saturated or grey, the background white)."""
    crop = pixels[
        rect["top"] : rect["top"] + rect["height"], rect["left"] : rect["left"] + rect["width"]
    ].reshape(-1, 3)
    spread = crop.max(axis=1) - crop.min(axis=1)
    pale = (crop.min(axis=1) >= 120) & (spread >= 12) & (spread <= 110)
    return float(pale.mean()) if len(crop) else 0.0


D3_LOCALE_JS = r"""
(() => { const el = document.getElementById('app');
  const data = JSON.parse(el && el.dataset.bootstrap || '{}').common || {};
  return {shortMonths: (data.d3_time_format || {}).shortMonths || [],
          decimal: (data.d3_format || {}).decimal}; })()
"""


def test_the_dashboard_list_reads_dutch_for_board_staff(superset, browser):
    """The list view a board user lands on: their dashboards, the row count in Dutch
    ("1-2 van 2", Superset writes "of" into its JavaScript: locale_nl.AssetTextFixes), and
    none of the English placeholders."""
    user = superset.board_users[0]
    session = form_login(superset, user)
    browser.set_cookie(superset.url, "session", session.cookies.get("session"))
    browser.navigate(f"{superset.url}/dashboard/list/")
    deadline, text = time.monotonic() + RENDER_TIMEOUT, ""
    while time.monotonic() < deadline:
        text = browser.eval("document.body.innerText") or ""
        if re.search(r"\b\d+-\d+ (van|of) \d+\b", text):
            break
        time.sleep(0.5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"dashboardlijst-{user['username']}.png").write_bytes(browser.screenshot(900))
    offered = dashboards_by_slug(superset, api_session(superset, user))
    assert re.search(rf"\b1-{len(offered)} van {len(offered)}\b", text), text[-1500:]
    assert not english_in(text), english_in(text)
    # The filter selects' placeholder ("Choose..."), wrong in Superset's pack.
    assert "Kies een databas" not in text, "filter placeholder still reads 'Kies een database'"
