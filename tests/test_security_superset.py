"""Least privilege on the serving side (issue 16), probed on a real Superset over HTTP, as Admin.

The server is the session one of conftest.py (`make demo`'s sample through dbt, gate, publish).
Every probe is something an admin could type in SQL Lab or send to the chart data API; each
must fail without touching a file, and the control query next to it must work.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from superset_helpers import api_session, dataset_ids, form_login, query_dataset

pytestmark = [pytest.mark.slow, pytest.mark.superset]


@pytest.fixture(scope="module")
def admin(superset):
    return api_session(superset, superset.admin)


@pytest.fixture(scope="module")
def database_id(superset, admin):
    dbs = admin.get(f"{superset.url}/api/v1/database/", timeout=60).json()["result"]
    assert len(dbs) == 1, dbs
    return dbs[0]["id"]


def sql_lab(superset, session, database_id, sql: str):
    body = {
        "database_id": database_id,
        "sql": sql,
        "runAsync": False,
        "schema": "main",
        "tab": "probe",
        "client_id": uuid.uuid4().hex[:10],
    }
    return session.post(f"{superset.url}/api/v1/sqllab/execute/", json=body, timeout=120)


def _refused(r) -> bool:
    """An error answer (DuckDB refused or Superset refused), never rows."""
    if r.status_code != 200:
        return True
    body = r.json()
    return body.get("status") != "success" and not body.get("data")


def _probe_files(superset, tmp_path: Path) -> dict[str, Path]:
    """Files Superset's own process may open (its secrets) and one it may not (hmac.key)."""
    from ouderpeil.config import Settings
    from ouderpeil.loading.pseudonymise import load_key

    key_settings = Settings.from_env(
        {
            "OUDERPEIL_DATA_DIR": str(tmp_path / "data"),
            "OUDERPEIL_HMAC_KEY_FILE": str(tmp_path / "keys" / "ouderpeil" / "hmac.key"),
        }
    )
    load_key(key_settings)
    return {
        "secret_key": superset.home / "secret_key",
        "credentials": superset.home / "credentials.json",
        "metadata_db": superset.home / "superset.db",
        "hmac_key": key_settings.hmac_key_file,
        "passwd": Path("/etc/passwd"),
    }


def test_sql_lab_as_admin_reads_the_serving_file_and_nothing_else(
    superset, admin, database_id, tmp_path
):
    files = _probe_files(superset, tmp_path)
    written = tmp_path / "written"
    other_db = tmp_path / "other.duckdb"
    probes = {}
    for name, path in files.items():
        probes[f"read_text {name}"] = f"select content from read_text('{path}')"
        probes[f"read_blob {name}"] = f"select content from read_blob('{path}')"
        probes[f"read_csv {name}"] = f"select * from read_csv('{path}', header=false)"
    probes |= {
        "glob": f"select * from glob('{superset.home}/*')",
        "read_json": f"select * from read_json('{files['credentials']}')",
        "read_parquet": f"select * from read_parquet('{files['passwd']}')",
        "replacement scan": f"select * from '{files['credentials']}'",
        "copy to": f"copy (select 1 as a) to '{written}.csv'",
        "copy table to": f"copy indicator to '{written}.parquet' (format parquet)",
        "export database": f"export database '{written}_export'",
        "attach file": f"attach '{other_db}' as other",
        "attach memory": "attach ':memory:' as scratch",
        "attach warehouse": "attach 'warehouse.duckdb' as wh (read_only)",
        "install": "install httpfs",
        "load": "load httpfs",
        "load path": f"load '{tmp_path}/x.duckdb_extension'",
        "set external access": "set enable_external_access = true",
        "reset lock": "reset lock_configuration",
        "unlock": "set lock_configuration = false",
        "set autoload": "set autoload_known_extensions = true",
        "pragma": "pragma enable_external_access",
        "create table": "create table probe (a integer)",
        "create temp table": "create temp table probe as select 1 as a",
        "insert": "insert into indicator (indicator_code) values ('x')",
        "secret": "create secret probe (type s3, key_id 'a', secret 'b')",
    }
    # Control: the serving file itself answers, with DuckDB's locks in place.
    r = sql_lab(
        superset,
        admin,
        database_id,
        "select count(*) as n, current_setting('enable_external_access') as ext, "
        "current_setting('lock_configuration') as locked, "
        "current_setting('autoinstall_known_extensions') as inst, "
        "current_setting('autoload_known_extensions') as autoload, "
        "current_setting('access_mode') as mode from indicator",
    )
    assert r.status_code == 200, r.text[:300]
    row = r.json()["data"][0]
    assert row["n"] > 0
    assert (row["ext"], row["locked"], row["inst"], row["autoload"]) == (
        False,
        True,
        False,
        False,
    ), row
    assert str(row["mode"]).lower() == "read_only", row
    secrets_text = [
        p.read_text(errors="replace")[:40] for p in (files["secret_key"], files["hmac_key"])
    ]
    leaked = {}
    for name, sql in probes.items():
        r = sql_lab(superset, admin, database_id, sql)
        if not _refused(r) or any(s and s in r.text for s in secrets_text):
            leaked[name] = r.text[:200]
    assert not leaked, f"SQL Lab (admin) got through: {json.dumps(leaked, indent=1)}"
    assert not list(tmp_path.glob("written*")) and not other_db.exists()
    # Still the one database, still attached alone.
    r = sql_lab(
        superset,
        admin,
        database_id,
        "select database_name from duckdb_databases() where not internal",
    )
    assert [d["database_name"] for d in r.json()["data"]] == ["ouderpeil"], r.text[:300]


