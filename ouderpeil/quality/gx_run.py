"""Running the suites with Great Expectations 1.x in a file-based project under settings.gx_dir.

Each suite gets a pandas data asset, a ValidationDefinition and a Checkpoint (no actions). After
all suites of a gate, validate() prunes the results store to the last runs and renders Data Docs
once, for the new results only. The project is (re)created at run time from expectations/*.json,
so the committed suites are the only source of truth.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

# GX would otherwise try to send usage statistics; these machines have no internet.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# GX logs ~200 INFO lines while it is imported ("Skipping registering function ..."): they
# would bury a gate's own summary in the task log. Set before the import, which emits them.
logging.getLogger("great_expectations").setLevel(logging.WARNING)

from ouderpeil.quality import deferred_imports  # noqa: E402

# scipy.stats and altair, for one expectation no suite uses: ~1 s of every gate's import.
deferred_imports.defer(*deferred_imports.UNUSED_BY_OUR_SUITES)

import great_expectations as gx  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.data_context.types.resource_identifiers import (  # noqa: E402
    ExpectationSuiteIdentifier,
)
from great_expectations.execution_engine import pandas_execution_engine  # noqa: E402

# GX hashes every row of a DataFrame into a "fingerprint" batch marker (10 % of the raw gate at
# board scale). Our batches are named by table and run id already; nothing reads the marker.
pandas_execution_engine.HASH_THRESHOLD = 0

DATASOURCE = "ouderpeil_warehouse"
# Which suite documents the stored suites, validation definitions and checkpoints were made
# from: writing all three again costs ~0.2 s per suite and run, reading them back 4 ms.
CONFIG_FINGERPRINTS = "ouderpeil_config_fingerprints.json"
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
    if ctx.config.analytics_enabled is not False:
        ctx.enable_analytics(False)  # kept in great_expectations.yml: off for any caller
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


def run_suite(
    ctx, suite_doc: dict, frame, parameters: dict, layer: str, run_id: str, run_time: dt.datetime
):
    """Validate one DataFrame against one suite.

    Returns (ExpectationSuiteValidationResult, the resource identifiers build_docs needs).
    """
    name = suite_doc["name"]
    result = _checkpoint(ctx, suite_doc, layer).run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        run_id=RunIdentifier(run_name=run_id, run_time=run_time),
    )
    ((result_id, validation_result),) = result.run_results.items()
    return validation_result, [ExpectationSuiteIdentifier(name=name), result_id]


def store_result(ctx, result_id, validation_result) -> None:
    """Replace a stored validation result (the sum of a suite's batches over its last one)."""
    ctx.validation_results_store.set(result_id, validation_result)


def _checkpoint(ctx, suite_doc: dict, layer: str):
    """The stored checkpoint of this suite document, (re)made when the document changed."""
    name = suite_doc["name"]
    wanted = hashlib.sha256(
        json.dumps(
            [suite_doc, layer, RESULT_FORMAT[layer], gx.__version__], sort_keys=True, default=str
        ).encode()
    ).hexdigest()
    path = _gx_root(ctx) / CONFIG_FINGERPRINTS
    known = json.loads(path.read_text()) if path.exists() else {}
    if known.get(name) == wanted:
        try:
            return ctx.checkpoints.get(name)
        except Exception:  # noqa: BLE001 - missing or unreadable: made again below
            pass
    # GX adds ids to the expectation dicts it is given: keep the caller's document as it is.
    suite = ctx.suites.add_or_update(gx.ExpectationSuite(**copy.deepcopy(suite_doc)))
    vd = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=_batch_definition(ctx, name), suite=suite)
    )
    # No UpdateDataDocsAction: rebuilding the site after each suite re-rendered every stored
    # result 7 times per gate. build_docs() renders once, at the end of validate().
    checkpoint = ctx.checkpoints.add_or_update(
        gx.Checkpoint(
            name=name,
            validation_definitions=[vd],
            actions=[],
            result_format=RESULT_FORMAT[layer],
        )
    )
    known[name] = wanted
    path.write_text(json.dumps(known, indent=1, sort_keys=True))
    return checkpoint


