"""Which raw rows the raw gate still has to look at.

The raw tables only grow by loads (the loader appends, one load id per file; retention only
deletes), so rows that passed the gate once stay valid: "now" only moves forward and the
suites are the same. The gate therefore validates the rows of loads it has not passed yet,
plus, for every unique key, the earlier rows that share a key with a new row (a duplicate across
loads is still found). Row counts are checked on the whole table; the references between
tables on the child rows of the new loads (parents are never deleted but by retention).

A table that got no new load is not read at all: without a load, nothing changes in it (its
column set and row count included) but by hand or by retention, which only deletes.

The load ids that passed are kept in <gx_dir>/raw_gate_validated.json together with a
fingerprint of the raw suites: when a suite changes, every row is validated again. A failed gate
remembers nothing, so its loads are checked again next time. ``full=True`` (``ouderpeil
validate --layer raw --full``) validates every row regardless.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ouderpeil.catalog import table_exists
from ouderpeil.config import Settings

STATE_FILE = "raw_gate_validated.json"


@dataclass(frozen=True)
class RawScope:
    """new_load_ids None: every row (first gate, changed suites or full=True)."""

    new_load_ids: tuple[str, ...] | None
    all_load_ids: tuple[str, ...]
    reason: str
    suites_fingerprint: str  # of the suite documents this gate validates with
    new_sources: frozenset[str] = frozenset()  # sources (raw table names) with a new load

    @property
    def everything(self) -> bool:
        return self.new_load_ids is None

    def reads(self, table: str) -> bool:
        """Whether the gate validates raw.<source> `table` in this scope."""
        return self.everything or table.removeprefix("raw.") in self.new_sources

    def describe(self, tables: list[str] = ()) -> str:
        """What the gate reads, for its summary and record; tables: those of the suites."""
        if self.everything:
            return f"all rows of {len(self.all_load_ids)} loads ({self.reason})"
        unread = [t for t in tables if t != "raw.references" and not self.reads(t)]
        return (
            f"rows of {len(self.new_load_ids)} new loads of {len(self.all_load_ids)}; "
            f"the others passed before"
            + (f"; no new load, not read: {', '.join(unread)}" if unread else "")
        )


def state_path(settings: Settings) -> Path:
    return settings.gx_dir / STATE_FILE


def suites_fingerprint(suites: list[dict]) -> str:
    return hashlib.sha256(json.dumps(suites, sort_keys=True).encode()).hexdigest()


def _read_state(settings: Settings) -> dict:
    path = state_path(settings)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # unreadable: validate everything, which is always correct


def loads(con) -> dict[str, str]:
    """Load id -> source of every load in the warehouse (raw.raw_load_files); {} before the
    first load."""
    if not table_exists(con, "raw.raw_load_files"):
        return {}
    return dict(
        con.execute(
            "SELECT load_id, min(source) FROM raw.raw_load_files GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )


def decide(settings: Settings, con, suites: list[dict], full: bool = False) -> RawScope:
    source_of = loads(con)
    loaded = tuple(source_of)
    fingerprint = suites_fingerprint(suites)
    state = _read_state(settings)
    if full:
        return RawScope(None, loaded, "asked for every row", fingerprint)
    if not state.get("validated_load_ids"):
        return RawScope(None, loaded, "no earlier gate passed", fingerprint)
    if state.get("suites_fingerprint") != fingerprint:
        return RawScope(None, loaded, "the raw suites changed", fingerprint)
    validated = set(state["validated_load_ids"])
    new = tuple(i for i in loaded if i not in validated)
    return RawScope(new, loaded, "incremental", fingerprint, frozenset(source_of[i] for i in new))


def remember_passed(settings: Settings, scope: RawScope) -> None:
    """After a passing gate: the loads it saw have passed (purged ones drop out)."""
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "suites_fingerprint": scope.suites_fingerprint,
                "validated_load_ids": list(scope.all_load_ids),
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    tmp.replace(path)
