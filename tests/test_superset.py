"""Superset over HTTP: the imported dashboards, their charts, roles and row-level security.

A real Superset (its own virtualenv, gunicorn) is started once per session on a free port with
``ouderpeil.dashboards_server.start_superset`` against the serving file that the real pipeline
published from ``make demo``'s sample (``demo_published_settings``: the demo scale, load, dbt,
quality gate, publish), so the gap panels have published numbers to show. The browser test
(test_dashboard_browser.py) shares the same server.
"""

from __future__ import annotations

import fcntl
import os
import shutil

import duckdb
import pytest
import requests
from superset_helpers import (
    GAP_NUMBER,
    OVERVIEW_SLUG,
    SECTOR_SLUGS,
    SUPPRESSED_TEXT,
    api_session,
    chart_rows,
    committed_charts_per_dashboard,
    dashboards_by_slug,
    dataset_ids,
    form_login,
    query_dataset,
    rows_of,
    serving_board_sectors,
    serving_boards,
    serving_sectors,
)

pytestmark = [pytest.mark.slow, pytest.mark.superset]


# --------------------------------------------------------------------------- tests
def test_the_four_committed_dashboards_are_imported(superset):
    admin = api_session(superset, superset.admin)
    found = dashboards_by_slug(superset, admin)
    committed = committed_charts_per_dashboard()
    assert set(committed) == {*SECTOR_SLUGS.values(), OVERVIEW_SLUG}
    assert set(found) == set(committed), f"imported: {sorted(found)}"
    for slug, dash in found.items():
        assert dash["published"], slug
        charts = admin.get(
            f"{superset.url}/api/v1/dashboard/{dash['id']}/charts", timeout=60
        ).json()["result"]
        uuids = {
            admin.get(f"{superset.url}/api/v1/chart/{c['id']}", timeout=60)
            .json()["result"]
            .get("uuid")
            for c in charts
        } - {None}
        assert len(charts) == len(committed[slug]), slug
        if uuids:  # the chart API exposes uuids in this Superset version
            assert uuids == committed[slug], slug


def test_every_chart_of_every_dashboard_returns_data(superset, demo_published_settings):
    """As the inspector (all boards): each chart's saved query runs without error, and every
    chart of a sector that is in the published data has rows."""
    s = api_session(superset, superset.inspector)
    sectors = serving_sectors(demo_published_settings)
    empty, checked = [], 0
    for slug, dash in dashboards_by_slug(superset, s).items():
        charts = s.get(f"{superset.url}/api/v1/dashboard/{dash['id']}/charts", timeout=60).json()[
            "result"
        ]
        assert charts, slug
        for chart in charts:
            r = s.get(
                f"{superset.url}/api/v1/chart/{chart['id']}/data/",
                timeout=120,
                params={"force": "true"},
            )
            assert r.status_code == 200, (
                f"{slug} / {chart['slice_name']}: {r.status_code} {r.text[:300]}"
            )
            for result in r.json()["result"]:
                assert not result.get("error"), f"{chart['slice_name']}: {result['error']}"
                checked += 1
                sector = next((k for k, v in SECTOR_SLUGS.items() if v == slug), None)
                if result["rowcount"] == 0 and (sector is None or sector in sectors):
                    empty.append(f"{slug} / {chart['slice_name']}")
    assert checked >= 4 * 5
    assert not empty, f"charts without rows although their sector has data: {empty}"


def test_board_staff_see_only_their_own_board(superset, demo_published_settings):
    boards = serving_boards(demo_published_settings)
    admin = api_session(superset, superset.admin)
    ids = dataset_ids(superset, admin)
    # Control: without RLS every board is there, so the check below can fail.
    all_rows = rows_of(query_dataset(superset, admin, ids["indicator"], ["board_id"], ["count"]))
    assert {r["board_id"] for r in all_rows} - {"ALL"} == boards
    assert superset.board_users and {u["board_id"] for u in superset.board_users} == boards
    for user in superset.board_users:
        s = api_session(superset, user)
        for table in ("indicator", "channel_mix", "equity_gap"):
            rows = rows_of(
                query_dataset(superset, s, ids[table], ["board_id", "school_id"], ["count"])
            )
            assert rows, f"{user['username']} sees nothing in {table}"
            assert {r["board_id"] for r in rows} == {user["board_id"]}, (
                user["username"],
                table,
                {r["board_id"] for r in rows},
            )
        # The dashboards' own charts are filtered too: the school table of every sector.
        for dash in dashboards_by_slug(superset, s).values():
            for chart in s.get(
                f"{superset.url}/api/v1/dashboard/{dash['id']}/charts", timeout=60
            ).json()["result"]:
                if not chart["slice_name"].startswith("Scholen"):
                    continue
                r = s.get(
                    f"{superset.url}/api/v1/chart/{chart['id']}/data/",
                    params={"type": "query"},
                    timeout=60,
                )
                assert r.status_code == 200
                sql = r.json()["result"][0]["query"]
                assert f"board_id = '{user['board_id']}'" in sql, sql


