"""Deliberate dirt: the faults real exports and webhooks have, at documented rates.

All rates live here (and in docs/SAMPLE_DATA.md). Each is a share of the rows of a file;
the count per file is round(rate x rows) but at least 1, so even the small scale exercises
every path of the loader. Dirty rows of different kinds never overlap, so every dirty row has
exactly one fault and the summary's counts can be compared with the loader's rejects.
"""

from __future__ import annotations

import numpy as np

DIRT_RATES = {
    # rejected by the loader (one reject reason per row)
    "unknown_labels": 0.001,  # a code/label outside the profile or contract
    "bad_dates": 0.0005,  # an impossible date (30 February, month 13)
    "missing_required": 0.0005,  # a required value left empty
    # duplicates (same key as an earlier row in the same file)
    "duplicate_contact_rows": 0.005,  # contact_logs: the same contact exported twice
    "duplicate_events": 0.01,  # message_events: the same event_id delivered twice
    # valid but awkward
    "out_of_order_events": 0.02,  # an event written after a later event of its message
    "late_messages": 0.002,  # message rows that arrive in a later file than their events
}
DIRTY_SOURCES = ("families", "contact_logs", "messages", "message_events", "survey_responses")

# Where each kind of dirt goes per source: (column, unknown value per profile).
UNKNOWN_LABEL = {
    "families": ("parent_education", {"canonical": "basisschool", "*": "Basisonderwijs"}),
    "contact_logs": ("channel", {"canonical": "videobellen", "*": "Videobellen"}),
    "messages": ("purpose", {"canonical": "nieuwsbrief", "*": "Nieuwsbrief"}),
    "message_events": ("event_type", {"*": "opened"}),
    "survey_responses": ("q_talk_school", {"canonical": "soms", "*": "Soms"}),
}
BAD_DATE_COLUMN = {
    "families": "enrolled_from",
    "contact_logs": "contact_at",
    "messages": "sent_at",
    "message_events": "occurred_at",
    "survey_responses": "submitted_at",
}
BAD_DATES = {  # by column type and profile family
    ("date", "canonical"): ("2025-02-30", "2025-13-01", "2024-09-31"),
    ("date", "nl"): ("30-02-2025", "01-13-2025", "31-09-2024"),
    ("timestamp", "canonical"): ("2025-02-30T10:15:00", "2025-13-01T08:30:00"),
    ("timestamp", "nl"): ("30-02-2025 10:15", "31-04-2025 19:00", "00-00-0000 00:00"),
    ("timestamptz", "canonical"): ("2025-02-30T10:15:00+01:00", "2025-13-01T08:30:00+01:00"),
}
MISSING_REQUIRED_COLUMN = {
    "families": "family_ref",
    "contact_logs": "family_ref",
    "messages": "family_ref",
    "message_events": "message_id",
    "survey_responses": "parent_education",
}
REJECT_KINDS = ("unknown_labels", "bad_dates", "missing_required")


class DirtQuota:
    """Per output file: how many dirty rows of each kind the next chunk gets, so that a file
    written in chunks ends with max(1, round(rate x rows)) of each kind."""

    def __init__(self, kinds: tuple[str, ...]):
        self.kinds = kinds
        self.rows = 0
        self.issued = {k: 0 for k in kinds}

    def next_chunk(self, n_rows: int) -> dict[str, int]:
        self.rows += n_rows
        out = {}
        for k in self.kinds:
            target = max(1, round(DIRT_RATES[k] * self.rows)) if self.rows else 0
            out[k] = max(0, target - self.issued[k])
        return out

    def record(self, counts: dict[str, int]) -> None:
        for k, v in counts.items():
            self.issued[k] += v


def choose_disjoint(
    rng, n_rows: int, counts: dict[str, int], exclude: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Disjoint row sets for each kind (fewer when the chunk is too small)."""
    allowed = np.ones(n_rows, dtype=bool)
    if exclude is not None and len(exclude):
        allowed[exclude] = False
    pool = np.nonzero(allowed)[0]
    wanted = min(sum(counts.values()), len(pool))
    chosen = rng.choice(pool, wanted, replace=False) if wanted else pool[:0]
    out, start = {}, 0
    for kind, k in counts.items():
        k = min(k, wanted - start)
        out[kind] = np.sort(chosen[start : start + k])
        start += k
    return out


def inject_rejects(
    rng,
    cells: dict[str, np.ndarray],
    source: str,
    profile: str,
    col_types: dict[str, str],
    rows: dict[str, np.ndarray],
) -> None:
    """Write the reject-causing faults into the text cells (in place)."""
    family = "canonical" if profile == "canonical" else "nl"
    col, values = UNKNOWN_LABEL[source]
    cells[col][rows["unknown_labels"]] = values.get(profile, values.get("*"))
    date_col = BAD_DATE_COLUMN[source]
    options = BAD_DATES[(col_types[date_col], family)]
    idx = rows["bad_dates"]
    cells[date_col][idx] = np.asarray(options, dtype=object)[
        rng.integers(0, len(options), len(idx))
    ]
    cells[MISSING_REQUIRED_COLUMN[source]][rows["missing_required"]] = None