def _virtual_dataset(superset, admin, database_id, sql: str):
    r = admin.post(
        f"{superset.url}/api/v1/dataset/",
        timeout=120,
        json={
            "database": database_id,
            "schema": "main",
            "sql": sql,
            "table_name": f"probe_{uuid.uuid4().hex[:8]}",
        },
    )
    return r.json().get("id") if r.status_code in (200, 201) else None, r


def test_chart_data_api_as_admin_cannot_reach_files(superset, admin, database_id, tmp_path):
    files = _probe_files(superset, tmp_path)
    ids = dataset_ids(superset, admin)
    secret = files["secret_key"].read_text().strip()
    # Ad-hoc SQL on a dataset: Superset itself refuses sub-queries, the only way to a table
    # function from an expression; control: an expression without one works.
    ok = query_dataset(
        superset,
        admin,
        ids["indicator"],
        ["sector"],
        [{"expressionType": "SQL", "sqlExpression": "max(length(board_name))", "label": "n"}],
    )
    assert ok.status_code == 200 and ok.json()["result"][0]["data"], ok.text[:300]
    for path in (files["secret_key"], files["hmac_key"]):
        expr = f"(select max(content) from read_text('{path}'))"
        r = query_dataset(
            superset,
            admin,
            ids["indicator"],
            ["sector"],
            [{"expressionType": "SQL", "sqlExpression": f"max({expr})", "label": "x"}],
        )
        assert secret not in r.text and r.status_code != 200, r.text[:300]
        body = {
            "datasource": {"id": ids["indicator"], "type": "table"},
            "force": True,
            "result_format": "json",
            "result_type": "full",
            "queries": [
                {
                    "columns": ["sector"],
                    "metrics": ["count"],
                    "filters": [],
                    "row_limit": 10,
                    "extras": {"where": f"{expr} is not null"},
                }
            ],
        }
        r = admin.post(f"{superset.url}/api/v1/chart/data", json=body, timeout=120)
        assert secret not in r.text and (
            r.status_code != 200 or r.json()["result"][0].get("error")
        ), r.text[:300]
    # A virtual dataset (custom SQL) puts the table function where DuckDB runs it. Control:
    # a harmless virtual dataset answers through the chart data API.
    created = []
    try:
        control_id, r = _virtual_dataset(
            superset, admin, database_id, "select sector, count(*) as n from indicator group by 1"
        )
        assert control_id, r.text[:300]
        created.append(control_id)
        rows = query_dataset(superset, admin, control_id, ["sector"], ["count"])
        assert rows.status_code == 200 and rows.json()["result"][0]["data"], rows.text[:300]
        for name, path in files.items():
            for sql in (
                f"select content from read_text('{path}')",
                f"select * from read_csv('{path}', header=false)",
            ):
                probe_id, r = _virtual_dataset(superset, admin, database_id, sql)
                assert secret not in r.text
                if probe_id is None:
                    continue  # refused at creation (Superset reads the columns through DuckDB)
                created.append(probe_id)
                data = query_dataset(superset, admin, probe_id, [], ["count"])
                assert secret not in data.text
                assert data.status_code != 200 or data.json()["result"][0].get("error"), (
                    f"virtual dataset on {name}: {data.text[:300]}"
                )
    finally:
        for dataset_id in created:
            admin.delete(f"{superset.url}/api/v1/dataset/{dataset_id}", timeout=60)


