"""The hand-made warehouse (tests/handmade_warehouse.py) passes both quality gates, so a failure
in a test that corrupts it is that test's corruption, not a broken fixture."""

from __future__ import annotations

import pytest
from handmade_warehouse import build_handmade_warehouse


@pytest.fixture
def handmade(settings):
    build_handmade_warehouse(settings)
    return settings


def test_handmade_warehouse_passes_both_gates(handmade):
    from ouderpeil.quality import validate

    raw = validate(handmade, layer="raw", run_id="handmade-raw")
    assert raw.success, raw.summary()
    marts = validate(handmade, layer="marts", run_id="handmade-marts")
    assert marts.success, marts.summary()
    # Every suite of each layer was evaluated, not skipped.
    assert "raw.references" in raw.tables and "raw.contact_logs" in raw.tables
    assert marts.tables == ["marts.fct_indicator"]
    assert marts.expectations_evaluated > 30
