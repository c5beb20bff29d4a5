"""`make demo`'s sample scale: enough boards, schools and families for the equity gap to be
published, and schools that differ in how well they reach low-SES families. Fast (no files)."""

from __future__ import annotations

import numpy as np

from ouderpeil.demo import DEMO_SCALE, DEMO_SEED
from ouderpeil.generate import SCALES
from ouderpeil.generate.families import make_families
from ouderpeil.generate.schools import EQUITY_KINDS, make_schools


def test_demo_scale_has_boards_with_different_sector_sets():
    schools = make_schools(SCALES[DEMO_SCALE], DEMO_SEED)
    sectors = schools.groupby("board_id")["sector"].agg(lambda s: frozenset(s))
    assert len(sectors) >= 3
    assert any(len(s) >= 2 for s in sectors), "one board runs schools in two sectors"
    assert any(len(s) < 3 for s in sectors), "some board lacks a sector (dashboards per board)"
    per_board_sector = schools.groupby(["board_id", "sector"])["size"].sum()
    # At ~20 % laag and a survey response of 20-40 %, a board sector needs several hundred
    # families before its laag respondents pass the n >= 10 threshold.
    assert per_board_sector.min() >= 600, per_board_sector.to_dict()
    assert len(set(schools["board_name"])) == len(sectors), "board names are distinct"


def test_schools_differ_in_reaching_laag_families():
    schools = make_schools(SCALES[DEMO_SCALE], DEMO_SEED)
    factors = schools["laag_reach_factor"].to_numpy()
    # Every kind (wider gap, average, outreach that closes it) occurs, within each big sector.
    for sector, group in schools.groupby("sector"):
        nearest = {
            min(EQUITY_KINDS, key=lambda k: abs(np.log(EQUITY_KINDS[k] / f)))
            for f in group["laag_reach_factor"]
        }
        assert len(nearest) == min(len(group), len(EQUITY_KINDS)), (sector, nearest)
    assert factors.min() < 0.6 and factors.max() > 1.8
    # The factor reaches the families: laag engagement relative to the others follows it.
    families = make_families(schools, DEMO_SEED, ("2024-2025", "2025-2026"))
    ratio = {}
    for school in schools.itertuples():
        fam = families[families["school_id"] == school.school_id]
        laag = fam.loc[fam["parent_education"] == "laag", "engagement"].mean()
        rest = fam.loc[fam["parent_education"] != "laag", "engagement"].mean()
        ratio[school.school_id] = (school.laag_reach_factor, laag / rest)
    low = min(ratio.values())
    high = max(ratio.values())
    assert low[1] < 0.75 < 1.5 < high[1], ratio


def test_fixed_test_scales_keep_the_plain_ses_effects():
    """small/board/region keep their documented figures: no school-level spread there."""
    for name in ("small", "board", "region"):
        assert not SCALES[name].school_equity_spread
        schools = make_schools(SCALES[name], 1)
        assert (schools["laag_reach_factor"] == 1.0).all(), name
