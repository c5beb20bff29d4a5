"""The serving connection's enforcement without a server: the URI check, the locked DuckDB
configuration on a real DuckDB file (each probe also run unlocked, to show it is a real
probe), Superset's environment and the compose file's Superset services."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml
from sqlalchemy.engine import make_url

from ouderpeil.config import REPO_ROOT
from ouderpeil.superset_bootstrap.duckdb_lock import (
    DUCKDB_LOCKED_CONFIG,
    UnsafeConnectionError,
    check_serving_uri,
    harden_engine_kwargs,
)


@pytest.fixture
def serving(tmp_path) -> Path:
    path = tmp_path / "serving" / "ouderpeil.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    con.execute("create table indicator as select 'po' as sector, 1 as n")
    con.close()
    return path


def test_only_the_read_only_serving_uri_passes(serving, tmp_path):
    check_serving_uri(make_url(f"duckdb:///{serving}?access_mode=read_only"), serving)
    refused = [
        f"duckdb:///{serving}",
        f"duckdb:///{serving}?access_mode=read_write",
        f"duckdb:///{serving}?access_mode=read_only&enable_external_access=true",
        f"duckdb:///{serving}?access_mode=read_only&lock_configuration=false",
        f"duckdb:///{serving.parent}/../serving/x.duckdb?access_mode=read_only",
        f"duckdb:///{tmp_path / 'other.duckdb'}?access_mode=read_only",
        "duckdb:///:memory:?access_mode=read_only",
        "duckdb:///md:db?access_mode=read_only",
        f"sqlite:///{serving}",
        "postgresql://u:p@localhost/db?access_mode=read_only",
    ]
    for uri in refused:
        with pytest.raises(UnsafeConnectionError, match="Verbinding geweigerd"):
            check_serving_uri(make_url(uri), serving)


def test_engine_arguments_are_replaced_by_the_locked_configuration():
    hostile = {
        "poolclass": "NullPool",
        "creator": "x",
        "module": "y",
        "connect_args": {
            "config": {
                "enable_external_access": True,
                "lock_configuration": False,
                "access_mode": "read_write",
                "custom_user_agent": "superset/6.1",
            },
            "preload_extensions": ["httpfs"],
            "register_filesystems": ["fs"],
        },
    }
    out = harden_engine_kwargs(hostile)
    assert set(out) == {"poolclass", "connect_args"}
    assert out["connect_args"] == {
        "config": {**DUCKDB_LOCKED_CONFIG, "custom_user_agent": "superset/6.1"}
    }


PROBES = {
    "read_text": "select content from read_text('{secret}')",
    "read_csv": "select * from read_csv('{secret}', header=false)",
    "glob": "select * from glob('{folder}/*')",
    "copy to": "copy (select 1 as a) to '{folder}/written.csv'",
    "export database": "export database '{folder}/exported'",
    "attach": "attach '{folder}/other.duckdb' as other (read_only)",
    "change a setting": "set memory_limit = '1GB'",
}


@pytest.mark.parametrize("name", sorted(PROBES))
def test_locked_duckdb_refuses_what_an_unlocked_one_allows(serving, tmp_path, name):
    secret = tmp_path / "secret.txt"
    secret.write_text("GEHEIM")
    sql = PROBES[name].format(secret=secret, folder=tmp_path)
    duckdb.connect(str(tmp_path / "other.duckdb")).close()
    # Unlocked (read-only only, as before issue 16) the probe works: it is a real probe.
    con = duckdb.connect(str(serving), read_only=True)
    try:
        con.execute(sql).fetchall()
    finally:
        con.close()
    for leftover in ("written.csv", "exported"):
        target = tmp_path / leftover
        if target.is_dir():
            for f in target.iterdir():
                f.unlink()
            target.rmdir()
        target.unlink(missing_ok=True)
    con = duckdb.connect(str(serving), config=dict(DUCKDB_LOCKED_CONFIG))
    try:
        with pytest.raises((duckdb.PermissionException, duckdb.InvalidInputException)):
            con.execute(sql).fetchall()
        assert con.execute("select n from indicator").fetchall() == [(1,)]
    finally:
        con.close()
    assert not any((tmp_path / n).exists() for n in ("written.csv", "exported"))


def test_superset_inherits_no_pipeline_secret(settings, tmp_path):
    from ouderpeil.dashboards_server import _env

    base = {
        "PATH": "/usr/bin",
        "LANG": "nl_NL.UTF-8",
        "OUDERPEIL_HMAC_KEY": "ab" * 32,
        "OUDERPEIL_HMAC_KEY_FILE": "/root/.config/ouderpeil/hmac.key",
        "OUDERPEIL_WAREHOUSE": "/data/warehouse.duckdb",
        "AIRFLOW__CORE__FERNET_KEY": "f",
        "DBT_PROFILES_DIR": "/x",
        "AWS_SECRET_ACCESS_KEY": "s",
        "HOME": "/root",
        "SUPERSET_SECRET_KEY": "kept",
        "OUDERPEIL_SUPERSET_ADMIN_PASSWORD": "kept",
    }
    env = _env(settings, tmp_path / "home", base)
    assert not [k for k in env if "HMAC" in k or k.startswith(("AIRFLOW", "DBT", "AWS"))]
    assert "OUDERPEIL_WAREHOUSE" not in env
    assert env["HOME"] == str(tmp_path / "home")
    assert env["SUPERSET_SECRET_KEY"] == env["OUDERPEIL_SUPERSET_ADMIN_PASSWORD"] == "kept"
    assert env["LANG"] == "nl_NL.UTF-8"


def test_the_compose_superset_services_get_no_key_and_read_serving_read_only():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    for name in ("superset-init", "superset-import", "superset"):
        service = compose["services"][name]
        env = service.get("environment", {})
        assert not [k for k in env if "HMAC" in k.upper()], name
        mounts = [m.split(":") for m in service.get("volumes", [])]
        assert not [
            m
            for m in mounts
            if "hmac" in m[0].lower() or m[0] in ("warehouse", "inbox", "pipeline-state", "exports")
        ], (name, mounts)
        assert ["serving", "/data/serving", "ro"] in mounts, (name, mounts)
        assert "ALL" in service.get("cap_drop", []), name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