def test_inspector_sees_all_boards_and_exports_csv_but_board_staff_cannot(
    superset, demo_published_settings
):
    boards = serving_boards(demo_published_settings)
    inspector = api_session(superset, superset.inspector)
    ids = dataset_ids(superset, inspector)
    rows = rows_of(query_dataset(superset, inspector, ids["indicator"], ["board_id"], ["count"]))
    assert {r["board_id"] for r in rows} - {"ALL"} == boards
    csv = query_dataset(
        superset, inspector, ids["indicator"], ["board_id"], ["count"], result_format="csv"
    )
    assert csv.status_code == 200, csv.text[:300]
    header = csv.text.splitlines()[0]
    assert "Bestuursnummer" in header or "board_id" in header, header
    assert len(csv.text.splitlines()) == len(rows) + 1
    board = api_session(superset, superset.board_users[0])
    refused = query_dataset(
        superset, board, ids["indicator"], ["board_id"], ["count"], result_format="csv"
    )
    assert refused.status_code == 403, refused.text[:300]


def test_anonymous_requests_are_refused(superset):
    admin = api_session(superset, superset.admin)
    dash = next(iter(dashboards_by_slug(superset, admin).values()))
    chart = admin.get(f"{superset.url}/api/v1/dashboard/{dash['id']}/charts", timeout=60).json()[
        "result"
    ][0]
    anon = requests.Session()
    for path in (
        "/api/v1/dashboard/",
        f"/api/v1/dashboard/{dash['id']}",
        "/api/v1/chart/",
        f"/api/v1/chart/{chart['id']}/data/",
        "/api/v1/dataset/",
        "/api/v1/database/",
    ):
        r = anon.get(superset.url + path, allow_redirects=False, timeout=60)
        assert r.status_code in (401, 403), f"{path}: {r.status_code}"
    for path in (f"/superset/dashboard/{dash['id']}/", "/sqllab/", "/dashboard/list/"):
        r = anon.get(superset.url + path, allow_redirects=False, timeout=60)
        assert r.status_code in (302, 401, 403), f"{path}: {r.status_code}"
        if r.status_code == 302:
            assert "/login" in r.headers["Location"], r.headers["Location"]


def test_sql_lab_is_refused_for_board_staff_and_inspectors(superset):
    admin = api_session(superset, superset.admin)
    db_id = admin.get(f"{superset.url}/api/v1/database/", timeout=60).json()["result"][0]["id"]
    body = {
        "database_id": db_id,
        "sql": "select count(*) as n from indicator",
        "runAsync": False,
        "schema": "main",
        "tab": "test",
        "client_id": "t0ouderpeil",
    }
    # Control: the admin can run SQL Lab against the serving file.
    r = admin.post(f"{superset.url}/api/v1/sqllab/execute/", json=body, timeout=120)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["data"][0]["n"] > 0
    for user in (superset.inspector, superset.board_users[0]):
        s = api_session(superset, user)
        r = s.post(
            f"{superset.url}/api/v1/sqllab/execute/", json=dict(body, client_id="t1x"), timeout=60
        )
        assert r.status_code in (401, 403), f"{user['username']}: {r.status_code} {r.text[:200]}"
        page = form_login(superset, user).get(
            f"{superset.url}/sqllab/", allow_redirects=False, timeout=60
        )
        assert page.status_code in (302, 403), f"{user['username']}: /sqllab/ {page.status_code}"
        if page.status_code == 302:
            assert "sqllab" not in page.headers["Location"]


