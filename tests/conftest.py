"""Shared fixtures: real files, a real DuckDB warehouse, a real dbt build.

Session fixtures build the small sample data set once and hand every test a Settings object
that points into a temporary data directory, so tests never touch the demo's data/.
"""
from __future__ import annotations

import os
import shutil
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


# Fixtures that run a real dbt build (and GX, publish) once per session: every test that
# uses one is slow, marked or not, so `make test-fast` never pays for the build.
SLOW_FIXTURES = {"built_settings", "published_settings"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
