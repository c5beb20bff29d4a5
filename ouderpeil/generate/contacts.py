"""Contact logs: school-parent contacts per family and school year.

Realism (docs/SAMPLE_DATA.md, monitor 2014 ch. 4): in po most parents speak the teacher once or
several times a month (informal chats at the school gate, e-mail, portal, talks after each
report); in vo and mbo contact is a few times a year. Report talks peak around the report
periods (November, February/March, June); the school-advice talks of group 8 fall in
January-February (provisional advice before 1 February) with a second talk in March.
Low-SES families are reached less: they sign up less for optional talks, take fewer
initiatives and miss more appointments. Non-western migrant families have more contact
(monitor 2014), often with an interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ouderpeil.generate.calendar import school_calendar, year_bounds
from ouderpeil.generate.families import NON_WESTERN
from ouderpeil.generate.ids import prefixed, staff_ref, student_ref
from ouderpeil.generate.rng import pick, pick_rows, stream

TOPICS = np.array(
    [
        "leervorderingen",
        "gedrag",
        "welbevinden",
        "loopbaan",
        "thuisondersteuning",
        "organisatorisch",
        "overig",
    ]
)


@dataclass(frozen=True)
class ChannelModel:
    """How often a channel occurs per family per school year, when, and about what.

    kind: planned (school invites: report talks), outreach (school calls or visits),
    parent (parent's initiative or everyday contact).
    """

    channel: str
    per_year: dict  # sector -> mean contacts per family per school year
    kind: str
    peaks: tuple = ()  # ((month, day, sd_days, weight), ...) on top of a flat base
    flat: float = 1.0  # weight of the flat part
    hours: tuple = (8.5, 16.5)
    slot_min: int = 5
    duration: tuple | None = None  # (mean, sd) minutes; None = not recorded
    topics: tuple = (0.2, 0.15, 0.2, 0.0, 0.1, 0.25, 0.1)  # in TOPICS order
    parent_share: float = 0.0  # share initiated by the parent
    spoken: bool = True  # an interpreter can take part


CHANNELS = (
    ChannelModel(
        "tienminutengesprek",
        {"po": 1.9, "vo": 1.0, "mbo": 0.4},
        "planned",
        peaks=((11, 15, 9, 1.0), (3, 5, 9, 0.8)),
        flat=0.02,
        hours=(15.0, 20.5),
        slot_min=10,
        duration=(10, 2),
        topics=(0.55, 0.1, 0.2, 0.05, 0.1, 0.0, 0.0),
    ),
    ChannelModel(
        "rapportgesprek",
        {"po": 0.9, "vo": 0.3, "mbo": 0.3},
        "planned",
        peaks=((2, 8, 8, 0.6), (6, 26, 7, 1.0)),
        flat=0.02,
        hours=(15.0, 20.0),
        slot_min=15,
        duration=(15, 4),
        topics=(0.55, 0.1, 0.15, 0.1, 0.1, 0.0, 0.0),
    ),
    ChannelModel(
        "telefoon",
        {"po": 0.8, "vo": 0.5, "mbo": 0.4},
        "outreach",
        peaks=((9, 20, 15, 0.3),),
        hours=(8.0, 17.0),
        slot_min=1,
        duration=(8, 5),
        topics=(0.2, 0.3, 0.25, 0.05, 0.05, 0.1, 0.05),
    ),
    ChannelModel(
        "huisbezoek",
        {"po": 0.04, "vo": 0.01, "mbo": 0.005},
        "outreach",
        peaks=((9, 25, 20, 0.5),),
        hours=(9.0, 17.0),
        slot_min=15,
        duration=(45, 15),
        topics=(0.1, 0.2, 0.35, 0.0, 0.35, 0.0, 0.0),
    ),
    ChannelModel(
        "telefoon",
        {"po": 0.7, "vo": 0.3, "mbo": 0.2},
        "parent",
        hours=(7.5, 17.5),
        slot_min=1,
        duration=(6, 4),
        parent_share=1.0,
        topics=(0.15, 0.15, 0.3, 0.05, 0.05, 0.25, 0.05),
    ),
    ChannelModel(
        "email",
        {"po": 2.5, "vo": 1.2, "mbo": 0.6},
        "parent",
        peaks=((9, 10, 15, 0.3),),
        hours=(7.0, 23.0),
        slot_min=1,
        parent_share=0.55,
        spoken=False,
        topics=(0.25, 0.1, 0.1, 0.05, 0.05, 0.35, 0.1),
    ),
    ChannelModel(
        "portaal",
        {"po": 1.5, "vo": 0.6, "mbo": 0.4},
        "parent",
        hours=(7.0, 23.0),
        slot_min=1,
        parent_share=0.55,
        spoken=False,
        topics=(0.25, 0.1, 0.1, 0.05, 0.05, 0.35, 0.1),
    ),
    ChannelModel(
        "informeel",
        {"po": 5.0, "vo": 0.1, "mbo": 0.05},
        "parent",
        hours=(8.25, 8.5),
        slot_min=1,
        duration=(3, 2),
        parent_share=0.6,
        topics=(0.15, 0.1, 0.35, 0.0, 0.05, 0.25, 0.1),
    ),
)
# Collective evenings: one date per school per year; (month, day) is the target date.
COLLECTIVE = {
    "informatieavond": {
        "date": (9, 12),
        "hour": 19.0,
        "duration": 60,
        "attend": {"po": 0.60, "vo": 0.45, "mbo": 0.30},
    },
    "ouderavond": {
        "date": (11, 6),
        "hour": 19.5,
        "duration": 90,
        "attend": {"po": 0.45, "vo": 0.35, "mbo": 0.15},
    },
}
INTAKE_RATE = {"po": 0.95, "vo": 0.60, "mbo": 0.80}
SCHOOL_ADVICE_SECOND_TALK = 0.6  # share of group-8 families with a second (definitive) talk

# --- SES and language effects (multipliers on the yearly means) ----------------------------
SES_INITIATIVE = {"laag": 0.55, "midden": 1.00, "hoog": 1.15, "onbekend": 0.70}
SES_SIGN_UP = {"laag": 0.65, "midden": 1.00, "hoog": 1.10, "onbekend": 0.75}  # vo/mbo talks
SES_OUTREACH = {"laag": 1.25, "midden": 1.00, "hoog": 0.85, "onbekend": 1.10}
SES_ATTEND = {"laag": 0.65, "midden": 1.00, "hoog": 1.10, "onbekend": 0.75}
# Outcome of an appointment: (gehouden, niet_verschenen, geannuleerd).
SES_STATUS = {
    "laag": (0.80, 0.13, 0.07),
    "midden": (0.91, 0.05, 0.04),
    "hoog": (0.93, 0.03, 0.04),
    "onbekend": (0.85, 0.10, 0.05),
}
# Monitor 2014: contact frequency is significantly higher with non-western migrant parents
# (more school-initiated calls, extra talks, home visits), despite their lower education mix.
NON_WESTERN_CONTACT = 2.0  # school calls (outreach)
NON_WESTERN_PLANNED = 1.3  # extra report talks
NON_WESTERN_INITIATIVE = 1.2  # parent-initiated contact
NON_WESTERN_HOME_VISITS = 2.5
INTERPRETER_RATE = {
    "ar": 0.45,
    "tr": 0.35,
    "ber": 0.45,
    "ti": 0.60,
    "uk": 0.40,
    "pl": 0.30,
    "pap": 0.05,
    "en": 0.05,
    "nl": 0.0,
}
STATUS = np.array(["gehouden", "niet_verschenen", "geannuleerd"])


def _season_weights(days: np.ndarray, peaks: tuple, flat: float) -> np.ndarray:
    """Weight of every school day: a flat base plus gaussian bumps around (month, day)."""
    first = int(str(days[0])[:4])
    w = np.full(len(days), float(flat))
    for month, day, sd, weight in peaks:
        year = first if month >= 8 else first + 1
        centre = np.datetime64(f"{year}-{month:02d}-{day:02d}")
        dist = (days - centre).astype(float)
        w += weight * np.exp(-0.5 * (dist / sd) ** 2)
    return w / w.sum()


def _times(rng, n: int, hours: tuple, slot_min: int) -> np.ndarray:
    """Seconds after midnight, on appointment slots."""
    slots = max(1, int((hours[1] - hours[0]) * 60 // slot_min))
    minutes = hours[0] * 60 + rng.integers(0, slots, n) * slot_min
    return (minutes * 60).astype("int64")


def enrolled_in_year(fams: pd.DataFrame, school_year: str) -> np.ndarray:
    start, end = year_bounds(school_year)
    start, end = start.astype("datetime64[s]"), end.astype("datetime64[s]")
    to = fams["enrolled_to"].to_numpy()
    return (fams["enrolled_from"].to_numpy() <= end) & (np.isnat(to) | (to >= start))


def make_contacts(
    school, fams: pd.DataFrame, year_index: int, school_year: str, seed: int
) -> pd.DataFrame:
    """Contacts of one school in one school year, sorted by time (canonical columns plus the
    hidden family_index and parent_education)."""
    rng = stream(seed, "contacts", school.school_index, school_year)
    cal = school_calendar(school_year)
    f = fams[enrolled_in_year(fams, school_year)].reset_index(drop=True)
    n = len(f)
    sector = school.sector
    ses = f["parent_education"].to_numpy()
    lang = f["home_language"].to_numpy()
    engagement = f["engagement"].to_numpy()
    non_western = np.isin(lang, NON_WESTERN)
    lo = np.maximum(f["enrolled_from"].to_numpy().astype("datetime64[D]"), cal.days[0])
    to = f["enrolled_to"].to_numpy().astype("datetime64[D]")
    hi = np.where(np.isnat(to), cal.days[-1], np.minimum(to, cal.days[-1]))

    def mult(table):
        return np.vectorize(table.get)(ses) if n else np.zeros(0)

    parts = []
    for model in CHANNELS:
        lam = np.full(n, model.per_year[sector])
        if model.kind == "planned":
            if sector != "po":  # vo/mbo parents sign up; po invites everyone
                lam = lam * mult(SES_SIGN_UP) * engagement
            lam = lam * np.where(non_western, NON_WESTERN_PLANNED, 1.0)
        elif model.kind == "outreach":
            lam = (
                lam
                * mult(SES_OUTREACH)
                * np.where(
                    non_western,
                    NON_WESTERN_HOME_VISITS
                    if model.channel == "huisbezoek"
                    else NON_WESTERN_CONTACT,
                    1.0,
                )
            )
        else:
            lam = (
                lam
                * mult(SES_INITIATIVE)
                * engagement
                * np.where(non_western, NON_WESTERN_INITIATIVE, 1.0)
            )
        fam_idx = np.repeat(np.arange(n), rng.poisson(lam))
        weights = _season_weights(cal.days, model.peaks, model.flat)
        days = cal.days[np.searchsorted(np.cumsum(weights), rng.random(len(fam_idx)) * 0.999999)]
        parts.append(_part(rng, model, fam_idx, days))

    # Group 8: the school-advice talks (provisional before 1 February, definitive in March).
    if sector == "po":
        group8 = np.nonzero(f[f"grade_{year_index}"].to_numpy() == 8)[0]
        second = group8[rng.random(len(group8)) < SCHOOL_ADVICE_SECOND_TALK]
        advice = ChannelModel(
            "schooladviesgesprek",
            {},
            "planned",
            hours=(14.0, 19.0),
            slot_min=15,
            duration=(25, 5),
            topics=(0.1, 0, 0, 0.9, 0, 0, 0),
        )
        for fam_idx, peak in ((group8, (1, 22, 8, 1.0)), (second, (3, 12, 5, 1.0))):
            w = _season_weights(cal.days, (peak,), 0.0)
            days = cal.days[np.searchsorted(np.cumsum(w), rng.random(len(fam_idx)) * 0.999999)]
            parts.append(_part(rng, advice, fam_idx, days))

    # Intake of families who enrolled this year, within two weeks of their first day.
    new = np.nonzero(
        (f["enrolled_from"].to_numpy().astype("datetime64[D]") >= cal.days[0])
        & (rng.random(n) < INTAKE_RATE[sector])
    )[0]
    first_idx = np.searchsorted(cal.days, lo[new]) + rng.integers(0, 10, len(new))
    intake = ChannelModel(
        "intake",
        {},
        "planned",
        hours=(8.5, 16.0),
        slot_min=15,
        duration=(40, 10),
        topics=(0.1, 0.0, 0.3, 0.1, 0.1, 0.4, 0.0),
    )
    parts.append(_part(rng, intake, new, cal.days[np.minimum(first_idx, len(cal.days) - 1)]))

    contacts = pd.concat(parts, ignore_index=True)
    contacts = contacts[
        (contacts["day"] >= lo[contacts["fam"]]) & (contacts["day"] <= hi[contacts["fam"]])
    ].reset_index(drop=True)
    contacts = _add_collective(rng, contacts, f, sector, cal, lo, hi, ses, engagement)
    return _finish(rng, contacts, f, school, year_index, ses, lang)


def _part(rng, model: ChannelModel, fam_idx: np.ndarray, days: np.ndarray) -> pd.DataFrame:
    k = len(fam_idx)
    parent = rng.random(k) < model.parent_share
    duration = (
        np.maximum(1, np.round(rng.normal(*model.duration, k))).astype(float)
        if model.duration
        else np.full(k, np.nan)
    )
    return pd.DataFrame(
        {
            "fam": fam_idx,
            "day": days,
            "seconds": _times(rng, k, model.hours, model.slot_min),
            "channel": model.channel,
            "initiated_by": np.where(parent, "ouder", "school"),
            "topic": pick(rng, TOPICS, model.topics, k),
            "duration_min": duration,
            "kind": model.kind,
            "spoken": model.spoken,
        }
    )


def _add_collective(rng, contacts, f, sector, cal, lo, hi, ses, engagement) -> pd.DataFrame:
    """One informatieavond and one ouderavond per school: a row per attending family."""
    parts = [contacts]
    for channel, spec in COLLECTIVE.items():
        month, day = spec["date"]
        year = int(str(cal.days[0])[:4]) + (0 if month >= 8 else 1)
        target = np.datetime64(f"{year}-{month:02d}-{day:02d}") + int(rng.integers(-7, 8))
        date = cal.days[min(np.searchsorted(cal.days, target), len(cal.days) - 1)]
        p = (
            spec["attend"][sector] * np.vectorize(SES_ATTEND.get)(ses) * np.sqrt(engagement)
            if len(ses)
            else np.zeros(0)
        )
        fam_idx = np.nonzero(
            (rng.random(len(ses)) < np.minimum(p, 0.95)) & (lo <= date) & (hi >= date)
        )[0]
        topic = pick(rng, TOPICS, (0, 0, 0.2, 0.1, 0.3, 0.3, 0.1), 1)[0]
        k = len(fam_idx)
        parts.append(
            pd.DataFrame(
                {
                    "fam": fam_idx,
                    "day": np.full(k, date),
                    "seconds": np.full(k, int(spec["hour"] * 3600), dtype="int64"),
                    "channel": channel,
                    "initiated_by": "school",
                    "topic": topic if channel == "ouderavond" else "organisatorisch",
                    "duration_min": float(spec["duration"]),
                    "kind": "collective",
                    "spoken": False,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _finish(rng, c: pd.DataFrame, f: pd.DataFrame, school, year_index, ses, lang) -> pd.DataFrame:
    k = len(c)
    fam = c["fam"].to_numpy()
    fses = ses[fam]
    # Appointments can be missed or cancelled; low-SES families miss more.
    scheduled = c["kind"].isin(["planned", "outreach"]).to_numpy() | (
        (c["channel"] == "telefoon").to_numpy() & (c["initiated_by"] == "school").to_numpy()
    )
    probs = np.array([SES_STATUS[s] for s in ("laag", "midden", "hoog", "onbekend")])
    ses_code = pd.Categorical(fses, categories=["laag", "midden", "hoog", "onbekend"]).codes
    status = np.where(scheduled, STATUS[pick_rows(rng, probs[ses_code])] if k else [], "gehouden")
    held = status == "gehouden"
    interpreter = (
        held
        & c["spoken"].to_numpy()
        & (
            rng.random(k) < np.vectorize(INTERPRETER_RATE.get)(lang[fam])
            if k
            else np.zeros(0, bool)
        )
    )
    duration = np.where(held, c["duration_min"].to_numpy(), np.nan)
    # Teachers: po class teacher per grade, vo/mbo mentor; 15 % by someone else (IB, direction).
    n_staff = max(4, int(len(f) // 18))
    fam_index = f["family_index"].to_numpy()[fam]
    staff = (fam_index * 7 + year_index * 3) % n_staff
    other = rng.random(k) < 0.15
    staff = np.where(other, rng.integers(0, n_staff, k), staff)
    child = rng.integers(0, 1 << 30, k) % f["n_children"].to_numpy()[fam]
    collective = (c["kind"] == "collective").to_numpy()
    contact_at = c["day"].to_numpy().astype("datetime64[s]") + c["seconds"].to_numpy().astype(
        "timedelta64[s]"
    )
    out = pd.DataFrame(
        {
            "school_id": school.school_id,
            "family_ref": f["family_ref"].to_numpy()[fam],
            "student_ref": np.where(collective, None, student_ref(fam_index, child)),
            "staff_ref": np.where(collective, None, staff_ref(school.school_index, staff)),
            "contact_at": contact_at,
            "channel": c["channel"].to_numpy(),
            "initiated_by": c["initiated_by"].to_numpy(),
            "topic": c["topic"].to_numpy(),
            "status": status,
            "duration_min": duration,
            "interpreter": np.where(c["spoken"].to_numpy(), interpreter, False),
            "family_index": fam_index,
            "parent_education": fses,
        }
    )
    out = out.sort_values(["contact_at", "family_ref"], kind="stable").reset_index(drop=True)
    number = (school.school_index + 1) * 10_000_000 + year_index * 1_000_000 + np.arange(len(out))
    out.insert(0, "contact_id", prefixed("C", number, 10))
    return out
