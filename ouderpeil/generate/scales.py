"""The three sample-data sizes: how many schools, boards and families each scale has.

Sizes follow Dutch averages: a primary school has about 220 pupils (about 160 families, since
siblings share a school), a secondary school about 800 pupils, an mbo location a few thousand
students of whom fewer parents are in view. The family counts are enrolments at the start of
the first school year; churn adds about 10-20 % new enrolments per year.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    schools: dict[str, int]  # sector -> number of schools
    families_per_school: dict[str, int]  # sector -> mean families per school at the start
    boards: dict[str, int]  # sector -> number of boards serving that sector
    shared_boards: bool = False  # one board runs both po and vo schools (small scale)
    weekly_message_dose: float = 1.3  # mean messages per family per school week
    # Schools differ in how well they reach low-SES families (schools.py, families.py): off
    # for the fixed test scales, whose expected figures rest on the plain SES effects.
    school_equity_spread: bool = False

    @property
    def n_schools(self) -> int:
        return sum(self.schools.values())

    @property
    def expected_families(self) -> int:
        return sum(self.schools[s] * self.families_per_school[s] for s in self.schools)


SCALES: dict[str, Scale] = {
    # One school per sector; po and vo under one board, mbo under its own.
    "small": Scale(
        name="small",
        schools={"po": 1, "vo": 1, "mbo": 1},
        families_per_school={"po": 200, "vo": 250, "mbo": 150},
        boards={"po": 1, "vo": 1, "mbo": 1},
        shared_boards=True,
    ),
    # `make demo`: three boards (one with po and vo, one po only, one mbo) with enough schools
    # and families that the board's low-SES figures and gaps are published, not suppressed,
    # and schools that differ in how well they reach low-SES families. ~5,600 families.
    "demo": Scale(
        name="demo",
        schools={"po": 8, "vo": 2, "mbo": 2},
        families_per_school={"po": 320, "vo": 700, "mbo": 800},
        boards={"po": 2, "vo": 1, "mbo": 1},
        shared_boards=True,
        school_equity_spread=True,
    ),
    # One region's worth of a large board: 30 schools, ~10,000 families, ~1 M messages.
    "board": Scale(
        name="board",
        schools={"po": 18, "vo": 8, "mbo": 4},
        families_per_school={"po": 180, "vo": 550, "mbo": 600},
        boards={"po": 1, "vo": 1, "mbo": 1},
    ),
    # A region: 300 schools under many boards, ~100,000 families, ~10 M messages.
    "region": Scale(
        name="region",
        schools={"po": 200, "vo": 70, "mbo": 30},
        families_per_school={"po": 180, "vo": 550, "mbo": 850},
        boards={"po": 25, "vo": 10, "mbo": 3},
    ),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}") from None
