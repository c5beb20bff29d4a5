"""Production deployment files: docker-compose.yml, docker/, .env.example.

There is no Docker engine here, so the compose file is checked as data: services, volumes,
healthchecks, that every secret is an ${VARIABLE} from .env, and that every file it and the
Dockerfiles reference exists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ouderpeil.config import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|HMAC_KEY|TOKEN|_KEY$", re.I)
ONLY_VARIABLE = re.compile(r"^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$")
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}")
SHARED_VOLUMES = {
    "inbox": "/data/inbox",
    "warehouse": "/data/warehouse",
    "serving": "/data/serving",
    "exports": "/data/exports",
}
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())  # also resolves the <<: merge keys


def _mounts(service: dict) -> dict[str, str]:
    """volume or path -> target[:mode]"""
    out = {}
    for m in service.get("volumes", []):
        source, target = m.split(":", 1)
        out[source] = target
    return out


def _command(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def test_services_and_airflow_components(compose):
    services = compose["services"]
    assert set(services) >= {
        "postgres",
        "redis",
        "airflow-init",
        *AIRFLOW_SERVICES,
        "superset-init",
        "superset-import",
        "superset",
    }
    for name, component in AIRFLOW_SERVICES.items():
        svc = services[name]
        assert _command(svc).startswith(f"airflow {component}"), name
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert (
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
            and "@postgres:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        )
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/ouderpeil/dags"
        assert svc["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    init = _command(services["airflow-init"])
    assert "airflow db migrate" in init and "airflow pools set duckdb_writer 1" in init
    assert "superset_bootstrap init" in _command(services["superset-init"])
    assert "superset_bootstrap import" in _command(services["superset-import"])
    assert "superset_bootstrap serve" in _command(services["superset"])
    superset_env = services["superset"]["environment"]
    assert superset_env["SUPERSET_DATABASE_URI"].startswith("postgresql+psycopg2://")
    assert superset_env["SUPERSET_REDIS_URL"].startswith("redis://")


def test_shared_volumes_and_superset_sees_only_the_serving_file(compose):
    declared = set(compose["volumes"])
    assert set(SHARED_VOLUMES) <= declared
    services = compose["services"]
    for name in ["airflow-init", *AIRFLOW_SERVICES]:
        mounts = _mounts(services[name])
        for volume, target in SHARED_VOLUMES.items():
            assert mounts.get(volume) == target, f"{name} lacks {volume}"
        env = services[name]["environment"]
        assert env["OUDERPEIL_WAREHOUSE"].startswith("/data/warehouse/")
        assert env["OUDERPEIL_SERVING"].startswith("/data/serving/")
        assert env["OUDERPEIL_INBOX_DIR"] == "/data/inbox"
        assert env["OUDERPEIL_EXPORTS_DIR"] == "/data/exports"
    for name in ("superset-init", "superset-import", "superset"):
        mounts = _mounts(services[name])
        assert mounts.get("serving") == "/data/serving:ro", name
        assert "warehouse" not in mounts and "inbox" not in mounts, name
    # Every named volume a service mounts is declared.
    for name, svc in services.items():
        for source in _mounts(svc):
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_healthchecks_and_startup_order(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "superset", *AIRFLOW_SERVICES):
        hc = services[name].get("healthcheck")
        assert hc and hc["test"][0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}'s health"


def _strings(node, path=""):
    """Every string in the compose document with where it sits."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def test_every_secret_comes_from_the_environment(compose):
    for name, svc in compose["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            value = "" if value is None else str(value)
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert ONLY_VARIABLE.match(value), f"{name}.{key} is not an ${{VAR}}: {value!r}"
    for where, text in _strings(compose):
        # user:password@host in any URL must use variables for the password.
        for m in re.finditer(r"://[^/\s:@]*:([^@\s]+)@", text):
            assert ONLY_VARIABLE.match(m.group(1)), f"literal password in {where}: {text}"
        assert "change-me" not in text, where
    # No required variable is missing from .env.example.
    required = {
        m.group(1)
        for _, t in _strings(compose)
        for m in VARIABLE.finditer(t)
        if (m.group(2) or "").startswith(":?")
    }
    example = _env_example()
    assert required <= set(example), f"missing in .env.example: {required - set(example)}"


def _env_example() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_env_file_is_ignored_and_example_holds_placeholders_only():
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO_ROOT)
    assert ignored.returncode == 0, ".env must be in .gitignore"
    not_ignored = subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=REPO_ROOT)
    assert not_ignored.returncode == 1, ".env.example must be committed"
    example = _env_example()
    secrets_ = {k: v for k, v in example.items() if SECRET_NAME.search(k)}
    assert {
        "OUDERPEIL_HMAC_KEY",
        "AIRFLOW_DB_PASSWORD",
        "SUPERSET_SECRET_KEY",
        "AIRFLOW_FERNET_KEY",
        "REDIS_PASSWORD",
    } <= set(secrets_)
    for key, value in secrets_.items():
        assert value == "change-me", f"{key} in .env.example must be the placeholder"


