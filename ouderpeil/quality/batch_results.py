"""One suite validated batch by batch (frames.raw_table_batches): the batches' results added
up to the result the whole table gives.

Only suites whose results add up are split (frames.batchable): row-by-row expectations, whose
counts add, a maximum with only an upper bound and a minimum with only a lower one. Rows are
split by their unique key, so a uniqueness check sees every copy of a key in one batch.

Per batch only the small result dicts are kept, never the GX objects: those hold the batch's
DataFrame (batch_parameters), and keeping them would keep every batch in memory.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

# Counts that add up over batches, and the shares GX derives from them.
_COUNTS = ("element_count", "missing_count", "unexpected_count")
_EXAMPLES = ("partial_unexpected_list", "partial_unexpected_index_list")
_EXAMPLES_KEPT = 20  # GX's own default for partial lists
_EXTREMES = {"expect_column_max_to_be_between": max, "expect_column_min_to_be_between": min}


def _key(expectation_result) -> str:
    cfg = expectation_result.expectation_config
    return json.dumps([cfg.type, cfg.kwargs], sort_keys=True, default=str)


@dataclass
class _Seen:
    kind: str
    successes: list[bool] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    exception_info: dict | None = None


class BatchResults:
    """Collects the result of every batch of one suite (add), then writes their sum into the
    last batch's validation result (merged)."""

    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}
        self.batches = 0

    def add(self, validation_result) -> None:
        self.batches += 1
        for r in validation_result.results:
            seen = self._seen.setdefault(_key(r), _Seen(r.expectation_config.type))
            seen.successes.append(bool(r.success))
            seen.results.append(copy.deepcopy(dict(r.result or {})))
            exc = r.exception_info or {}
            if exc.get("raised_exception") and seen.exception_info is None:
                seen.exception_info = copy.deepcopy(exc)

    def merged(self, last):
        """`last` (the last batch's ExpectationSuiteValidationResult, already added) with the
        results of all batches: success, counts, shares and observed extremes."""
        if self.batches <= 1:
            return last
        for r in last.results:
            seen = self._seen[_key(r)]
            r.success = all(seen.successes)
            r.result = merge_result(seen.kind, seen.results)
            if seen.exception_info is not None:
                r.exception_info = seen.exception_info
        evaluated = len(last.results)
        passed = sum(1 for r in last.results if r.success)
        last.statistics = {
            "evaluated_expectations": evaluated,
            "successful_expectations": passed,
            "unsuccessful_expectations": evaluated - passed,
            "success_percent": 100.0 * passed / evaluated if evaluated else None,
        }
        last.success = passed == evaluated
        return last


def merge_result(kind: str, results: list[dict]) -> dict:
    """One expectation's result dicts of several batches as one result dict."""
    out = dict(results[-1])
    if all(k in r for r in results for k in ("element_count", "unexpected_count")):
        element, missing, unexpected = (sum(r.get(k) or 0 for r in results) for k in _COUNTS)
        nonmissing = element - missing
        shares = {
            "missing_count": missing,
            "missing_percent": _percent(missing, element),
            "unexpected_percent_total": _percent(unexpected, element),
            "unexpected_percent_nonmissing": _percent(unexpected, nonmissing),
            "unexpected_percent": _percent(unexpected, nonmissing),
        }
        out.update(element_count=element, unexpected_count=unexpected)
        out.update({k: v for k, v in shares.items() if k in out})
        for k in _EXAMPLES:
            if k in out:
                out[k] = [x for r in results for x in r.get(k) or ()][:_EXAMPLES_KEPT]
    if kind in _EXTREMES and "observed_value" in out:
        values = [r["observed_value"] for r in results if r.get("observed_value") is not None]
        out["observed_value"] = _EXTREMES[kind](values) if values else None
    return out


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None
