"""A small record of every gate result, so publish can refuse a run whose marts did not pass.

One JSON file per run and layer under <gx_dir>/gate_records/. The marts record carries a
fingerprint of the tables publish copies: if dbt rebuilt them after the gate, publish sees a
different fingerprint and refuses, because what passed is no longer what would be served.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ouderpeil.config import Settings

# Tables publish copies from the warehouse (the gate validates fct_indicator; the wide marts
# are built on it, so any rebuild changes the fingerprint).
PUBLISHED_MARTS = (
    "marts.fct_indicator",
    "marts.mart_indicator_dashboard",
    "marts.mart_channel_mix",
    "marts.mart_national_reference",
    "marts.mart_equity_gap",
)


def _safe(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)


def record_path(settings: Settings, layer: str, run_id: str) -> Path:
    return settings.gx_dir / "gate_records" / f"{_safe(run_id)}.{layer}.json"


def marts_fingerprint(con, catalog: str | None = None) -> dict:
    """Row count and an order-independent hash of every row of each published mart.

    catalog: the name the warehouse is attached under, when it is not the main database.
    """
    catalog = catalog or con.execute("SELECT current_database()").fetchone()[0]
    out = {}
    for table in PUBLISHED_MARTS:
        schema, name = table.split(".")
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? "
            "AND table_schema = ? AND table_name = ?",
            [catalog, schema, name],
        ).fetchone()[0]
        if not exists:
            out[table] = None
            continue
        n, h = con.execute(
            "SELECT count(*), coalesce(sum(hash(*COLUMNS(*))::HUGEINT), 0)::VARCHAR "
            f"FROM {catalog}.{table}"
        ).fetchone()
        out[table] = {"rows": n, "hash": h}
    return out


def write_record(settings: Settings, layer: str, run_id: str, record: dict) -> Path:
    path = record_path(settings, layer, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def read_record(settings: Settings, layer: str, run_id: str) -> dict | None:
    path = record_path(settings, layer, run_id)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
