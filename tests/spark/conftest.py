"""The Spark tests run in `make test-spark` only (it builds .venv-spark/ and installs Java):
a plain `make test` / `pytest` collects them and skips them with that reason."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    if "spark" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(
        reason="Spark engine comparison: run `make test-spark` (own "
        "virtualenv .venv-spark/ and Java; minutes on 2 cores)"
    )
    for item in items:
        if "spark" in item.keywords:
            item.add_marker(skip)
