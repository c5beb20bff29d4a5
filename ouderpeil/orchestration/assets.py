"""Assets: what the DAGs produce. The build DAG is scheduled on the raw tables' assets."""
from __future__ import annotations

from airflow.sdk import Asset

from ouderpeil.loading.loader import LOAD_ORDER

SOURCES: tuple[str, ...] = tuple(LOAD_ORDER)  # reference data first (school ids are checked)


def raw_asset(source: str) -> Asset:
    """raw.<source> in the warehouse; an event means new rows were loaded into it."""
    return Asset(name=f"ouderpeil_raw_{source}", uri=f"ouderpeil://warehouse/raw/{source}",
                 group="ouderpeil_raw")


RAW_ASSETS: dict[str, Asset] = {source: raw_asset(source) for source in SOURCES}
MARTS_ASSET = Asset(name="ouderpeil_marts", uri="ouderpeil://warehouse/marts",
                    group="ouderpeil")
# The serving file Superset and the exports read; an event means a validated publish.
SERVING_ASSET = Asset(name="ouderpeil_serving", uri="ouderpeil://serving/ouderpeil.duckdb",
                      group="ouderpeil")
