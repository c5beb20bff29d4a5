"""Assets: what the DAGs produce. The build DAG is scheduled on the raw tables' assets."""

from __future__ import annotations

from airflow.sdk import Asset

from ouderpeil.loading.loader import LOAD_ORDER

SOURCES: tuple[str, ...] = tuple(LOAD_ORDER)  # reference data first (school ids are checked)


def raw_asset(source: str) -> Asset:
    """raw.<source> in the warehouse; an event means new rows were loaded into it."""
    return Asset(
        name=f"ouderpeil_raw_{source}",
        uri=f"ouderpeil://warehouse/raw/{source}",
        group="ouderpeil_raw",
    )


RAW_ASSETS: dict[str, Asset] = {source: raw_asset(source) for source in SOURCES}
# One event per ingest run that loaded anything, after all its loads: the build DAG runs on this,
# not on the raw assets, or a running scheduler would start a build (and its raw gate) between
# two loads of the same inbox, on half-loaded data.
INBOX_LOADED_ASSET = Asset(
    name="ouderpeil_inbox_loaded", uri="ouderpeil://warehouse/raw", group="ouderpeil_raw"
)
MARTS_ASSET = Asset(name="ouderpeil_marts", uri="ouderpeil://warehouse/marts", group="ouderpeil")
# The serving file Superset and the exports read; an event means a validated publish.
SERVING_ASSET = Asset(
    name="ouderpeil_serving", uri="ouderpeil://serving/ouderpeil.duckdb", group="ouderpeil"
)
