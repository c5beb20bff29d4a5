"""Survey responses: one wave per school year (spring), items of the national monitor.

Answers are drawn per respondent from a logistic model: a sector intercept solved so that the
sector share equals the Monitor Ouderbetrokkenheid 2014 figure (monitor.py) for the actual
respondents, plus shifts for parent education (low-SES parents report less contact about
support and find contact insufficient more often), work hours (working parents report more
participation and home support, monitor 2014) and a small school effect. Response is lower for
low-SES and non-Dutch-speaking families.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from ouderpeil.generate import monitor as m
from ouderpeil.generate.contacts import enrolled_in_year
from ouderpeil.generate.ids import prefixed
from ouderpeil.generate.rng import pick, pick_rows, stream

RESPONSE_RATE = {"po": 0.42, "vo": 0.30, "mbo": 0.20}
RESPONSE_SES = {"laag": 0.55, "midden": 1.0, "hoog": 1.25, "onbekend": 0.6}
RESPONSE_NON_DUTCH = 0.7
WAVE_OPEN_DAYS = 26  # invitations on the second Monday of March, closed before the meivakantie
WORK_HOURS = np.array(["0", "1-19", "20-31", "32+"])
WORK_MIX = {
    "hoog": (0.08, 0.14, 0.36, 0.42),
    "midden": (0.14, 0.22, 0.36, 0.28),
    "laag": (0.30, 0.25, 0.25, 0.20),
    "onbekend": (0.20, 0.22, 0.30, 0.28),
}
FAMILY_REF_SHARE = 0.7  # responses through a personal link carry the family number

# Log-odds shifts per SES group (laag, midden, hoog, onbekend) for each binary item.
SES_SHIFT = {
    "talk_daily": (-0.25, 0.0, 0.20, -0.10),
    "read_aloud_weekly": (-0.50, 0.0, 0.40, -0.20),
    "homework_help_weekly": (-0.30, 0.0, 0.20, -0.10),
    "support_no_contact": (0.45, 0.0, -0.25, 0.20),
    "tips_received": (-0.35, 0.0, 0.15, -0.15),
    "support_ask": (-0.40, 0.0, 0.25, -0.20),
    "tip_useful": (0.20, 0.0, -0.10, 0.0),
    "contact_insufficient": (0.40, 0.0, -0.20, 0.20),
    "helps_school": (-0.45, 0.0, 0.30, -0.20),
    "can_contribute": (-0.20, 0.0, 0.15, -0.10),
    "teacher_open": (-0.25, 0.0, 0.10, -0.10),
    "expectations_clear": (-0.10, 0.0, 0.05, 0.0),
}
GRADE_SES_SHIFT = (-0.25, 0.0, 0.10, -0.15)
GRADE_SD = 1.3
# Working parents report more participation and home support (monitor 2014).
WORK_SHIFT = {"0": -0.10, "1-19": 0.0, "20-31": 0.05, "32+": 0.10}
WORK_ITEMS = ("talk_daily", "read_aloud_weekly", "homework_help_weekly", "helps_school")
SCHOOL_EFFECT_SD = 0.15
# Answers follow what the family experienced this year (when the contacts and messages are
# known): no held individual contact -> more "contact insufficient" and "no contact about
# support"; more tip messages -> more "school gave tips". Log-odds per unit given.
NO_CONTACT_SHIFT = {"contact_insufficient": 0.7, "support_no_contact": 0.4}
TIPS_SHIFT = {"tips_received": 0.35}  # per log(1 + tip messages received)
GRADE_CONTACT_SHIFT = 0.15  # grade points per log(1 + held contacts)
SUPPORT_ASK_RATE = {"po": 0.45, "vo": 0.30, "mbo": 0.25}  # among parents with support contact
NVT_HOMEWORK = 0.05
DONT_KNOW_CONTACT = {"po": 0.05, "vo": 0.07, "mbo": 0.10}
SES_ORDER = ("laag", "midden", "hoog", "onbekend")


def make_survey(
    schools: pd.DataFrame,
    families: pd.DataFrame,
    year_index: int,
    school_year: str,
    seed: int,
    activity: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All responses of one wave (canonical columns + hidden family_index).

    ``activity`` (index family_index; columns held_contacts, tip_messages) links answers to
    the family's contacts and messages of the year; without it answers depend on SES, work
    and school only. Either way the sector averages are calibrated to the monitor."""
    rng = stream(seed, "survey", school_year)
    f = families[enrolled_in_year(families, school_year)]
    wave_year = int(school_year[5:])
    march_8 = np.datetime64(f"{wave_year}-03-08")
    opens = march_8 + (-(march_8.astype("int64") + 3)) % 7  # first Monday from 8 March
    f = f[
        (f["enrolled_from"] <= opens.astype("datetime64[s]"))
        & (f["enrolled_to"].isna() | (f["enrolled_to"] >= opens.astype("datetime64[s]")))
    ]
    ses = f["parent_education"].to_numpy()
    p = (
        f["sector"].map(RESPONSE_RATE).to_numpy()
        * np.vectorize(RESPONSE_SES.get)(ses)
        * np.where(f["home_language"].to_numpy() == "nl", 1.0, RESPONSE_NON_DUTCH)
    )
    r = f[rng.random(len(f)) < p].reset_index(drop=True)
    n = len(r)
    ses = r["parent_education"].to_numpy()
    ses_code = pd.Categorical(ses, categories=SES_ORDER).codes
    sector = r["sector"].to_numpy()
    work = (
        WORK_HOURS[pick_rows(rng, np.array([WORK_MIX[s] for s in ses]).reshape(n, 4))]
        if n
        else np.array([], dtype=object)
    )
    school_fx = stream(seed, "survey-school").normal(0, SCHOOL_EFFECT_SD, 100_000)
    school_shift = school_fx[r["school_index"].to_numpy()]

    if activity is not None:
        act = activity.reindex(r["family_index"].to_numpy()).fillna(0)
        held = act["held_contacts"].to_numpy(dtype=float)
        tips_received = act["tip_messages"].to_numpy(dtype=float)
    else:
        held = tips_received = None

    def shifts(item: str) -> np.ndarray:
        s = np.asarray(SES_SHIFT[item])[ses_code] + school_shift
        if held is not None:
            s = (
                s
                + NO_CONTACT_SHIFT.get(item, 0.0) * (held == 0)
                + TIPS_SHIFT.get(item, 0.0) * np.log1p(tips_received)
            )
        if item in WORK_ITEMS:
            s = s + np.vectorize(WORK_SHIFT.get)(work)
        return s

    def draw(item: str, targets: dict, rows: np.ndarray | None = None) -> np.ndarray:
        """Binary answers calibrated per sector on the given rows (default: all)."""
        rows = np.ones(n, bool) if rows is None else rows
        out = np.zeros(n, bool)
        sh = shifts(item)
        for sec, target in targets.items():
            sel = rows & (sector == sec)
            a = m.calibrated_intercept(target, sh[sel])
            out[sel] = rng.random(int(sel.sum())) < m.logistic(a + sh[sel])
        return out

    def freq4(top, rest_p):
        return np.where(
            top, "dagelijks", pick(rng, np.array(["wekelijks", "maandelijks", "zelden"]), rest_p, n)
        )

    talk = freq4(draw("talk_daily", m.MONITOR_2014["talk_daily"]), (0.7, 0.2, 0.1))

    weekly = draw("read_aloud_weekly", m.MONITOR_2014["read_aloud_weekly"])
    daily = rng.random(n) < m.READ_ALOUD_DAILY_SHARE
    read_aloud = np.where(
        weekly,
        np.where(daily, "dagelijks", "wekelijks"),
        pick(rng, np.array(["maandelijks", "zelden"]), (0.6, 0.4), n),
    )
    read_aloud = np.where(sector == "po", read_aloud, None)

    nvt = rng.random(n) < NVT_HOMEWORK
    hw_weekly = draw("homework_help_weekly", m.MONITOR_2014["homework_help_weekly"], ~nvt)
    hw_daily = rng.random(n) < m.HOMEWORK_DAILY_SHARE
    homework = np.where(
        nvt,
        "nvt",
        np.where(
            hw_weekly,
            np.where(hw_daily, "dagelijks", "wekelijks"),
            pick(rng, np.array(["maandelijks", "zelden"]), (0.55, 0.45), n),
        ),
    )
    homework = np.where(sector == "vo", homework, None)

    # Support: "no contact about support" excludes tips and asking; tips are calibrated on
    # all respondents, so their rate among parents with contact is target / (1 - none).
    none = draw("support_no_contact", m.MONITOR_2014["support_no_contact"])
    tips_targets = {}
    for sec, target in m.MONITOR_2014["tips_received"].items():
        share_contact = max(1e-9, 1 - none[sector == sec].mean()) if (sector == sec).any() else 1
        tips_targets[sec] = min(0.99, target / share_contact)
    tips = draw("tips_received", tips_targets, ~none) & ~none
    ask = draw("support_ask", SUPPORT_ASK_RATE, ~none) & ~none

    useful = draw("tip_useful", m.MONITOR_2014["tip_usefulness"], tips)
    detail = np.array([m.TIP_USEFULNESS_DETAIL[s] for s in sector]).reshape(n, 4)
    very = rng.random(n) < detail[:, 0] / (detail[:, 0] + detail[:, 1])
    little = rng.random(n) < detail[:, 3] / np.maximum(detail[:, 2] + detail[:, 3], 1e-9)
    tips_useful = np.where(
        useful,
        np.where(very, "heel_veel", "tamelijk_veel"),
        np.where(little, "weinig_niets", "niet_zo_veel"),
    )
    tips_useful = np.where(tips, tips_useful, None)

    dont_know = (
        rng.random(n) < np.vectorize(DONT_KNOW_CONTACT.get)(sector) if n else np.zeros(0, bool)
    )
    insufficient = draw("contact_insufficient", m.MONITOR_2014["contact_insufficient"], ~dont_know)
    contact_enough = np.where(
        dont_know, "weet_niet", np.where(insufficient, "onvoldoende", "voldoende")
    )

    helps = draw("helps_school", m.MONITOR_2014["helps_school"])
    likert = {}
    for item, col in (
        ("can_contribute", "q_can_contribute"),
        ("teacher_open", "q_teacher_open"),
        ("expectations_clear", "q_expectations_clear"),
    ):
        agree = draw(item, m.MONITOR_2014[item])
        five = rng.random(n) < 0.25
        low = pick(rng, np.array([3, 2, 1]), (0.55, 0.30, 0.15), n)
        likert[col] = np.where(agree, np.where(five, 5, 4), low)

    grade_shift = np.asarray(GRADE_SES_SHIFT)[ses_code] + school_shift
    if held is not None:
        grade_shift = grade_shift + GRADE_CONTACT_SHIFT * np.log1p(held)
    grade = _comm_grades(rng, sector, grade_shift)

    day_offset = np.minimum(rng.exponential(6.0, n), WAVE_OPEN_DAYS - 1).astype(int)
    reminder = rng.random(n) < 0.3  # a reminder after two weeks brings a second wave
    day_offset = np.where(reminder, 14 + rng.integers(0, 5, n), day_offset)
    submitted = (
        (opens + day_offset.astype("timedelta64[D]")).astype("datetime64[s]")
        + (rng.integers(7 * 60, 23 * 60, n) * 60).astype("timedelta64[s]")
        + rng.integers(0, 60, n).astype("timedelta64[s]")
    )

    number = (year_index + 1) * 1_000_000 + np.arange(n)
    out = pd.DataFrame(
        {
            "response_id": prefixed(f"R{wave_year}-", np.arange(1, n + 1), 6),
            "respondent_ref": prefixed(
                "T", (r["family_index"].to_numpy() * 7919 + year_index) % 10**9, 9
            ),
            "family_ref": np.where(
                rng.random(n) < FAMILY_REF_SHARE, r["family_ref"].to_numpy(), None
            ),
            "school_id": r["school_id"].to_numpy(),
            "sector": sector,
            "wave": f"{wave_year}-voorjaar",
            "submitted_at": submitted,
            "parent_education": ses,
            "work_hours": work,
            "q_comm_grade": grade,
            "q_contact_enough": contact_enough,
            "q_talk_school": talk,
            "q_read_aloud": read_aloud,
            "q_homework_help": homework,
            "q_support_ask": ask.astype(int),
            "q_support_tips": tips.astype(int),
            "q_support_none": none.astype(int),
            "q_tips_useful": tips_useful,
            "q_helps_school": helps.astype(int),
            "q_can_contribute": likert["q_can_contribute"],
            "q_expectations_clear": likert["q_expectations_clear"],
            "q_teacher_open": likert["q_teacher_open"],
            "family_index": r["family_index"].to_numpy(),
            "home_language": r["home_language"].to_numpy(),
            "number": number,
        }
    )
    return out.sort_values(["submitted_at", "response_id"], kind="stable").reset_index(drop=True)