def _dockerfile_sources(dockerfile: Path) -> list[str]:
    sources = []
    for line in dockerfile.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "COPY" and not any(p.startswith("--from") for p in parts):
            sources += [p for p in parts[1:-1] if not p.startswith("--")]
    return sources


def test_referenced_dockerfiles_and_paths_exist(compose):
    seen = set()
    for name, svc in compose["services"].items():
        build = svc.get("build")
        if build:
            context = (REPO_ROOT / build["context"]).resolve()
            dockerfile = context / build["dockerfile"]
            assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
            seen.add(dockerfile)
            for source in _dockerfile_sources(dockerfile):
                if not source.startswith("/"):
                    assert (context / source).exists(), f"{dockerfile.name}: COPY {source}"
        for source in _mounts(svc):
            if source.startswith("."):
                assert (REPO_ROOT / source).exists(), f"{name} mounts missing {source}"
    assert {p.name for p in seen} == {"airflow.Dockerfile", "superset.Dockerfile"}
    airflow_df = (REPO_ROOT / "docker" / "airflow.Dockerfile").read_text()
    assert (
        "requirements/airflow.lock.txt" in airflow_df and "pip install --no-deps -e ." in airflow_df
    )
    assert (
        "requirements/superset.lock.txt"
        in (REPO_ROOT / "docker" / "superset.Dockerfile").read_text()
    )


def test_superset_production_overrides_apply_to_the_project_config(tmp_path):
    """With SUPERSET_DATABASE_URI and SUPERSET_REDIS_URL set (compose sets both), the project's
    superset_config.py must load and point at PostgreSQL and Redis."""
    combined = REPO_ROOT / "ouderpeil" / "superset_bootstrap" / "superset_config.py"
    env = {
        **os.environ,
        "OUDERPEIL_SUPERSET_HOME": str(tmp_path / "home"),
        "SUPERSET_SECRET_KEY": "test-only",
        "SUPERSET_DATABASE_URI": "postgresql+psycopg2://u:p@postgres:5432/superset",
        "SUPERSET_REDIS_URL": "redis://:p@redis:6379/0",
    }
    code = (
        "import runpy, json; c = runpy.run_path(%r); print(json.dumps(["
        "c['SQLALCHEMY_DATABASE_URI'], c['CACHE_CONFIG']['CACHE_TYPE'], "
        "c['DATA_CACHE_CONFIG']['CACHE_REDIS_URL']]))" % str(combined)
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == (
        '["postgresql+psycopg2://u:p@postgres:5432/superset", "RedisCache", '
        '"redis://:p@redis:6379/0"]'
    )


def _compose_cli() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(
    not _compose_cli(), reason="no `docker compose` plugin here to run `docker compose config`"
)
def test_docker_compose_config_accepts_the_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text())
    proc = subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
