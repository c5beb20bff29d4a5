"""What dbt records about the project is true, without running dbt: every dashboard has an
exposure that depends on exactly the marts its charts read; the published table and the
served marts have enforced contracts; every intermediate model states its grain and tests
its key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ouderpeil.publish import SERVED_MARTS

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "dbt_project" / "models"
DASHBOARDS = ROOT / "dashboards"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _models(yml: Path) -> dict[str, dict]:
    return {m["name"]: m for m in _load(yml).get("models", [])}


def _exposures() -> list[dict]:
    return _load(MODELS / "exposures.yml")["exposures"]


def _marts_read_by(dashboard: dict) -> set[str]:
    """The marts behind a dashboard: its charts' datasets, mapped back through publish."""
    datasets = {
        d["uuid"]: d["table_name"] for d in map(_load, DASHBOARDS.glob("datasets/*/*.yaml"))
    }
    charts = {c["uuid"]: c["dataset_uuid"] for c in map(_load, DASHBOARDS.glob("charts/*.yaml"))}
    chart_uuids = {
        v["meta"]["uuid"]
        for v in dashboard["position"].values()
        if isinstance(v, dict) and v.get("type") == "CHART"
    }
    assert chart_uuids, f"dashboard {dashboard['slug']} has no charts"
    tables = {datasets[charts[u]] for u in chart_uuids}
    return {SERVED_MARTS[t][0].split(".")[-1] for t in tables}


DASHBOARD_FILES = sorted(DASHBOARDS.glob("dashboards/*.yaml"))


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.stem)
def test_every_dashboard_has_an_exposure_with_its_marts(path):
    dashboard = _load(path)
    matching = [
        e
        for e in _exposures()
        if e["type"] == "dashboard"
        and e.get("url", "").rstrip("/").endswith("/" + dashboard["slug"])
    ]
    assert len(matching) == 1, f"no single exposure for dashboard {dashboard['slug']}"
    refs = {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in matching[0]["depends_on"]}
    assert refs == _marts_read_by(dashboard)


def test_the_inspector_export_is_an_exposure_of_what_it_reads():
    (export,) = [e for e in _exposures() if e["name"] == "inspector_export"]
    refs = {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in export["depends_on"]}
    # The export reads the served indicator table and the catalogue (ouderpeil/export.py).
    assert refs == {SERVED_MARTS["indicator"][0].split(".")[-1], "indicator_catalogue"}


@pytest.mark.parametrize(
    "model", ["fct_indicator", *sorted(m.split(".")[-1] for m, _ in SERVED_MARTS.values())]
)
def test_published_models_have_an_enforced_contract(model):
    spec = _models(MODELS / "marts" / "_marts.yml")[model]
    assert spec.get("config", {}).get("contract", {}).get("enforced") is True
    untyped = [c["name"] for c in spec["columns"] if not c.get("data_type")]
    assert not untyped, f"{model}: columns without data_type {untyped}"


def _key_tests(spec: dict) -> list:
    combined = [
        t
        for t in spec.get("data_tests", [])
        if isinstance(t, dict) and "unique_combination_of_columns" in t
    ]
    # a column test is named as a string, or as a one-key mapping with its config
    single = [
        c["name"]
        for c in spec.get("columns", [])
        if any(
            t == "unique" or (isinstance(t, dict) and "unique" in t)
            for t in c.get("data_tests") or []
        )
    ]
    return combined + single


INTERMEDIATE = sorted(p.stem for p in (MODELS / "intermediate").glob("int_*.sql"))


@pytest.mark.parametrize("model", INTERMEDIATE)
def test_every_intermediate_model_states_and_tests_its_grain(model):
    spec = _models(MODELS / "intermediate" / "_intermediate.yml").get(model)
    assert spec, f"{model} is not described in _intermediate.yml"
    assert "**Grain**" in spec.get("description", ""), f"{model}: no grain stated"
    assert "Primary key" in spec["description"], f"{model}: no primary key stated"
    assert _key_tests(spec), f"{model}: its key is not tested"
