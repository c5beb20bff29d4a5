"""dashboards/ as code: the committed YAML is what build_dashboards.py generates, and it is
consistent (every reference resolves, nothing points at a path or a secret). Fast; no Superset.
"""
from __future__ import annotations

import filecmp
import importlib.util
import json

import yaml

from ouderpeil.config import REPO_ROOT

DASHBOARDS = REPO_ROOT / "dashboards"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_dashboards",
                                                  DASHBOARDS / "build_dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yaml_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml"))


def test_committed_yaml_is_what_the_builder_generates(tmp_path):
    builder = _load_builder()
    builder.build(tmp_path)
    assert _yaml_files(tmp_path) == _yaml_files(DASHBOARDS)
    stale = [f for f in _yaml_files(tmp_path)
             if not filecmp.cmp(tmp_path / f, DASHBOARDS / f, shallow=False)]
    assert not stale, f"run `python dashboards/build_dashboards.py`: {stale}"


def test_references_resolve_and_nothing_is_hard_wired():
    load = lambda p: yaml.safe_load(p.read_text())  # noqa: E731
    databases = {d["uuid"]: d for d in map(load, (DASHBOARDS / "databases").glob("*.yaml"))}
    datasets = {d["uuid"]: d for d in map(load, (DASHBOARDS / "datasets").rglob("*.yaml"))}
    charts = {c["uuid"]: c for c in map(load, (DASHBOARDS / "charts").glob("*.yaml"))}
    dashboards = list(map(load, (DASHBOARDS / "dashboards").glob("*.yaml")))
    assert load(DASHBOARDS / "metadata.yaml")["type"] == "assets"
    # The serving URI is filled in at import: no path, no warehouse, no password here.
    (db,) = databases.values()
    assert db["sqlalchemy_uri"] == "__OUDERPEIL_SERVING_URI__"
    assert not db.get("password")
    assert {d["table_name"] for d in datasets.values()} == {
        "indicator", "channel_mix", "national_reference"}
    for ds in datasets.values():
        assert ds["database_uuid"] in databases and ds["sql"] is None  # physical tables only
    used = set()
    for dash in dashboards:
        chart_nodes = [v for v in dash["position"].values()
                       if isinstance(v, dict) and v.get("type") == "CHART"]
        assert any(isinstance(v, dict) and v.get("type") == "MARKDOWN"
                   for v in dash["position"].values()), dash["slug"]
        for node in chart_nodes:
            assert node["meta"]["uuid"] in charts, (dash["slug"], node["meta"]["sliceName"])
            used.add(node["meta"]["uuid"])
        names = {f["name"] for f in dash["metadata"]["native_filter_configuration"]}
        assert names == {"Schooljaar", "Bestuur", "School", "SES-groep"}, dash["slug"]
    assert used == set(charts), "charts that no dashboard uses"
    for chart in charts.values():
        assert chart["dataset_uuid"] in datasets
        qc = json.loads(chart["query_context"])
        assert qc["queries"] and qc["form_data"]["viz_type"] == chart["viz_type"]
    slugs = {d["slug"] for d in dashboards}
    assert slugs == {"ouderpeil-po", "ouderpeil-vo", "ouderpeil-mbo", "ouderpeil-overzicht"}
    # Each sector dashboard has the seven headline numbers as big numbers.
    for sector in ("po", "vo", "mbo"):
        bigs = {c["params"]["adhoc_filters"][1]["comparator"] for c in charts.values()
                if c["viz_type"] == "big_number_total"
                and c["params"]["adhoc_filters"][0]["comparator"] == sector}
        assert bigs == {"contact_reach", "contact_frequency", "message_delivery_rate",
                        "message_read_rate", "message_dose", "tip_usefulness", "comm_grade"}
