"""The offline quality report: a real Great Expectations validation with a failing expectation,
rendered by gx_run.build_docs into one self-contained page, then opened in headless Chromium
with no network: the failing expectation, its status and observed value are on the page, and
a screenshot lands in test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pandas as pd
import pytest

from ouderpeil.config import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
SUITE = {
    "name": "marts_report_check",
    "meta": {"layer": "marts", "table": "marts.fct_indicator"},
    "expectations": [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "value", "min_value": 0, "max_value": 1},
            "meta": {"severity": "blocking", "why": "Aandelen liggen tussen 0 en 1."},
        },
        {
            "type": "expect_column_max_to_be_between",
            "kwargs": {"column": "n", "min_value": 0, "max_value": 100},
            "meta": {"severity": "warning", "why": "Grote scholen vallen op."},
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "indicator_code"},
            "meta": {"severity": "blocking", "why": "Elke rij heeft een indicator."},
        },
    ],
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from ouderpeil.quality import gx_run
    from ouderpeil.quality.report import report_path

    gx_dir = tmp_path_factory.mktemp("gx")
    ctx = gx_run.context(gx_dir)
    frame = pd.DataFrame(
        {
            "indicator_code": ["contact_reach"] * 4,
            "value": [0.2, 0.5, 1.7, 0.9],
            "n": [12, 40, 250, 33],
        }
    )
    vr, ids = gx_run.run_suite(
        ctx, SUITE, frame, {}, "marts", "run-report-1", dt.datetime.now(dt.UTC)
    )
    index = gx_run.build_docs(ctx, ids)
    assert index == gx_run.data_docs_index(ctx) == gx_dir / "reports" / "index.html"
    return report_path(gx_dir, "marts", "run-report-1"), index


def test_report_lists_every_expectation_with_status_and_observed_value(report):
    page, index = report
    html = page.read_text(encoding="utf-8")
    assert 'lang="nl"' in html and "Poort GESLOTEN: 1 blokkerende" in html
    rows = re.findall(r'<tr class="(\w+)">(.*?)</tr>', html, re.S)
    assert [r[0] for r in rows] == ["blocking", "warning", "passed"]  # failed ones first
    assert "1 van 4 rijen (25.0 %) wijken af, bijv. [1.7]" in rows[0][1]
    assert "mislukt (waarschuwing)" in rows[1][1] and ">250<" in rows[1][1]
    assert "geslaagd" in rows[2][1]
    # Self-contained: no script, no stylesheet or image from anywhere, no external link.
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)
    assert "run-report-1.marts.html" in index.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.browser
def test_report_renders_offline_in_chromium_with_the_failure_visible(report, tmp_path):
    from ouderpeil.headless_chromium import FLAGS, find_binary, png_pixels

    chromium = find_binary()
    if not chromium:
        pytest.skip("no chromium installed (make browser): the page is checked as HTML above")
    page, _ = report
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "quality_report_failing_expectation.png"
    shot.unlink(missing_ok=True)
    flags = [
        *FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        # No network at all: what renders here renders offline.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
    ]
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180
    )
    assert (
        "MISLUKT (blokkerend)" in dom.stdout and "expect_column_values_to_be_between" in dom.stdout
    ), dom.stderr[-2000:]
    subprocess.run(
        [chromium, *flags, "--window-size=1400,700", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=180,
    )
    assert shot.exists() and shot.stat().st_size > 10_000, "no screenshot written"
    px = png_pixels(shot.read_bytes()).reshape(-1, 3)
    # The failing row's red background is on the page (the report's colour for a failure).
    reds = int(((px == (0xFD, 0xF0, 0xEF)).all(axis=1)).sum())
    assert reds > 2000, f"no failing row visible in the screenshot ({reds} px)"
