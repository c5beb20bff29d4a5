"""Families: one row per family per school enrolment, with the hidden traits later steps use.

Realism (docs/SAMPLE_DATA.md): the parent-education mix follows the school's schoolweging (a
higher weging means more parents with at most vmbo/mbo-1); mbo schools have more low- and
middle-educated parents. Non-Dutch home languages are more common among low-educated parents
and at high-weging schools; English is mostly spoken in highly educated (expat) families.
Families leave when their oldest child finishes the school (group 8 in po), and new families
take their places; a few families move mid-year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ouderpeil.generate.calendar import school_calendar, year_bounds
from ouderpeil.generate.rng import pick, stream

SES = np.array(["laag", "midden", "hoog", "onbekend"])
# Parent-education mix at an average school (schoolweging 30), per sector.
SES_MIX = {
    "po": (0.22, 0.38, 0.35, 0.05),
    "vo": (0.22, 0.40, 0.31, 0.07),
    "mbo": (0.36, 0.42, 0.12, 0.10),
}
# Log-odds shift of laag (+) and hoog (-) against midden per schoolweging standard deviation.
WEGING_SES_EFFECT = 0.55
LANGUAGES = np.array(["tr", "ar", "ber", "pl", "en", "uk", "ti", "pap"])
LANGUAGE_MIX = {  # among families that speak another language than Dutch at home
    "hoog": (0.12, 0.10, 0.04, 0.10, 0.45, 0.10, 0.01, 0.08),
    "other": (0.22, 0.22, 0.16, 0.12, 0.04, 0.09, 0.07, 0.08),
}
NON_WESTERN = ("tr", "ar", "ber", "ti", "pap")
N_CHILDREN = {
    "po": (0.55, 0.35, 0.08, 0.02),
    "vo": (0.80, 0.18, 0.02, 0.0),
    "mbo": (0.95, 0.05, 0.0, 0.0),
}
FINAL_GRADE = {
    "po": ((8,), (1.0,)),
    "vo": ((4, 5, 6), (0.45, 0.30, 0.25)),
    "mbo": ((2, 3, 4), (0.20, 0.35, 0.45)),
}
MID_YEAR_MOVE_RATE = 0.03  # families leaving during the year (moves)
MID_YEAR_ARRIVAL_RATE = 0.02  # families arriving during the year (zij-instroom)
# Engagement spread: gamma with mean 1; a smaller shape gives more hard-to-reach families.
ENGAGEMENT_SHAPE = 1.2
FAMILY_ID_BLOCK = 100_000  # family numbers are school_index * block + local number


def _draw_traits(
    rng: np.random.Generator, n: int, sector: str, weging_z: float, laag_reach_factor: float = 1.0
) -> dict:
    base = np.log(np.asarray(SES_MIX[sector]))
    logits = base + np.array([WEGING_SES_EFFECT * weging_z, 0.0, -WEGING_SES_EFFECT * weging_z, 0])
    p = np.exp(logits) / np.exp(logits).sum()
    ses = pick(rng, SES, p, n)
    non_nl_logit = -1.9 + 0.5 * weging_z + 0.9 * (ses == "laag") - 0.4 * (ses == "hoog")
    non_nl = rng.random(n) < 1 / (1 + np.exp(-non_nl_logit))
    lang = np.where(
        ses == "hoog",
        pick(rng, LANGUAGES, LANGUAGE_MIX["hoog"], n),
        pick(rng, LANGUAGES, LANGUAGE_MIX["other"], n),
    )
    home_language = np.where(non_nl, lang, "nl")
    final_options, final_p = FINAL_GRADE[sector]
    return {
        "parent_education": ses,
        "home_language": home_language,
        "n_children": pick(rng, np.arange(1, 5), N_CHILDREN[sector], n).astype(int),
        "final_grade": pick(rng, np.array(final_options), final_p, n).astype(int),
        # The school's own reach of laag families (schools.EQUITY_KINDS) on top of the mean.
        "engagement": rng.gamma(ENGAGEMENT_SHAPE, 1 / ENGAGEMENT_SHAPE, n)
        * np.where(ses == "laag", laag_reach_factor, 1.0),
    }


def _random_school_days(rng, school_year: str, n: int) -> np.ndarray:
    days = school_calendar(school_year).days
    return days[rng.integers(0, len(days), n)]


def _year_start_day(school_year: str) -> np.datetime64:
    return school_calendar(school_year).days[0]


def make_families(schools: pd.DataFrame, seed: int, school_years: tuple[str, ...]) -> pd.DataFrame:
    """All enrolments of all schools over the school years (canonical columns + hidden traits:
    family_index, school_index, sector, engagement, grade_<k> = the oldest child's grade in
    school year k, 0 when not enrolled)."""
    frames = [_school_families(school, seed, school_years) for school in schools.itertuples()]
    return pd.concat(frames, ignore_index=True)


def _school_families(school, seed: int, school_years: tuple[str, ...]) -> pd.DataFrame:
    rng = stream(seed, "families", school.school_index)
    sector = school.sector
    weging_z = (
        (school.schoolweging - 30.0) / 3.0 if sector != "mbo" else float(rng.normal(0.0, 0.7))
    )
    first_year = int(school_years[0][:4])
    n = int(school.size)
    laag_factor = float(getattr(school, "laag_reach_factor", 1.0))

    traits = _draw_traits(rng, n, sector, weging_z, laag_factor)
    grade = (
        np.minimum(rng.integers(1, 9, n), traits["final_grade"])
        if sector == "po"
        else 1 + (rng.random(n) * traits["final_grade"]).astype(int)
    )
    # Enrolled when the oldest child started (po: any day after the 4th birthday).
    start_year = first_year - (grade - 1)
    offset_days = np.where(sector == "po", rng.integers(0, 320, n), rng.integers(19, 30, n))
    enrolled_from = (
        (start_year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        + np.timedelta64(212, "D")
        + offset_days.astype("timedelta64[D]")
    )  # 1 Aug + offset
    enrolled_from = np.maximum(enrolled_from, np.datetime64(f"{first_year - 9}-08-20"))
    # A po child starting this year is in group 1 during it; keep enrolment dates on school days.
    this_year = enrolled_from >= year_bounds(school_years[0])[0]
    if sector == "po":
        enrolled_from[this_year] = _random_school_days(rng, school_years[0], int(this_year.sum()))
    else:
        enrolled_from[this_year] = _year_start_day(school_years[0])

    fam = {k: list(v) for k, v in traits.items()}
    fam["enrolled_from"] = list(enrolled_from)
    fam["enrolled_to"] = [np.datetime64("NaT", "D")] * n
    grades = {0: list(grade)}

    for k, year in enumerate(school_years):
        start, end = year_bounds(year)
        cal = school_calendar(year)
        # Mid-year arrivals (zij-instroom) with a random grade.
        n_arrive = int(rng.binomial(n, MID_YEAR_ARRIVAL_RATE))
        if n_arrive:
            _append(
                fam,
                grades,
                k,
                _draw_traits(rng, n_arrive, sector, weging_z, laag_factor),
                _random_school_days(rng, year, n_arrive),
                rng,
            )
        current = [
            i
            for i in range(len(fam["enrolled_from"]))
            if np.isnat(fam["enrolled_to"][i]) and fam["enrolled_from"][i] <= end
        ]
        g = np.array([grades[k][i] for i in current])
        # Mid-year moves: leave on a random school day.
        movers = np.array(current, dtype=int)[rng.random(len(current)) < MID_YEAR_MOVE_RATE]
        for i, day in zip(movers, _random_school_days(rng, year, len(movers))):
            if day > fam["enrolled_from"][i]:
                fam["enrolled_to"][i] = day
        # End of year: the oldest child finishes school; with a younger sibling at the school
        # the family stays (its grade is then the sibling's).
        if k + 1 < len(school_years):
            grades[k + 1] = [0] * len(fam["enrolled_from"])
        leaving = 0
        for i, gi in zip(current, g):
            if not np.isnat(fam["enrolled_to"][i]):
                continue
            finishes = gi >= fam["final_grade"][i]
            stays = finishes and fam["n_children"][i] > 1 and rng.random() < 0.5
            if finishes and not stays:
                fam["enrolled_to"][i] = end if rng.random() < 0.6 else cal.days[-1]
                leaving += 1
            elif k + 1 < len(school_years):
                grades[k + 1][i] = max(1, gi - int(rng.integers(2, 5))) if stays else gi + 1
        if k + 1 < len(school_years):
            # New families replace the leavers (and movers) at the start of next year.
            next_year = school_years[k + 1]
            n_new = int(round((leaving + len(movers)) * rng.lognormal(0, 0.05)))
            if sector == "po":  # children start the day after they turn four
                days = _random_school_days(rng, next_year, n_new)
            else:
                days = np.full(n_new, _year_start_day(next_year))
            _append(
                fam,
                grades,
                k + 1,
                _draw_traits(rng, n_new, sector, weging_z, laag_factor),
                days,
                rng,
                grade=1,
            )

    out = pd.DataFrame({k: np.asarray(v) for k, v in fam.items()})
    for k in range(len(school_years)):
        g = np.zeros(len(out), dtype=int)
        g[: len(grades.get(k, []))] = grades.get(k, [])
        out[f"grade_{k}"] = g
    local = np.arange(len(out))
    out.insert(0, "family_index", school.school_index * FAMILY_ID_BLOCK + local)
    out.insert(1, "family_ref", [f"G{x:08d}" for x in out["family_index"] + 1])
    out.insert(2, "school_id", school.school_id)
    out["school_index"] = school.school_index
    out["sector"] = sector
    out["enrolled_from"] = out["enrolled_from"].astype("datetime64[s]")
    out["enrolled_to"] = out["enrolled_to"].astype("datetime64[s]")
    return out


def _append(fam, grades, k, traits, days, rng, grade=None) -> None:
    """Add families who enrol in school year k: their traits and start days to ``fam``, their
    grade to ``grades[k]`` (random when not given) and 0 (= not enrolled) to earlier years."""
    n = len(days)
    for key, values in traits.items():
        fam[key].extend(values)
    fam["enrolled_from"].extend(days)
    fam["enrolled_to"].extend([np.datetime64("NaT", "D")] * n)
    if grade is None:
        grade_values = [int(rng.integers(1, f + 1)) for f in traits["final_grade"]]
    else:
        grade_values = [grade] * n
    for kk in grades:
        if kk < k:
            grades[kk].extend([0] * n)
    grades.setdefault(k, [])
    # pad the year's list up to the new rows, then add their grades
    grades[k].extend([0] * (len(fam["enrolled_from"]) - n - len(grades[k])))
    grades[k].extend(grade_values)
