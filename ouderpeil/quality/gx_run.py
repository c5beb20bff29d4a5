"""Running the suites with Great Expectations 1.x in a file-based project under settings.gx_dir.

Each suite gets a pandas data asset, a ValidationDefinition and a Checkpoint whose
UpdateDataDocsAction rebuilds the Data Docs on every run. The project is (re)created at run time
from expectations/*.json, so the committed suites are the only source of truth.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

# GX would otherwise try to send usage statistics; these machines have no internet.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
from great_expectations.checkpoint import UpdateDataDocsAction  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

DATASOURCE = "ouderpeil_warehouse"
# Raw tables hold pseudonyms: their results keep counts only, no example values, so nothing
# person-level reaches the results store or Data Docs. Marts are aggregates: examples help.
RESULT_FORMAT = {
    "raw": {"result_format": "SUMMARY", "partial_unexpected_count": 0},
    "marts": {"result_format": "SUMMARY", "partial_unexpected_count": 5},
}


def context(gx_dir: Path):
    gx_dir.mkdir(parents=True, exist_ok=True)
    ctx = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def _batch_definition(ctx, asset_name: str):
    try:
        ds = ctx.data_sources.get(DATASOURCE)
    except KeyError:
        ds = ctx.data_sources.add_pandas(DATASOURCE)
    try:
        asset = ds.get_asset(asset_name)
    except LookupError:
        asset = ds.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition("whole_table")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole_table")


def run_suite(ctx, suite_doc: dict, frame, parameters: dict, layer: str, run_id: str,
              run_time: dt.datetime):
    """Validate one DataFrame against one suite; returns the ExpectationSuiteValidationResult."""
    name = suite_doc["name"]
    suite = ctx.suites.add_or_update(gx.ExpectationSuite(**suite_doc))
    vd = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=_batch_definition(ctx, name), suite=suite))
    checkpoint = ctx.checkpoints.add_or_update(gx.Checkpoint(
        name=name, validation_definitions=[vd],
        actions=[UpdateDataDocsAction(name="update_data_docs")],
        result_format=RESULT_FORMAT[layer],
    ))
    result = checkpoint.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        run_id=RunIdentifier(run_name=run_id, run_time=run_time),
    )
    (validation_result,) = result.run_results.values()
    return validation_result


def data_docs_index(ctx) -> Path | None:
    sites = ctx.get_docs_sites_urls()
    if not sites or not sites[0].get("site_url"):
        return None
    return Path(unquote(urlparse(sites[0]["site_url"]).path))
