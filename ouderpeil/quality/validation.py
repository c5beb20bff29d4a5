"""validate() runs a layer's suites and sorts failed expectations into blocking failures and
warnings; gate() turns blocking failures into QualityGateFailed."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ouderpeil.config import Settings
from ouderpeil.errors import QualityGateFailed
from ouderpeil.quality import batch_results, frames, gx_run, marts_scope, raw_scope, records
from ouderpeil.quality.suites import WARNING, load_suites

log = logging.getLogger(__name__)
LAYERS = ("raw", "marts")
# How many runs of each suite the GX results store (and so Data Docs) keeps; older ones are
# deleted after each gate so the store and the docs build do not grow without bound.
KEEP_RUNS_ENV = "OUDERPEIL_GX_KEEP_RUNS"
DEFAULT_KEEP_RUNS = 30


def keep_runs() -> int:
    return max(1, int(os.environ.get(KEEP_RUNS_ENV, DEFAULT_KEEP_RUNS)))


@dataclass(frozen=True)
class Failure:
    """One failed expectation: where, what, and what was seen instead."""

    table: str
    expectation: str
    column: str | None
    observed: str
    severity: str  # "blocking" or "warning"
    where: str | None = None  # the row condition, if the expectation covers only some rows
    why: str = ""

    def __str__(self) -> str:
        col = f" column {self.column}" if self.column else ""
        where = f" where {self.where}" if self.where else ""
        return f"{self.table}{col}: {self.expectation}{where} failed (observed: {self.observed})"


@dataclass
class ValidationResult:
    layer: str
    run_id: str
    success: bool
    failures: list[Failure] = field(default_factory=list)  # blocking
    warnings: list[Failure] = field(default_factory=list)
    expectations_evaluated: int = 0
    tables: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    data_docs_index: Path | None = None
    seconds: float = 0.0
    scope: str = "all rows"  # raw: which rows were validated (see raw_scope)

    def summary(self) -> str:
        state = "passed" if self.success else "FAILED"
        lines = [
            f"quality gate {self.layer} {state} for run {self.run_id}: "
            f"{self.expectations_evaluated} expectations on {len(self.tables)} tables "
            f"({self.scope}), {len(self.failures)} blocking failures, "
            f"{len(self.warnings)} warnings"
        ]
        lines += [f"  BLOCKING {f}" for f in self.failures]
        lines += [f"  warning  {f}" for f in self.warnings]
        if self.data_docs_index:
            lines.append(f"  data docs: {self.data_docs_index}")
        return "\n".join(lines)


def _column_of(kwargs: dict) -> str | None:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return ", ".join(kwargs["column_list"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    return None


def _condition_text(cond) -> str | None:
    if not cond:
        return None
    if isinstance(cond, dict):
        if "conditions" in cond:
            return f" {cond['type']} ".join(_condition_text(c) for c in cond["conditions"])
        if "column" in cond:
            return f"{cond['column']['name']} {cond['operator']} {cond['parameter']!r}"
    return str(cond)


def _observed(r) -> str:
    exc = r.exception_info or {}
    if exc.get("raised_exception"):
        return f"error: {exc.get('exception_message')}"
    res = r.result or {}
    if "observed_value" in res:
        value = res["observed_value"]
        # Timestamps as people write them, not as pandas' repr (Timestamp('2099-...')).
        return value.isoformat(sep=" ") if hasattr(value, "isoformat") else repr(value)
    if "unexpected_count" in res:
        text = (
            f"{res['unexpected_count']} of {res.get('element_count')} rows "
            f"({res.get('unexpected_percent') or 0:.1f} %)"
        )
        examples = res.get("partial_unexpected_list") or []
        if examples:
            text += f", e.g. {examples[:5]!r}"
        return text
    return repr(res)


def _failures_of(table: str, validation_result) -> list[Failure]:
    out = []
    for r in validation_result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        kwargs = cfg.kwargs
        cond = kwargs.get("row_condition")
        if hasattr(cond, "dict"):
            cond = cond.dict()
        out.append(
            Failure(
                table=table,
                expectation=cfg.type,
                column=_column_of(kwargs),
                observed=_observed(r),
                severity=(cfg.meta or {}).get("severity", "blocking"),
                where=_condition_text(cond),
                why=(cfg.meta or {}).get("why", ""),
            )
        )
    return out


def _with_reference_counts(failure: Failure, frame) -> Failure:
    """The reference suite checks one row per reference: say how many rows point at nothing."""
    rows = frame
    if failure.where and failure.where.startswith("reference == "):
        rows = frame[frame["reference"] == failure.where.split(" == ", 1)[1].strip("'")]
    seen = "; ".join(
        f"{r.reference}: {r.orphans} of {r.child_rows} rows "
        f"({100 * r.orphan_share:.1f} %) not found"
        for r in rows.itertuples()
    )
    return replace(failure, observed=seen or failure.observed)


def _marts_frames(con, suite: dict, settings: Settings, params: dict, full: bool) -> tuple:
    """(suite, DataFrame) pairs for the fct_indicator suite and its scope (see marts_scope):
    the column set on no rows, whole-table checks on every row, the rest on changed rows."""
    shape, whole, rows = marts_scope.split(suite)
    scope = marts_scope.decide(settings, con, rows, params, full)
    runs = (
        []
        if shape is None
        else [(shape, con.execute(f"{frames.fct_indicator_sql(con)} LIMIT 0").df())]
    )
    if whole is not None:
        runs.append((whole, marts_scope.whole_table_frame(con, whole)))
    if rows is not None:
        # Run even when no row changed: every gate's results then show what was checked.
        runs.append((rows, marts_scope.rows_frame(con, rows)))
    return runs, scope


def _frames_to_validate(con, suite: dict, scope: raw_scope.RawScope | None) -> list:
    """(suite, frames) pairs for one suite document; raises frames.MissingTable. `frames` is a
    list of one DataFrame, or for the rows of a raw table an iterator of batches
    (frames.raw_table_batches), read one at a time as the loop in validate() asks for them.

    A raw table suite is split: the column-set check runs on the column names alone
    (`SELECT * ... LIMIT 0`), the row counts on the whole table, every other expectation on
    only the columns it names. When the scope is new loads only, a table without one is not
    read, and in one with, only the new rows (and the older rows sharing a unique key) are.
    """
    table = suite["meta"]["table"]
    if table == "raw.references":
        load_ids = None if scope is None else scope.new_load_ids
        return [(suite, [frames.frame_for(con, suite, load_ids)])]
    if not table.startswith("raw."):
        return [(suite, [frames.frame_for(con, suite)])]
    if scope is not None and not scope.reads(table):
        return []
    shape, rest = frames.split_shape(suite)
    runs = [] if shape is None else [(shape, [frames.table_shape_frame(con, table)])]
    counts, rows = frames.split_table_level(rest)
    if counts is not None:
        runs.append((counts, [frames.row_count_frame(con, table)]))
    if not rows["expectations"]:
        return runs
    if scope is None or scope.everything:
        return runs + [(rows, frames.frames_for(con, rows))]
    if not frames.has_rows(con, table, scope.new_load_ids):
        return runs  # its new loads brought no row
    return runs + [(rows, frames.frames_for(con, rows, scope.new_load_ids))]


def _run_batches(ctx, part: dict, batches, params: dict, layer: str, run_id: str, run_time):
    """Validate one suite on its frames (one, or the batches of a large raw table) and return
    (the result of all of them, the ids build_docs needs, the last frame)."""
    collected = batch_results.BatchResults()
    vr = ids = frame = None
    # At most two batches are in memory: GX keeps the last one it validated until the next.
    for frame in batches:
        vr, ids = gx_run.run_suite(ctx, part, frame, params, layer, run_id, run_time)
        collected.add(vr)
    if collected.batches > 1:
        vr = collected.merged(vr)
        gx_run.store_result(ctx, ids[1], vr)  # the sum, not the last batch, in the docs
    return vr, ids, frame


def validate(
    settings: Settings, layer: str = "raw", run_id: str | None = None, full: bool = False
) -> ValidationResult:
    """Run every suite of `layer` against the warehouse; record and return the result.

    The raw layer looks only at loads no earlier gate passed, the row-by-row checks of
    fct_indicator only at rows the last passing gate did not see, unless `full` (see
    raw_scope, marts_scope).
    """
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {LAYERS}, not {layer!r}")
    run_id = run_id or f"adhoc-{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    run_time = dt.datetime.now(dt.UTC)
    suites = load_suites(settings.expectations_dir, layer)
    result = ValidationResult(layer=layer, run_id=run_id, success=True)
    marts = staged = None  # the fct_indicator scope and its row hashes, once staged

    try:
        con = frames.connect_warehouse(settings)
    except frames.MissingTable as exc:
        result.failures.append(Failure("warehouse", "warehouse_exists", None, str(exc), "blocking"))
        result.success = False
        _record(settings, result, fingerprint=None)
        return result
    try:
        params = frames.layer_parameters(settings, con, layer)
        fingerprint = records.marts_fingerprint(con) if layer == "marts" else None
        result.parameters = dict(params)
        scope = raw_scope.decide(settings, con, suites, full) if layer == "raw" else None
        if scope is not None:
            result.scope = scope.describe([s["meta"]["table"] for s in suites])
        ctx = gx_run.context(settings.gx_dir)
        docs_ids: list = []
        for suite in suites:
            table = suite["meta"]["table"]
            result.tables.append(table)
            try:
                # One table in memory at a time; all read from the same read-only snapshot.
                if table == marts_scope.TABLE:
                    runs, marts = _marts_frames(con, suite, settings, params, full)
                    runs = [(part, [frame]) for part, frame in runs]
                    result.scope = marts.describe()
                else:
                    runs = _frames_to_validate(con, suite, scope)
            except frames.MissingTable as exc:
                # Nothing for GX to look at: the suite fails as a whole.
                result.failures.append(Failure(table, "table_exists", None, str(exc), "blocking"))
                continue
            for part, batches in runs:
                vr, ids, frame = _run_batches(ctx, part, batches, params, layer, run_id, run_time)
                docs_ids += ids
                result.expectations_evaluated += len(vr.results)
                for f in _failures_of(table, vr):
                    if table == "raw.references":
                        f = _with_reference_counts(f, frame)
                    (result.warnings if f.severity == WARNING else result.failures).append(f)
            runs = frame = vr = None  # one table in memory at a time
        if marts is not None and not result.failures:
            staged = marts_scope.stage_passed(settings, con)
    finally:
        con.close()
    # After the warehouse is closed: the docs need no data, and a writer need not wait.
    gx_run.prune_results(ctx, keep_runs())
    gx_run.build_docs(ctx, docs_ids)
    result.data_docs_index = gx_run.data_docs_index(ctx)
    result.success = not result.failures
    if scope is not None and result.success:
        raw_scope.remember_passed(settings, scope)
    if staged is not None:
        if result.success:
            marts_scope.remember_passed(settings, marts, staged)
        else:
            marts_scope.forget_staged(staged)
    result.seconds = round(time.monotonic() - started, 2)
    _record(settings, result, fingerprint)
    log.info(result.summary())
    return result


def _record(settings: Settings, result: ValidationResult, fingerprint: dict | None) -> None:
    records.write_record(
        settings,
        result.layer,
        result.run_id,
        {
            "run_id": result.run_id,
            "layer": result.layer,
            "success": result.success,
            "checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "failures": [asdict(f) for f in result.failures],
            "warnings": [asdict(f) for f in result.warnings],
            "parameters": result.parameters,
            "scope": result.scope,
            "fingerprint": fingerprint,
            "data_docs_index": str(result.data_docs_index) if result.data_docs_index else None,
        },
    )


def gate(
    settings: Settings, layer: str, run_id: str | None = None, full: bool = False
) -> ValidationResult:
    """validate(), then stop the pipeline if any blocking expectation failed."""
    result = validate(settings, layer=layer, run_id=run_id, full=full)
    print(result.summary())
    if not result.success:
        failed = "\n".join(f"  - {f}" for f in result.failures)
        docs = f"\nData Docs: {result.data_docs_index}" if result.data_docs_index else ""
        raise QualityGateFailed(
            f"quality gate {layer} failed for run {result.run_id}: "
            f"{len(result.failures)} blocking expectation(s) failed:\n{failed}{docs}"
        )
    return result
