"""Shared fixtures: real files, a real DuckDB warehouse, a real dbt build.

Session fixtures build the small sample data set once and hand every test a Settings object
that points into a temporary data directory, so tests never touch the demo's data/.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

# Test files are complete when written: no settle wait before loading them (the settle
# period itself is tested in tests/test_loading_inbox.py).
os.environ.setdefault("OUDERPEIL_INBOX_SETTLE_SECONDS", "0")

from helpers import TEST_HMAC_KEY, make_settings  # noqa: F401  (re-exported for older imports)

from ouderpeil.config import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Empty data directory for one test."""
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def small_inbox(tmp_path_factory) -> Path:
    """The generator's small scale (3 schools, ~600 families), written once per session."""
    from ouderpeil.generate import generate

    out = tmp_path_factory.mktemp("small_inbox")
    generate(out, scale="small", seed=7)
    return out


@pytest.fixture(scope="session")
def loaded_settings(tmp_path_factory, small_inbox) -> Settings:
    """Small sample data loaded into a real DuckDB warehouse (raw layer only)."""
    from ouderpeil.loading import load_inbox

    data = tmp_path_factory.mktemp("loaded") / "data"
    settings = make_settings(data)
    shutil.copytree(small_inbox, settings.inbox_dir, dirs_exist_ok=True)
    load_inbox(settings)
    return settings


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory, small_inbox) -> Settings:
    """Small sample data loaded and built with a real `dbt build`."""
    from ouderpeil.loading import load_inbox
    from ouderpeil.transform import run_dbt

    data = tmp_path_factory.mktemp("built") / "data"
    settings = make_settings(data)
    shutil.copytree(small_inbox, settings.inbox_dir, dirs_exist_ok=True)
    load_inbox(settings)
    run_dbt(settings, command="build")
    return settings


@pytest.fixture(scope="session")
def published_settings(built_settings) -> Settings:
    """The built warehouse after the quality gate and publish: a serving file exists."""
    from ouderpeil.publish import publish
    from ouderpeil.quality import gate

    gate(built_settings, layer="marts", run_id="test-run")
    publish(built_settings, run_id="test-run")
    return built_settings


@pytest.fixture(scope="session")
def demo_published_settings(tmp_path_factory) -> Settings:
    """`make demo`'s sample (scale and seed of ouderpeil.demo) through the real pipeline: load,
    dbt build, marts gate, publish; the Superset and browser tests run on it. Stage times land
    in test-artifacts/demo-pipeline.json. For working on dashboards only,
    OUDERPEIL_TEST_DEMO_DATA_DIR may name a data directory where this was done before (its
    serving file is used as it is; the test output says so)."""
    from ouderpeil.config import REPO_ROOT
    from ouderpeil.demo import DEMO_SCALE, DEMO_SEED
    from ouderpeil.generate import generate
    from ouderpeil.loading import load_inbox
    from ouderpeil.publish import publish
    from ouderpeil.quality import gate
    from ouderpeil.transform import run_dbt

    reuse = os.environ.get("OUDERPEIL_TEST_DEMO_DATA_DIR")
    if reuse:
        settings = make_settings(Path(reuse))
        assert settings.serving_path.exists(), f"no serving file under {reuse}"
        print(f"\nreusing the published demo data in {reuse} (OUDERPEIL_TEST_DEMO_DATA_DIR)")
        return settings
    settings = make_settings(tmp_path_factory.mktemp("demo") / "data")
    timings, t = {}, time.monotonic()
    for stage, run in (
        ("generate", lambda: generate(settings.inbox_dir, scale=DEMO_SCALE, seed=DEMO_SEED)),
        ("load", lambda: load_inbox(settings)),
        ("dbt_build", lambda: run_dbt(settings, command="build")),
        ("gate_marts", lambda: gate(settings, layer="marts", run_id="demo-test")),
        ("publish", lambda: publish(settings, run_id="demo-test")),
    ):
        run()
        timings[stage], t = round(time.monotonic() - t, 1), time.monotonic()
    artifacts = REPO_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "demo-pipeline.json").write_text(json.dumps(timings, indent=2))
    return settings


@pytest.fixture(scope="session")
def superset(demo_published_settings, tmp_path_factory, request):
    """One real Superset for the session on the demo's serving file (tests/superset_helpers)."""
    from superset_helpers import superset_handle

    return superset_handle(demo_published_settings, tmp_path_factory, request.config)


# Fixtures that run a real dbt build (and GX, publish) once per session: every test that
# uses one is slow, marked or not, so `make test-fast` never pays for the build.
SLOW_FIXTURES = {"built_settings", "published_settings", "demo_published_settings", "superset"}


# `make test` runs on two pytest-xdist workers with --dist loadfile: a module runs whole on one
# worker, so its module fixtures (a running Airflow, a built warehouse) are made once. The
# modules on the session Superset (fixture `superset`, on the demo warehouse) also run on one
# worker together, so Superset starts once instead of on both. Not loadgroup with xdist_group
# marks: with pytest 9 those grouped nothing here (each test went to either worker).
SUPERSET_MODULES = frozenset(
    {"tests/test_dashboard_browser.py", "tests/test_security_superset.py", "tests/test_superset.py"}
)


@pytest.hookimpl(optionalhook=True)  # a plain pytest without xdist does not know the hook
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None  # xdist's own scheduler for any other --dist
    from xdist.scheduler import LoadFileScheduling

    class ModulesTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "superset" if module in SUPERSET_MODULES else module

    return ModulesTogether(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & fixtures and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
        # A module outside SUPERSET_MODULES on the session Superset would start a second one.
        if "superset" in fixtures:
            module = item.nodeid.split("::", 1)[0]
            assert module in SUPERSET_MODULES, f"{module}: add it to SUPERSET_MODULES"


@pytest.fixture
def schools_loaded(settings):
    """An empty warehouse with the three schools of loading_helpers.SCHOOLS_CSV loaded."""
    from loading_helpers import SCHOOLS_CSV, write

    from ouderpeil.loading import load_file

    write(settings, "schools", "schools.csv", SCHOOLS_CSV)
    result = load_file(settings, "schools", settings.inbox_dir / "schools" / "schools.csv")
    assert result.rows_loaded == 3
    return settings