def test_a_read_write_or_any_other_connection_is_refused(
    superset, admin, database_id, demo_published_settings, tmp_path
):
    serving = demo_published_settings.serving_path
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(serving.read_bytes())
    refused_uris = {
        "read-write": f"duckdb:///{serving}",
        "explicit read_write": f"duckdb:///{serving}?access_mode=read_write",
        "external access in the URI": f"duckdb:///{serving}?access_mode=read_only&enable_external_access=true",
        "unlock in the URI": f"duckdb:///{serving}?access_mode=read_only&lock_configuration=false",
        "another file": f"duckdb:///{copy}?access_mode=read_only",
        "the warehouse": f"duckdb:///{demo_published_settings.warehouse_path}?access_mode=read_only",
        "in memory": "duckdb:///:memory:",
        "sqlite": f"sqlite:///{tmp_path / 'x.db'}",
        "postgres": "postgresql://u:p@127.0.0.1:5432/x",
    }
    for name, uri in refused_uris.items():
        r = admin.post(
            f"{superset.url}/api/v1/database/test_connection/",
            timeout=60,
            json={
                "sqlalchemy_uri": uri,
                "database_name": f"probe {name}",
                "configuration_method": "sqlalchemy_form",
            },
        )
        assert r.status_code >= 400, f"test_connection accepted {name}: {r.text[:300]}"
        r = admin.post(
            f"{superset.url}/api/v1/database/",
            timeout=60,
            json={
                "sqlalchemy_uri": uri,
                "database_name": f"probe {name}",
                "configuration_method": "sqlalchemy_form",
                "expose_in_sqllab": True,
            },
        )
        assert r.status_code >= 400, f"creating {name} was accepted: {r.text[:300]}"
    # Editing the one database: its URI cannot be switched to read-write ...
    before = admin.get(
        f"{superset.url}/api/v1/database/{database_id}/connection", timeout=60
    ).json()["result"]
    r = admin.put(
        f"{superset.url}/api/v1/database/{database_id}",
        timeout=60,
        json={"sqlalchemy_uri": f"duckdb:///{serving}"},
    )
    after = admin.get(
        f"{superset.url}/api/v1/database/{database_id}/connection", timeout=60
    ).json()["result"]
    try:
        assert (
            r.status_code >= 400
            or after["sqlalchemy_uri"] == before["sqlalchemy_uri"]
            or _refused(sql_lab(superset, admin, database_id, "select 1 as a"))
        ), r.text[:300]
        # ... and engine parameters that ask for external access and extensions are ignored.
        extra = json.loads(before["extra"])
        hostile = json.loads(json.dumps(extra))
        hostile["engine_params"] = {
            "connect_args": {
                "config": {
                    "enable_external_access": True,
                    "lock_configuration": False,
                    "access_mode": "read_write",
                },
                "preload_extensions": ["httpfs"],
            }
        }
        r = admin.put(
            f"{superset.url}/api/v1/database/{database_id}",
            timeout=60,
            json={"extra": json.dumps(hostile)},
        )
        probe = sql_lab(
            superset,
            admin,
            database_id,
            f"select content from read_text('{superset.home / 'secret_key'}')",
        )
        assert _refused(probe), probe.text[:300]
        control = sql_lab(
            superset, admin, database_id, "select current_setting('enable_external_access') as ext"
        )
        assert control.json()["data"][0]["ext"] is False, control.text[:300]
    finally:
        admin.put(
            f"{superset.url}/api/v1/database/{database_id}",
            timeout=60,
            json={"sqlalchemy_uri": before["sqlalchemy_uri"], "extra": before["extra"]},
        )
    restored = admin.get(
        f"{superset.url}/api/v1/database/{database_id}/connection", timeout=60
    ).json()["result"]
    assert restored["sqlalchemy_uri"] == before["sqlalchemy_uri"]