def test_board_staff_and_inspectors_cannot_read_users_rules_or_connections(superset):
    """RLS rule names, users and the database connection would reveal other boards."""
    admin = api_session(superset, superset.admin)
    paths = (
        "/api/v1/rowlevelsecurity/",
        "/api/v1/security/users/",
        "/api/v1/database/",
        "/api/v1/security/roles/",
        "/api/v1/log/",
    )
    # Control: the admin can read them all.
    for path in paths:
        r = admin.get(superset.url + path, timeout=60)
        assert r.status_code == 200, f"admin {path}: {r.status_code}"
    for user in (superset.inspector, *superset.board_users):
        s = api_session(superset, user)
        for path in paths:
            r = s.get(superset.url + path, timeout=60)
            assert r.status_code in (401, 403, 404), f"{user['username']} {path}: {r.status_code}"


def test_database_points_read_only_at_the_serving_file(superset, demo_published_settings):
    admin = api_session(superset, superset.admin)
    dbs = admin.get(f"{superset.url}/api/v1/database/", timeout=60).json()["result"]
    assert len(dbs) == 1, "Superset must know only the serving file"
    r = admin.get(f"{superset.url}/api/v1/database/{dbs[0]['id']}/connection", timeout=60)
    assert r.status_code == 200, r.text[:300]
    uri = r.json()["result"]["sqlalchemy_uri"]
    assert uri == f"duckdb:///{demo_published_settings.serving_path}?access_mode=read_only"
    assert "warehouse" not in uri


def test_suppressed_values_show_as_text_not_zero(superset):
    """The value_display metric the tables use: suppressed rows say 'onderdrukt (n<10)'."""
    s = api_session(superset, superset.inspector)
    ids = dataset_ids(superset, s)
    rows = rows_of(
        query_dataset(
            superset,
            s,
            ids["indicator"],
            ["indicator_code", "period", "board_id", "school_id", "ses_group"],
            ["weergave", "waarde", "interval"],
            filters=[{"col": "suppressed", "op": "==", "val": True}],
            row_limit=200,
        )
    )
    assert rows, "the published sample data has no suppressed rows to show"
    for row in rows:
        assert row["weergave"] == SUPPRESSED_TEXT, row
        assert row["waarde"] is None and row["interval"] == SUPPRESSED_TEXT, row
    shown = rows_of(
        query_dataset(
            superset,
            s,
            ids["indicator"],
            ["indicator_code", "school_id"],
            ["weergave", "waarde"],
            filters=[{"col": "suppressed", "op": "==", "val": False}],
            row_limit=50,
        )
    )
    assert all(r["weergave"] and r["weergave"] != SUPPRESSED_TEXT for r in shown)


def test_a_swapped_serving_file_is_seen_without_restart(
    superset, demo_published_settings, tmp_path
):
    """publish() replaces the file with os.replace: Superset must open a fresh read-only
    connection per query (NullPool) and hold no lock in between."""
    serving = demo_published_settings.serving_path
    original = tmp_path / "original.duckdb"
    shutil.copy2(serving, original)
    changed = tmp_path / "changed.duckdb"
    shutil.copy2(serving, changed)
    con = duckdb.connect(str(changed))
    con.execute("update indicator set board_name = 'Gewisseld bestand'")
    con.close()
    admin = api_session(superset, superset.admin)
    ids = dataset_ids(superset, admin)

    def names():
        rows = rows_of(query_dataset(superset, admin, ids["indicator"], ["board_name"], ["count"]))
        return {r["board_name"] for r in rows}

    before = names()
    assert "Gewisseld bestand" not in before
    try:
        # No lock held between queries: an exclusive lock on the file is free right now
        # (DuckDB readers hold a POSIX read lock while connected; opening r+b writes nothing).
        with serving.open("r+b") as fh:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fh, fcntl.LOCK_UN)
        staged = serving.with_name(serving.name + ".swaptest")
        shutil.copy2(changed, staged)
        os.replace(staged, serving)
        assert names() == {"Gewisseld bestand"}
    finally:
        staged = serving.with_name(serving.name + ".swapback")
        shutil.copy2(original, staged)
        os.replace(staged, serving)
    assert names() == before