def _gx_root(ctx) -> Path:
    return Path(ctx.root_directory)


def prune_results(ctx, keep: int) -> int:
    """Keep the last `keep` runs of every suite in the results store (and their Data Docs pages).

    The file store is <gx>/uncommitted/validations/<suite>/<run name>/<run time>/<batch>.json
    and the site mirrors it as .html; run times are ISO-like and sort in time order.
    Returns how many runs were removed.
    """
    root = _gx_root(ctx) / "uncommitted"
    store = root / "validations"
    site = root / "data_docs" / "local_site" / "validations"
    removed = 0
    if not store.is_dir():
        return 0
    for suite_dir in (d for d in store.iterdir() if d.is_dir()):
        runs = sorted(
            (p for p in suite_dir.glob("*/*") if p.is_dir()), key=lambda p: (p.name, p.parent.name)
        )
        for old in runs[: max(len(runs) - keep, 0)]:
            rel = old.relative_to(store)
            for d in (old, site / rel):
                shutil.rmtree(d, ignore_errors=True)
                if d.parent.is_dir() and not any(d.parent.iterdir()):
                    d.parent.rmdir()  # the run-name directory, once its last run is gone
            removed += 1
    return removed


# The offline report each build_docs call wrote, by context: data_docs_index() returns it, so
# the gate's summary and failure message point at a page that reads without internet.
_REPORTS: dict[int, Path] = {}


# GX's own Data Docs pull jQuery and bootstrap-table from a CDN, so offline their pages are
# empty, and rendering them costs ~0.5 s of every gate (a day has two). The offline report
# shows the same results; GX's site is built only when this variable is 1 (with internet).
GX_DATA_DOCS_ENV = "OUDERPEIL_GX_DATA_DOCS"


def gx_data_docs_wanted() -> bool:
    return os.environ.get(GX_DATA_DOCS_ENV, "0").strip() == "1"


def build_docs(ctx, resource_identifiers: list) -> Path | None:
    """Write the offline quality report of this run (ouderpeil.quality.report) and return its
    path; with OUDERPEIL_GX_DATA_DOCS=1 also render GX's Data Docs once per gate: the pages
    of this run's suites and results, then the index (which lists every page on the site, so
    pruned runs drop out of it)."""
    if gx_data_docs_wanted():
        ctx.build_data_docs(resource_identifiers=resource_identifiers)
    report = write_offline_report(ctx, resource_identifiers)
    if report is not None:
        _REPORTS[id(ctx)] = report
    return report


def write_offline_report(ctx, resource_identifiers: list) -> Path | None:
    """One self-contained HTML page for the validation results among the identifiers."""
    from great_expectations.data_context.types.resource_identifiers import (
        ValidationResultIdentifier,
    )

    from ouderpeil.quality.report import write_report

    ids = [i for i in resource_identifiers if isinstance(i, ValidationResultIdentifier)]
    if not ids:
        return None
    results = [ctx.validation_results_store.get(i) for i in ids]
    run_id = ids[0].run_id.run_name
    suite = ids[0].expectation_suite_identifier.name
    layer = suite.split("_", 1)[0] if suite.split("_", 1)[0] in RESULT_FORMAT else "raw"
    store = _gx_root(ctx) / "uncommitted" / "validations"
    # The reports of the runs the results store still keeps (prune_results): no more pages.
    kept = {p.name for p in store.glob("*/*") if p.is_dir()} | {run_id}
    page = write_report(Path(ctx.root_directory).parent, layer, run_id, results, keep_runs=kept)
    return page.parent / "index.html"


def data_docs_index(ctx) -> Path | None:
    """The offline report index (reports/index.html, newest run first, each run's page one
    click away) after build_docs on this context, else GX's own Data Docs index."""
    if id(ctx) in _REPORTS:
        return _REPORTS[id(ctx)]
    sites = ctx.get_docs_sites_urls()
    if not sites or not sites[0].get("site_url"):
        return None
    return Path(unquote(urlparse(sites[0]["site_url"]).path))
