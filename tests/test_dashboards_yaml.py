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
    spec = importlib.util.spec_from_file_location(
        "build_dashboards", DASHBOARDS / "build_dashboards.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yaml_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml"))


def test_committed_yaml_is_what_the_builder_generates(tmp_path):
    builder = _load_builder()
    builder.build(tmp_path)
    assert _yaml_files(tmp_path) == _yaml_files(DASHBOARDS)
    stale = [
        f
        for f in _yaml_files(tmp_path)
        if not filecmp.cmp(tmp_path / f, DASHBOARDS / f, shallow=False)
    ]
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
        "indicator",
        "channel_mix",
        "national_reference",
        "equity_gap",
    }
    for ds in datasets.values():
        assert ds["database_uuid"] in databases and ds["sql"] is None  # physical tables only
    used = set()
    for dash in dashboards:
        chart_nodes = [
            v for v in dash["position"].values() if isinstance(v, dict) and v.get("type") == "CHART"
        ]
        assert any(
            isinstance(v, dict) and v.get("type") == "MARKDOWN" for v in dash["position"].values()
        ), dash["slug"]
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
    # Every dashboard opens with the answer: the first row is "Bereiken we alle gezinnen?".
    for dash in dashboards:
        pos = dash["position"]
        first_row = pos[pos["GRID_ID"]["children"][0]]
        (first,) = [pos[c] for c in first_row["children"]]
        chart = charts[first["meta"]["uuid"]]
        assert chart["slice_name"] == "Bereiken we alle gezinnen?", dash["slug"]
        assert (
            chart["viz_type"] == "handlebars"
            and "{{data.0.bestuur}}" in chart["params"]["handlebarsTemplate"]
        ), "the board's name is in the title"
        second = pos[pos["GRID_ID"]["children"][1]]["children"][0]
        assert "kloof" in charts[pos[second]["meta"]["uuid"]]["slice_name"].lower(), dash["slug"]


ENGLISH = ("N/A", "options", "ALL", "ch. ", "No data", "No results", "Select ")


def _texts(chart: dict) -> list[str]:
    params = chart["params"]
    texts = [
        chart["slice_name"],
        chart.get("description") or "",
        params.get("handlebarsTemplate") or "",
        params.get("subheader") or "",
        params.get("x_axis_title") or "",
        params.get("y_axis_title") or "",
    ]
    texts += [c.get("customColumnName", "") for c in params.get("column_config", {}).values()]
    return texts


def test_what_users_read_is_dutch_and_charts_are_readable():
    load = lambda p: yaml.safe_load(p.read_text())  # noqa: E731
    charts = list(map(load, (DASHBOARDS / "charts").glob("*.yaml")))
    datasets = {d["uuid"]: d for d in map(load, (DASHBOARDS / "datasets").rglob("*.yaml"))}
    for chart in charts:
        for text in _texts(chart):
            for word in ENGLISH:
                assert word not in text, (chart["slice_name"], word, text)
        params = chart["params"]
        if chart["viz_type"] == "table":
            # Tables order by a numeric sort metric or by their grouping, never by a text
            # metric (the old gap table sorted "−20,7" before "−2,4").
            sort = params.get("timeseries_limit_metric")
            metrics = {m["metric_name"]: m for m in datasets[chart["dataset_uuid"]]["metrics"]}
            if sort:
                assert sort in metrics and sort not in params["metrics"], chart["slice_name"]
                assert "_text" not in metrics[sort]["expression"], chart["slice_name"]
        if chart["viz_type"].startswith("echarts_timeseries") and params.get(
            "y_axis_format", ""
        ).endswith("%"):
            assert params["y_axis_bounds"] == [0, 1], f"{chart['slice_name']}: 0-100 %"
        if chart["viz_type"] == "echarts_timeseries_line":
            subjects = [f.get("sqlExpression") for f in params["adhoc_filters"]]
            assert "has_school_days" in subjects, f"{chart['slice_name']}: summer months"
    # The native SES filter runs laag, midden, hoog, onbekend and offers no 'ALL'.
    for dash in map(load, (DASHBOARDS / "dashboards").glob("*.yaml")):
        (ses,) = [
            f for f in dash["metadata"]["native_filter_configuration"] if f["name"] == "SES-groep"
        ]
        assert ses["sortMetric"] == "ses_volgorde" and ses["controlValues"]["sortAscending"]
        assert {"subject": "ses_group", "operator": "!=", "comparator": "ALL"}.items() <= next(
            f for f in ses["adhoc_filters"] if f.get("subject") == "ses_group"
        ).items()
    indicator = next(d for d in datasets.values() if d["table_name"] == "indicator")
    order = next(m for m in indicator["metrics"] if m["metric_name"] == "ses_volgorde")
    positions = [
        order["expression"].index(f"'{g}'") for g in ("laag", "midden", "hoog", "onbekend")
    ]
    assert positions == sorted(positions)
