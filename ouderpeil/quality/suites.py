"""The expectation suites as files: where they live, how they are read, and how the raw suites
are derived from the source contracts.

`expectations/*.json` are GX 1.x ExpectationSuite documents, one per table. They are committed
so a reviewer can read (and Data Docs can show) exactly what is checked. The raw suites are
written from `contracts.py` by `python -m ouderpeil.quality.suites` so code lists never drift
from the contract; a test fails when a file and the contract disagree. The references suite and
the marts suite are written by hand.

Every expectation carries `meta.severity` ("blocking" or "warning") and `meta.why`: warnings
are reported, everything else stops the pipeline.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ouderpeil.config import REPO_ROOT
from ouderpeil.contracts import LOAD_METADATA_COLUMNS, SOURCES, Source

BLOCKING = "blocking"
WARNING = "warning"

# Pseudonyms are HMAC-SHA256 in hex: anything else is a person id that escaped the boundary.
PSEUDONYM_REGEX = r"^[0-9a-f]{64}$"
# BRIN (2 digits + 2 letters) + vestiging (2 digits), e.g. 12AB00.
SCHOOL_ID_REGEX = r"^[0-9]{2}[A-Z]{2}[0-9]{2}$"
# Source tables that must not be empty for the indicators to mean anything.
NON_EMPTY_SOURCES = ("schools", "families")
# A timestamp column checked against the validation time, and the parameter holding "now" in the
# column's own time zone (naive local time vs. time-zone aware).
NOW_PARAMETER = {"timestamp": "now_local", "timestamptz": "now_utc"}


def _exp(type_: str, severity: str, why: str, **kwargs) -> dict:
    return {"type": type_, "kwargs": kwargs, "meta": {"severity": severity, "why": why}}


def raw_suite(source: Source) -> dict:
    """The suite of one raw table, derived from its contract."""
    columns = source.column_names + [name for name, _ in LOAD_METADATA_COLUMNS]
    exps = [
        _exp(
            "expect_table_columns_to_match_set",
            BLOCKING,
            "Exactly the contract's columns plus load metadata: an extra column could carry "
            "free text or contact details into the warehouse.",
            column_set=columns,
            exact_match=True,
        ),
    ]
    if source.name in NON_EMPTY_SOURCES:
        exps.append(
            _exp(
                "expect_table_row_count_to_be_between",
                BLOCKING,
                f"Indicators are computed per {source.name[:-1]}: none means no data.",
                min_value=1,
            )
        )
    for col in source.columns:
        if col.required:
            exps.append(
                _exp(
                    "expect_column_values_to_not_be_null",
                    BLOCKING,
                    "Required by the source contract.",
                    column=col.name,
                )
            )
        if col.codes is not None:
            exps.append(
                _exp(
                    "expect_column_values_to_be_in_set",
                    BLOCKING,
                    "Code list of the source contract.",
                    column=col.name,
                    value_set=list(col.codes),
                )
            )
        if col.min is not None or col.max is not None:
            exps.append(
                _exp(
                    "expect_column_values_to_be_between",
                    BLOCKING,
                    "Range of the source contract.",
                    column=col.name,
                    min_value=col.min,
                    max_value=col.max,
                )
            )
        if col.person_id:
            exps.append(
                _exp(
                    "expect_column_values_to_match_regex",
                    BLOCKING,
                    "Person ids must be HMAC pseudonyms (64 hex chars), never the "
                    "source system's id.",
                    column=col.name,
                    regex=PSEUDONYM_REGEX,
                )
            )
        if col.type in NOW_PARAMETER:
            # "No value after now" is "the maximum is not after now": one vectorised max
            # instead of an element-wise comparison (GX compares datetimes row by row).
            exps.append(
                _exp(
                    "expect_column_max_to_be_between",
                    BLOCKING,
                    "A timestamp in the future means a misread date (day/month "
                    "swapped, wrong year).",
                    column=col.name,
                    max_value={"$PARAMETER": NOW_PARAMETER[col.type]},
                )
            )
        if col.name == "school_id":
            exps.append(
                _exp(
                    "expect_column_values_to_match_regex",
                    WARNING,
                    "BRIN + vestiging; another shape usually means a profile mapped "
                    "the wrong column.",
                    column=col.name,
                    regex=SCHOOL_ID_REGEX,
                )
            )
    key = list(source.key)
    # Duplicates are expected in raw (webhooks arrive at least once); staging keeps the first.
    if len(key) == 1:
        exps.append(
            _exp(
                "expect_column_values_to_be_unique",
                WARNING,
                "Natural key; duplicates are removed in staging.",
                column=key[0],
            )
        )
    else:
        exps.append(
            _exp(
                "expect_compound_columns_to_be_unique",
                WARNING,
                "Natural key; duplicates are removed in staging.",
                column_list=key,
            )
        )
    return {
        "name": f"raw_{source.name}",
        "meta": {
            "layer": "raw",
            "table": f"raw.{source.name}",
            "generated_from": "ouderpeil/contracts.py (python -m ouderpeil.quality.suites)",
        },
        "expectations": exps,
    }


def suite_path(expectations_dir: Path, name: str) -> Path:
    return expectations_dir / f"{name}.json"


def load_suites(expectations_dir: Path, layer: str) -> list[dict]:
    """All suite documents of a layer (`<layer>_*.json`), in file-name order."""
    paths = sorted(expectations_dir.glob(f"{layer}_*.json"))
    if not paths:
        raise FileNotFoundError(f"no expectation suites for layer {layer!r} in {expectations_dir}")
    suites = []
    for p in paths:
        doc = json.loads(p.read_text(encoding="utf-8"))
        if doc.get("meta", {}).get("layer") != layer or "table" not in doc.get("meta", {}):
            raise ValueError(f"{p}: meta.layer must be {layer!r} and meta.table must be set")
        suites.append(doc)
    return suites


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_raw_suites(expectations_dir: Path = REPO_ROOT / "expectations") -> list[Path]:
    expectations_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in SOURCES.values():
        doc = raw_suite(source)
        path = suite_path(expectations_dir, doc["name"])
        path.write_text(dumps(doc), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_raw_suites(
        Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "expectations"
    ):
        print(p)