def _comm_grades(rng, sector: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Grades 1-10: a rounded normal whose expected value per sector is the monitor's mean.

    The latent mean is solved per sector with the exact expectation of the rounded, clipped
    normal, so rounding and the 1-10 bounds do not bias the sector average."""
    nd = NormalDist()
    cuts = np.arange(1.5, 10.5, 1.0)  # boundaries between grades

    def expected(mu: float, shifts: np.ndarray) -> float:
        vals, cnt = np.unique(np.round(shifts, 4), return_counts=True)
        total = 0.0
        for v, c in zip(vals, cnt):
            cdf = np.array([nd.cdf((x - mu - v) / GRADE_SD) for x in cuts])
            probs = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
            total += c * float(np.dot(probs, np.arange(1, 11)))
        return total / cnt.sum()

    out = np.zeros(len(sector), dtype=int)
    for sec, target in m.COMM_GRADE_MEAN.items():
        sel = sector == sec
        if not sel.any():
            continue
        lo, hi = 1.0, 10.0
        for _ in range(30):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if expected(mid, shift[sel]) < target else (lo, mid)
        latent = (lo + hi) / 2 + shift[sel] + rng.normal(0, GRADE_SD, int(sel.sum()))
        out[sel] = np.clip(np.round(latent), 1, 10).astype(int)
    return out
