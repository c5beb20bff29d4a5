"""The Dutch fixes to Superset's own texts that need no running Superset (locale_nl.py).

AssetTextFixes is driven as WSGI middleware over a stand-in app; the shipped assets of the
pinned Superset are read from its virtualenv to see that every snippet still occurs there
(after an upgrade a fix that matches nothing would silently leave the English).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ouderpeil.superset_bootstrap.locale_nl import ASSET_TEXT_FIXES, AssetTextFixes

ENGLISH = b"const N=(e,t)=>`${t[0]}-${t[1]} of ${e}`;"


def _app(body: bytes, calls: list):
    def app(environ, start_response):
        calls.append(dict(environ))
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/javascript"),
                ("Content-Length", str(len(body))),
                ("ETag", "x"),
            ],
        )
        return [body]

    return app


def _get(app, path: str, **environ) -> tuple[str, dict, bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": path, **environ}, start_response))
    return seen["status"], seen["headers"], body


def test_the_row_count_of_list_views_is_served_in_dutch():
    calls: list = []
    app = AssetTextFixes(_app(ENGLISH, calls))
    for _ in range(2):  # the rewritten body is kept; asked again, the same answer
        status, headers, body = _get(
            app, "/static/assets/8115.abc.entry.js", HTTP_ACCEPT_ENCODING="gzip"
        )
        assert status == "200 OK"
        assert b" van ${e}" in body and b" of ${e}" not in body
        assert headers["Content-Length"] == str(len(body))
        assert "ETag" not in headers  # no revalidation against the English original
    assert all("HTTP_ACCEPT_ENCODING" not in c for c in calls), "asked uncompressed"


def test_assets_without_english_and_other_paths_pass_unchanged():
    calls: list = []
    plain = b"console.log('geen vaste Engelse tekst')"
    app = AssetTextFixes(_app(plain, calls))
    for _ in range(2):
        status, headers, body = _get(app, "/static/assets/1.js", HTTP_ACCEPT_ENCODING="gzip")
        assert body == plain and headers["ETag"] == "x"
    # Once known to hold nothing to fix, the asset is passed through as the browser asked.
    assert calls[-1].get("HTTP_ACCEPT_ENCODING") == "gzip"
    _, _, body = _get(AssetTextFixes(_app(ENGLISH, [])), "/api/v1/chart/1")
    assert body == ENGLISH, "only JavaScript assets are rewritten"


def test_every_snippet_still_occurs_in_the_pinned_superset_assets():
    from ouderpeil.dashboards_server import superset_python

    python = superset_python()
    sites = sorted(Path(python).parents[1].glob("lib/python3*/site-packages/superset"))
    if not sites:
        pytest.skip(f"Superset virtualenv missing ({python}): run `make superset-env`")
    assets = list((sites[0] / "static" / "assets").glob("*.js"))
    for english in ASSET_TEXT_FIXES:
        assert any(english in p.read_bytes() for p in assets), (
            f"{english!r} no longer in Superset's assets: update ASSET_TEXT_FIXES"
        )
