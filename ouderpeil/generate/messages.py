"""Messages to families (one school, one school year, or one day).

Realism (docs/SAMPLE_DATA.md): each school has its own weekly dose (around 1-4 messages per
family per week, 1.3 on average; the research seed 001 finds up to three a week effective)
and its own purpose mix; families differ around the school's dose. Messages go out on school
days only, never in holidays or weekends. Families prefer a channel: low-SES and non-Dutch
families use SMS and WhatsApp more, highly educated parents e-mail and the school app. Some
schools translate messages into the home language.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ouderpeil.generate.calendar import school_calendar
from ouderpeil.generate.contacts import enrolled_in_year
from ouderpeil.generate.ids import prefixed
from ouderpeil.generate.rng import pick, pick_rows, stream

CHANNELS = np.array(["app", "whatsapp", "email", "sms"])
PREFERRED_CHANNEL = {  # app, whatsapp, email, sms
    "hoog": (0.50, 0.20, 0.25, 0.05),
    "midden": (0.45, 0.28, 0.17, 0.10),
    "laag": (0.35, 0.35, 0.08, 0.22),
    "onbekend": (0.40, 0.30, 0.10, 0.20),
}
PREFERRED_SHARE = 0.85  # messages on the family's preferred channel
PURPOSES = np.array(["voortgang", "tip", "aanmoediging", "organisatorisch", "herinnering"])
PURPOSE_MIX = (0.25, 0.22, 0.15, 0.28, 0.10)  # average school; each school varies around it
PURPOSE_CONCENTRATION = 25.0  # Dirichlet concentration: lower = schools differ more
SECTOR_DOSE = {"po": 1.15, "vo": 1.0, "mbo": 0.8}  # relative to the scale's mean dose
DOSE_SPREAD = 0.35  # lognormal sigma of the school dose
FAMILY_DOSE_SHAPE = 5.0  # gamma shape of a family's dose around the school's
TRANSLATE_RATE = {"po": 0.5, "vo": 0.3, "mbo": 0.2}  # schools that send in the home language
TIPS_PER_SECTOR = 60
# Send moments (hour of day) and their weights: morning, lunch, after school, evening.
SEND_HOURS = np.array([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21])
SEND_WEIGHTS = np.array([2, 8, 5, 3, 3, 7, 4, 4, 8, 7, 4, 5, 7, 4, 1], dtype=float)
MESSAGE_ID_WIDTH = 11


def school_profile(school, seed: int, weekly_dose: float) -> dict:
    """A school's messaging habits: dose, purpose mix, translation."""
    rng = stream(seed, "message-school", school.school_index)
    dose = (
        weekly_dose * SECTOR_DOSE[school.sector] * rng.lognormal(-(DOSE_SPREAD**2) / 2, DOSE_SPREAD)
    )
    return {
        "dose": float(np.clip(dose, 0.4, 4.0)),
        "purposes": rng.dirichlet(np.asarray(PURPOSE_MIX) * PURPOSE_CONCENTRATION),
        "translates": bool(rng.random() < TRANSLATE_RATE[school.sector]),
    }


def family_habits(fams: pd.DataFrame, seed: int, school_index: int) -> pd.DataFrame:
    """Per family: dose multiplier and preferred channel (stable over years and days)."""
    rng = stream(seed, "message-family", school_index)
    n = len(fams)
    ses = fams["parent_education"].to_numpy()
    probs = np.array([PREFERRED_CHANNEL[s] for s in ses]).reshape(n, 4)
    non_nl = fams["home_language"].to_numpy() != "nl"
    probs[:, 3] += np.where(non_nl, 0.05, 0.0)  # SMS: no app in the home language
    return pd.DataFrame(
        {
            "dose_mult": rng.gamma(FAMILY_DOSE_SHAPE, 1 / FAMILY_DOSE_SHAPE, n),
            "preferred": pick_rows(rng, probs),
        },
        index=fams.index,
    )


