"""export(): suppressed indicators of one school year + datapackage.json + manifest.json,
read only from the serving file; validated with the frictionless library."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import time
from pathlib import Path

import duckdb
import frictionless
import pytest
from handmade_warehouse import build_handmade_warehouse
from helpers import make_settings

from ouderpeil.errors import ExportError
from ouderpeil.export import FORMATS, export
from ouderpeil.publish import publish
from ouderpeil.quality import gate


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """One hand-made warehouse, gated and published once for this module (exports only read)."""
    settings = make_settings(tmp_path_factory.mktemp("export") / "data")
    build_handmade_warehouse(settings)
    gate(settings, layer="marts", run_id="run-1")
    publish(settings, run_id="run-1")
    return settings


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _csv_rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_is_a_valid_data_package_with_checksums(published, tmp_path, fmt):
    out = export(published, period="2025-2026", fmt=fmt, out=tmp_path / fmt)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "datapackage.json",
            "manifest.json",
            f"indicators.{fmt}",
            f"indicator_catalogue.{fmt}",
            "INDICATORS.md",
        ]
    )
    report = frictionless.validate(out / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run_id"] == "run-1" and manifest["validation_success"] is True
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert len(data) == entry["bytes"]
    assert {e["path"] for e in manifest["files"]} == {
        f"indicators.{fmt}",
        f"indicator_catalogue.{fmt}",
        "INDICATORS.md",
        "datapackage.json",
    }
    # the definitions it refers to travel with it, verbatim
    assert (out / "INDICATORS.md").read_bytes() == (
        Path(__file__).resolve().parents[1] / "docs" / "spec" / "INDICATORS.md"
    ).read_bytes()
    resource = json.loads((out / "datapackage.json").read_text())["resources"][2]
    assert resource["path"] == "INDICATORS.md" and resource["name"] == "indicator_definitions"

    package = frictionless.Package(out / "datapackage.json")
    rows = package.get_resource("indicators").read_rows()
    assert len(rows) == manifest["row_counts"]["indicators"] > 0
    assert {r["school_year"] for r in rows} == {"2025-2026"}
    assert {r["period"] for r in rows} == {"2025-2026", "2025-10"}
    # Every column is described.
    for res in json.loads((out / "datapackage.json").read_text())["resources"]:
        if res["name"] == "indicator_definitions":  # markdown, no columns
            continue
        assert all(f["description"] and f["type"] for f in res["schema"]["fields"])
    con = duckdb.connect(str(published.serving_path), read_only=True)
    expected = con.execute(
        "SELECT count(*) FROM indicator WHERE school_year = '2025-2026'"
    ).fetchone()[0]
    con.close()
    assert len(rows) == expected


def test_no_row_with_n_below_10_carries_a_value(published, tmp_path):
    out = export(published, period="2025-2026", fmt="csv", out=tmp_path / "csv")
    rows = _csv_rows(out / "indicators.csv")
    small = [r for r in rows if int(r["n"]) < 10]
    assert small, "the hand-made data has small cells; the check must see some"
    for r in small:
        assert r["suppressed"] == "true"
        assert r["value"] == r["numerator"] == r["ci_low"] == r["ci_high"] == ""
    assert any(r["value"] for r in rows if r["suppressed"] == "false")


def test_a_disclosive_serving_file_is_refused(published, tmp_path):
    """Even a serving file that was tampered with cannot leak small cells through an export."""
    tampered = make_settings(tmp_path / "data")
    tampered.serving_path.write_bytes(published.serving_path.read_bytes())
    con = duckdb.connect(str(tampered.serving_path))
    con.execute("UPDATE indicator SET value = 0.5 WHERE n < 10")
    con.close()
    with pytest.raises(ExportError, match="refusing to export"):
        export(tampered, period="2025-2026", fmt="csv", out=tmp_path / "x")


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_inputs_give_byte_identical_exports(published, tmp_path, fmt):
    first = _files(export(published, period="2025-2026", fmt=fmt, out=tmp_path / "a"))
    time.sleep(2.1)  # past the 2-second resolution of zip dates and xlsx timestamps
    second = _files(export(published, period="2025-2026", fmt=fmt, out=tmp_path / "b"))
    assert first == second


def test_sector_and_board_filters(published, tmp_path):
    vo = _csv_rows(
        export(published, period="2025-2026", sector="vo", out=tmp_path / "vo") / "indicators.csv"
    )
    assert vo and {r["sector"] for r in vo} == {"vo"}
    board = _csv_rows(
        export(published, period="2025-2026", board="43000", out=tmp_path / "b") / "indicators.csv"
    )
    assert board and {r["board_id"] for r in board} == {"43000"}
    default = export(published, period="2024-2025", sector="po", fmt="csv")
    assert default == published.exports_dir / "run-1" / "ouderpeil-2024-2025-po-csv"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"period": "2019-2020"}, "unknown period '2019-2020'.*2024-2025, 2025-2026"),
        ({"period": "2025"}, "not a school year"),
        ({"period": "2025-2027"}, "not a school year"),
        ({"period": "2025-2026", "sector": "hbo"}, "unknown sector 'hbo'"),
        ({"period": "2025-2026", "board": "99999"}, "unknown board '99999'.*41000, 43000"),
        ({"period": "2025-2026", "sector": "po", "board": "43000"}, "unknown board '43000'"),
        ({"period": "2025-2026", "fmt": "json"}, "unknown format"),
    ],
)
def test_unknown_selection_is_a_clear_error(published, tmp_path, kwargs, message):
    with pytest.raises(ExportError, match=message):
        export(published, out=tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_no_export_before_a_validated_publish(settings, tmp_path):
    with pytest.raises(ExportError, match="no published serving file"):
        export(settings, period="2025-2026", out=tmp_path / "x")
    # A serving file whose last publish did not pass validation (written by hand).
    settings.serving_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.serving_path))
    con.execute(
        "CREATE TABLE publish_run AS SELECT 'r' AS run_id, now() AS published_at, "
        "'v' AS code_version, false AS validation_success"
    )
    con.close()
    with pytest.raises(ExportError, match="no successful validated publish"):
        export(settings, period="2025-2026", out=tmp_path / "x")


def test_cli_export(published, tmp_path, monkeypatch, capsys):
    from ouderpeil.cli import main

    monkeypatch.setenv("OUDERPEIL_DATA_DIR", str(published.data_dir))
    monkeypatch.setenv("OUDERPEIL_HMAC_KEY", "00" * 32)
    assert (
        main(
            [
                "export",
                "--period",
                "2025-2026",
                "--sector",
                "mbo",
                "--format",
                "xlsx",
                "--out",
                str(tmp_path / "cli"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli")
    assert frictionless.validate(tmp_path / "cli" / "datapackage.json").valid
    assert main(["export", "--period", "1999-2000", "--out", str(tmp_path / "e")]) == 2
    assert "unknown period" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_real_export(published_settings, tmp_path, fmt):
    con = duckdb.connect(str(published_settings.serving_path), read_only=True)
    year = con.execute("SELECT max(school_year) FROM indicator").fetchone()[0]
    con.close()
    out = export(published_settings, period=year, fmt=fmt, out=tmp_path / fmt)
    report = frictionless.validate(out / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    rows = frictionless.Package(out / "datapackage.json").get_resource("indicators").read_rows()
    small = [r for r in rows if r["n"] < 10]
    assert rows and small
    # frictionless reads parquet nulls through pandas, as NaN
    assert all(r["value"] is None or math.isnan(r["value"]) for r in small)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(out / "indicators.parquet").to_pylist()
        assert all(r["value"] is None and r["numerator"] is None for r in table if r["n"] < 10)
    again = export(published_settings, period=year, fmt=fmt, out=tmp_path / f"{fmt}2")
    assert _files(out) == _files(again)
