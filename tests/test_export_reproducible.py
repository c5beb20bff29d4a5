"""Same inputs, same bytes: two complete runs (load, dbt build, gate, publish, export) in two
fresh directories give byte-identical serving data and exports. Only the publish time differs
between the runs, and it is written only where it belongs (created / published_at, and the
xlsx 'modified' stamp)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import duckdb
import pytest
from conftest import make_settings

from ouderpeil.export import FORMATS, export
from ouderpeil.loading import load_inbox
from ouderpeil.publish import publish
from ouderpeil.quality import gate
from ouderpeil.transform import run_dbt

TIMESTAMPS = {"created", "published_at", "validated_at"}


def _run(root, inbox):
    settings = make_settings(root / "data")
    shutil.copytree(inbox, settings.inbox_dir, dirs_exist_ok=True)
    load_inbox(settings)
    run_dbt(settings, command="build")
    gate(settings, layer="marts", run_id="repro")
    publish(settings, run_id="repro")
    return settings


def _serving_dump(settings) -> dict[str, bytes]:
    """Every published table as csv in a fixed row order."""
    con = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        out = {}
        for table in ("indicator", "channel_mix", "national_reference", "indicator_catalogue"):
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            rows = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            out[table] = (repr(cols) + "\n" + "\n".join(repr(r) for r in rows)).encode()
        return out
    finally:
        con.close()


def _without_timestamps(obj):
    if isinstance(obj, dict):
        # an xlsx file and datapackage.json hold the publish time, so their sizes and hashes
        # differ with it
        xlsx = str(obj.get("path", "")).endswith((".xlsx", "datapackage.json"))
        return {
            k: _without_timestamps(v)
            for k, v in obj.items()
            if k not in TIMESTAMPS and not (xlsx and k in ("bytes", "hash", "sha256"))
        }
    if isinstance(obj, list):
        return [_without_timestamps(v) for v in obj]
    return obj


def _export_files(settings, out) -> dict[str, bytes]:
    files = {}
    for fmt in FORMATS:
        folder = export(settings, period="2025-2026", fmt=fmt, out=out / fmt)
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            if path.suffix == ".json":
                data = json.dumps(_without_timestamps(json.loads(data)), sort_keys=True).encode()
            elif path.suffix == ".xlsx":
                with zipfile.ZipFile(io.BytesIO(data)) as z:
                    data = b"".join(
                        z.read(n) for n in sorted(z.namelist()) if n != "docProps/core.xml"
                    )
            files[f"{fmt}/{path.name}"] = data
    return files


@pytest.mark.slow
def test_two_fresh_runs_give_byte_identical_serving_data_and_exports(tmp_path, small_inbox):
    first = _run(tmp_path / "first", small_inbox)
    second = _run(tmp_path / "second", small_inbox)
    a, b = _serving_dump(first), _serving_dump(second)
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], f"serving table {table} differs between two runs"
    ea, eb = _export_files(first, tmp_path / "ea"), _export_files(second, tmp_path / "eb")
    assert ea.keys() == eb.keys() and len(ea) == 3 * 5
    different = [name for name in ea if ea[name] != eb[name]]
    assert different == []
    # the data files themselves carry no timestamp: byte-identical as written
    for fmt in ("csv", "parquet"):
        assert ea[f"{fmt}/indicators.{fmt}"] == eb[f"{fmt}/indicators.{fmt}"]