def test_board_users_are_offered_only_the_dashboards_of_their_sectors(
    superset, demo_published_settings
):
    board_sectors = serving_board_sectors(demo_published_settings)
    # The demo has boards without schools in some sector, so this check can fail.
    assert any(len(sectors) < len(SECTOR_SLUGS) for sectors in board_sectors.values())
    inspector = api_session(superset, superset.inspector)
    all_dashboards = dashboards_by_slug(superset, inspector)
    assert set(all_dashboards) == {*SECTOR_SLUGS.values(), OVERVIEW_SLUG}
    for user in superset.board_users:
        s = api_session(superset, user)
        expected = {SECTOR_SLUGS[x] for x in board_sectors[user["board_id"]]} | {OVERVIEW_SLUG}
        assert set(dashboards_by_slug(superset, s)) == expected, user["username"]
        for slug in set(all_dashboards) - expected:
            r = s.get(f"{superset.url}/api/v1/dashboard/{all_dashboards[slug]['id']}", timeout=60)
            assert r.status_code in (403, 404), f"{user['username']} opens {slug}: {r.status_code}"


def test_gap_panels_show_published_gaps_sorted_by_value(superset):
    """As each board user: the headline gap table has published numbers (not only
    suppression markers), in the unit of its column, and runs signals first, then by gap."""
    for user in superset.board_users:
        s = api_session(superset, user)
        for slug, dash in dashboards_by_slug(superset, s).items():
            header = chart_rows(superset, s, dash, "Bereiken we alle gezinnen?")
            assert header and all(r["bestuur"] == user["board_name"] for r in header), header
            assert all(r["samenvatting"] for r in header)
            if slug == OVERVIEW_SLUG:
                continue
            rows = chart_rows(superset, s, dash, "Laag naast hoog: aandelen")
            assert len(rows) == 5, rows
            published = [r for r in rows if GAP_NUMBER.match(r["kloof"])]
            assert published, f"{user['username']} {slug}: only suppressed gaps {rows}"
            assert all(r["kloof"] == SUPPRESSED_TEXT for r in rows if r not in published)
            assert all(GAP_NUMBER.match(r["kloof"]).group(2) == "procentpunt" for r in published)

            def key(row):
                if row["kloof"] == SUPPRESSED_TEXT:
                    return (2, 0.0)
                signal = "▼" in row["signaal"] or "↑" in row["trend"]
                value = float(
                    GAP_NUMBER.match(row["kloof"]).group(1).replace("−", "-").replace(",", ".")
                )
                return (0 if signal else 1, value)

            keys = [key(r) for r in rows]
            assert keys == sorted(keys), f"{slug}: not sorted by signal and gap: {keys}"
            signals = chart_rows(superset, s, dash, "Signalen")
            assert signals and all(r["school_name"] not in ("Alle scholen",) for r in signals)


def test_the_equity_gap_matches_the_published_laag_and_hoog_rows(superset, demo_published_settings):
    """The gap panel's numbers are the published fct rows, never recomputed from hidden
    cells: laag - hoog of the served indicator table, and suppressed on either side."""
    con = duckdb.connect(str(demo_published_settings.serving_path), read_only=True)
    try:
        bad = con.execute("""
            select g.indicator_code, g.board_id, g.school_id, g.period
            from equity_gap g
            join indicator l on l.indicator_code = g.indicator_code and l.period = g.period
                and l.period_type = 'school_year' and l.sector = g.sector
                and l.board_id = g.board_id and l.school_id = g.school_id and l.ses_group = 'laag'
            join indicator h on h.indicator_code = g.indicator_code and h.period = g.period
                and h.period_type = 'school_year' and h.sector = g.sector
                and h.board_id = g.board_id and h.school_id = g.school_id and h.ses_group = 'hoog'
            where (l.suppressed or h.suppressed) <> (g.laag_suppressed or g.hoog_suppressed)
               or (not g.gap_suppressed and abs(g.gap_value
                   - (l.value - h.value) * case when g.unit = 'aandeel' then 100 else 1 end)
                   > 1e-6)
               or (not g.gap_suppressed and (l.suppressed or h.suppressed))
        """).fetchall()
        published = con.execute(
            "select count(*) from equity_gap where not gap_suppressed "
            "and school_id = 'ALL' and board_id <> 'ALL'"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert not bad, bad[:5]
    assert published >= 10, "the demo's board-level gaps are mostly suppressed"