def _proc_status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def _superset_pids(superset) -> list[int]:
    pids = [superset.pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _proc_status(int(entry.name)).get("PPid") == str(superset.pid):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_the_superset_process_cannot_read_the_hmac_key(superset, tmp_path):
    """Probed as the very uid/gid the gunicorn master and workers run as."""
    from ouderpeil.superset_user import SystemUser, can_read_as

    files = _probe_files(superset, tmp_path)
    pids = _superset_pids(superset)
    assert len(pids) >= 2, "no gunicorn workers found"
    for pid in pids:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        names = {e.split(b"=", 1)[0].decode() for e in environ if e}
        assert not {n for n in names if n.startswith("OUDERPEIL_HMAC")}, names
        assert not {n for n in names if n.startswith("AIRFLOW")}, names
    if os.geteuid() != 0:
        pytest.skip(
            "tests run as an ordinary user: Superset runs as that same user, so the "
            "key file's owner-only mode cannot keep it out (docs/DASHBOARDS.md)"
        )
    status = _proc_status(superset.pid)
    uid, gid = int(status["Uid"].split()[0]), int(status["Gid"].split()[0])
    assert uid != 0 and gid != 0, status["Uid"]
    assert status["Groups"] in ("", str(gid)), status["Groups"]
    as_superset = SystemUser("superset-process", uid, gid)
    # Control: the same probe reads what Superset must read.
    assert can_read_as(as_superset, superset.home / "secret_key")
    assert can_read_as(as_superset, files["passwd"])
    assert not can_read_as(as_superset, files["hmac_key"])
    default_key = Path.home() / ".config" / "ouderpeil" / "hmac.key"
    if default_key.exists():
        assert not can_read_as(as_superset, default_key)


def test_metadata_and_secrets_are_owner_only(superset):
    assert (os.stat(superset.home).st_mode & 0o777) == 0o700
    for name in ("superset.db", "secret_key", "credentials.json", "superset.log"):
        mode = os.stat(superset.home / name).st_mode & 0o777
        assert mode == 0o600, f"{name}: {oct(mode)}"


def test_security_headers_and_cookie_flags(superset):
    import requests

    r = requests.get(f"{superset.url}/login/", timeout=60)
    assert r.status_code == 200
    assert r.headers.get("X-Frame-Options") == "SAMEORIGIN"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'self'" in csp and "default-src 'self'" in csp, csp
    assert "http" not in csp.replace("'self'", ""), f"the policy names an outside host: {csp}"
    s = form_login(superset, superset.board_users[0])
    cookie = next(c for c in s.cookies if c.name == "session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    # The demo serves plain HTTP on 127.0.0.1; production (below) sets Secure.
    assert not cookie.secure


def test_production_config_sets_secure_cookies_and_hsts():
    """security_config in production mode, imported in the Superset virtualenv."""
    import subprocess

    from ouderpeil.config import REPO_ROOT
    from ouderpeil.dashboards_server import superset_python

    code = (
        "import json, ouderpeil.superset_bootstrap.security_config as c; print(json.dumps("
        "[c.SESSION_COOKIE_SECURE, c.REMEMBER_COOKIE_SECURE, c.ENABLE_PROXY_FIX, "
        "c.TALISMAN_ENABLED, c.TALISMAN_CONFIG['session_cookie_secure'], "
        "c.TALISMAN_CONFIG['strict_transport_security'], c.AUTH_RATE_LIMITED]))"
    )
    for production, expected in (
        ("1", [True] * 7),
        ("0", [False, False, False, True, False, False, True]),
    ):
        out = subprocess.run(
            [str(superset_python()), "-c", code],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={
                "PATH": os.environ["PATH"],
                "PYTHONPATH": str(REPO_ROOT),
                "OUDERPEIL_SUPERSET_PRODUCTION": production,
                "OUDERPEIL_SUPERSET_HOME": "/nonexistent",
            },
        )
        assert json.loads(out.stdout) == expected, (production, out.stdout)


def test_failed_logins_lock_the_account_even_for_the_right_password(superset, admin):
    import requests

    roles = admin.get(
        f"{superset.url}/api/v1/security/roles/",
        timeout=60,
        params={"q": json.dumps({"page_size": 100})},
    ).json()["result"]
    role_id = next(r["id"] for r in roles if r["name"] == "Bestuur")
    username, password = f"probe_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    r = admin.post(
        f"{superset.url}/api/v1/security/users/",
        timeout=60,
        json={
            "username": username,
            "password": password,
            "first_name": "Probe",
            "last_name": "Slot",
            "email": f"{username}@ouderpeil.invalid",
            "active": True,
            "roles": [role_id],
        },
    )
    assert r.status_code in (200, 201), r.text[:300]

    def login(pw):
        return requests.post(
            f"{superset.url}/api/v1/security/login",
            timeout=60,
            json={"username": username, "password": pw, "provider": "db", "refresh": False},
        )

    assert login(password).status_code == 200  # control: the account works
    for _ in range(5):
        assert login("wrong-" + password).status_code == 401
    locked = login(password)
    assert locked.status_code == 429, locked.text[:200]
    assert "Te veel mislukte inlogpogingen" in locked.json()["message"]
    page = requests.Session()
    form = page.get(f"{superset.url}/login/", timeout=60).text
    import re

    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
        r'"csrf_token"\s*:\s*"([^"]+)"', form
    )
    r = page.post(
        f"{superset.url}/login/",
        timeout=60,
        allow_redirects=False,
        data={
            "username": username,
            "password": password,
            "csrf_token": token.group(1) if token else "",
        },
    )
    assert r.status_code == 429, f"form login of a locked account: {r.status_code}"
    # Other accounts are not locked out.
    assert api_session(superset, superset.board_users[0])
