"""The hand-made serving file (tests/handmade_serving.py, a development aid for dashboards/)
has exactly the tables and columns a real publish serves: the enforced dbt contracts of the
marts (dbt_project/models/marts/_marts.yml) that ouderpeil.publish copies."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml
from handmade_serving import write_handmade_serving_file

from ouderpeil.publish import SERVED_MARTS

MARTS_YML = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts" / "_marts.yml"
# The contract's generic types as DuckDB names them.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
}


def _contracts() -> dict[str, list[tuple[str, str]]]:
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    return {
        m["name"]: [(c["name"], DUCKDB_TYPES[c["data_type"]]) for c in m["columns"]]
        for m in models
        if m.get("config", {}).get("contract", {}).get("enforced")
    }


@pytest.fixture(scope="module")
def handmade_serving(tmp_path_factory) -> Path:
    return write_handmade_serving_file(tmp_path_factory.mktemp("serving") / "ouderpeil.duckdb")


@pytest.mark.parametrize("table", sorted(SERVED_MARTS))
def test_handmade_table_has_the_contracted_columns(handmade_serving, table):
    mart = SERVED_MARTS[table][0].split(".")[-1]
    contract = _contracts().get(mart)
    assert contract, f"{mart} has no enforced contract in {MARTS_YML.name}"
    con = duckdb.connect(str(handmade_serving), read_only=True)
    try:
        actual = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    finally:
        con.close()
    assert actual == contract, (
        f"tests/handmade_serving.py table {table} differs from the contract of {mart}"
    )