def make_messages(
    school,
    fams: pd.DataFrame,
    year_index: int,
    school_year: str,
    seed: int,
    weekly_dose: float,
    only_day: np.datetime64 | None = None,
) -> pd.DataFrame:
    """Messages of one school in one school year (or on one day of it), sorted by sent_at.

    Returns canonical columns plus hidden family_index, parent_education, home_language,
    sector, school_index and number (the numeric part of message_id)."""
    cal = school_calendar(school_year)
    prof = school_profile(school, seed, weekly_dose)
    habits = family_habits(fams, seed, school.school_index)
    f = fams[enrolled_in_year(fams, school_year)]
    h = habits.loc[f.index]
    f = f.reset_index(drop=True)
    key = (
        ("messages", school.school_index, school_year)
        if only_day is None
        else ("messages-day", school.school_index, str(only_day))
    )
    rng = stream(seed, *key)

    if only_day is None:
        week_len = cal.week_lengths
        week_start = cal.week_starts
    else:
        pos = np.searchsorted(cal.days, only_day)
        if pos >= len(cal.days) or cal.days[pos] != only_day:
            return _empty()
        week_len, week_start = np.array([1]), np.array([pos])
    lam = prof["dose"] * h["dose_mult"].to_numpy()[:, None] * week_len[None, :] / 5.0
    counts = rng.poisson(lam)  # families x weeks
    fam_idx, week_idx = np.nonzero(counts)
    reps = counts[fam_idx, week_idx]
    fam_idx, week_idx = np.repeat(fam_idx, reps), np.repeat(week_idx, reps)
    day_pos = week_start[week_idx] + (rng.random(len(week_idx)) * week_len[week_idx]).astype(int)
    days = cal.days[day_pos]
    lo = f["enrolled_from"].to_numpy().astype("datetime64[D]")[fam_idx]
    to = f["enrolled_to"].to_numpy().astype("datetime64[D]")[fam_idx]
    inside = (days >= lo) & (np.isnat(to) | (days <= to))
    fam_idx, days = fam_idx[inside], days[inside]
    k = len(fam_idx)

    seconds = pick(rng, SEND_HOURS, SEND_WEIGHTS, k) * 3600 + rng.integers(0, 3600, k)
    sent_at = days.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    preferred = h["preferred"].to_numpy()[fam_idx]
    channel_idx = np.where(rng.random(k) < PREFERRED_SHARE, preferred, rng.integers(0, 4, k))
    purpose = pick(rng, PURPOSES, prof["purposes"], k)
    lang = f["home_language"].to_numpy()[fam_idx]
    language = np.where(prof["translates"], lang, "nl") if k else np.array([], dtype=object)
    # Tips come from a catalogue; a few popular tips are sent more often (Zipf-like).
    tip_rank = np.minimum(rng.zipf(1.6, k), TIPS_PER_SECTOR)
    tip_id = np.where(
        purpose == "tip", prefixed(f"TIP-{school.sector}-", tip_rank, 3) if k else [], None
    )

    out = pd.DataFrame(
        {
            "school_id": school.school_id,
            "family_ref": f["family_ref"].to_numpy()[fam_idx],
            "sent_at": sent_at,
            "channel": CHANNELS[channel_idx],
            "purpose": purpose,
            "language": language,
            "tip_id": tip_id,
            "family_index": f["family_index"].to_numpy()[fam_idx],
            "parent_education": f["parent_education"].to_numpy()[fam_idx],
            "home_language": lang,
        }
    )
    out = out.sort_values(["sent_at", "family_ref"], kind="stable").reset_index(drop=True)
    out["sector"] = school.sector
    out["school_index"] = school.school_index
    out["number"] = (
        (school.school_index + 1) * 100_000_000 + year_index * 10_000_000 + np.arange(len(out))
    )
    if only_day is None:
        ids = prefixed("MSG", out["number"].to_numpy(), MESSAGE_ID_WIDTH)
    else:  # day files: a separate, longer id format can never collide with the base data
        stamp = str(only_day).replace("-", "")
        ids = prefixed(f"MSG{stamp}-", out["number"].to_numpy(), MESSAGE_ID_WIDTH)
    out.insert(0, "message_id", ids)
    return out


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype=object)
            for c in (
                "message_id",
                "school_id",
                "family_ref",
                "sent_at",
                "channel",
                "purpose",
                "language",
                "tip_id",
                "family_index",
                "parent_education",
                "home_language",
                "sector",
                "school_index",
                "number",
            )
        }
    ).astype({"sent_at": "datetime64[s]"})
