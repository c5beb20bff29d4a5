"""generate(): the sample inbox, one school at a time.

Which profile each file uses (FILE_PROFILES) alternates by school year so that every source
arrives both in the canonical format and in a Dutch export profile.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ouderpeil.contracts import COLLECTIVE_CONTACT_CHANNELS
from ouderpeil.generate.calendar import data_until, school_calendar
from ouderpeil.generate.contacts import make_contacts
from ouderpeil.generate.dirt import REJECT_KINDS, DirtQuota
from ouderpeil.generate.events import bad_address_families, make_events
from ouderpeil.generate.families import make_families
from ouderpeil.generate.messages import make_messages
from ouderpeil.generate.output import Output, RowFile, message_bodies, write_survey_xlsx
from ouderpeil.generate.rng import stream
from ouderpeil.generate.scales import get_scale
from ouderpeil.generate.schools import make_schools
from ouderpeil.generate.surveys import make_survey
from ouderpeil.generate.webhooks import event_lines
from ouderpeil.generate.writers import JsonlWriter

# Up to the current school year (2026-2027 as of 2026-12-01), which ends yesterday.
DEFAULT_SCHOOL_YEARS = ("2024-2025", "2025-2026", "2026-2027")
# Profile per source for the 1st, 2nd, ... school year (cycling).
FILE_PROFILES = {
    "schools": ("generic_sis_nl",),
    "families": ("canonical", "generic_sis_nl"),
    "contact_logs": ("generic_sis_nl", "canonical"),
    "messages": ("canonical", "generic_sis_nl"),
    "survey_responses": ("generic_survey_nl", "canonical"),
}
XLSX_SURVEY_MAX_ROWS = 1_000  # a Dutch-profile survey wave this small is written as .xlsx
EVENT_ID_BLOCK = 1_000_000_000


def _profile(source: str, year_index: int) -> str:
    options = FILE_PROFILES[source]
    return options[year_index % len(options)]


def families_by_school(families: pd.DataFrame) -> dict[int, pd.DataFrame]:
    return {k: g for k, g in families.groupby("school_index", sort=True)}


def generate(
    out_dir,
    scale: str = "small",
    seed: int = 1,
    school_years: tuple[str, ...] = DEFAULT_SCHOOL_YEARS,
) -> dict:
    """Write the sample inbox under ``out_dir/<source>/`` and return a summary (files, rows per
    source, dirt written per kind and source, expected loader rejects per source)."""
    sc = get_scale(scale)
    school_years = tuple(school_years)
    for y in school_years:
        school_calendar(y)  # unknown school years fail before anything is written
    out = Path(out_dir)
    output = Output(out)
    schools = make_schools(sc, seed)
    families = make_families(schools, seed, school_years)
    by_school = families_by_school(families)

    _write_schools(output, schools, seed)
    _write_families(output, families, school_years, seed)
    late: pd.DataFrame | None = None
    n_messages = n_events = 0
    events_until = (
        (data_until() + 1 - np.datetime64("1970-01-01")).astype("timedelta64[s]").astype("int64")
    )  # UTC seconds at the end of the last data day
    for k, year in enumerate(school_years):
        contacts = RowFile(
            output,
            out / "contact_logs" / f"contact_logs_{year}.csv",
            "contact_logs",
            _profile("contact_logs", k),
            seed,
        )
        messages = RowFile(
            output,
            out / "messages" / f"messages_{year}.csv",
            "messages",
            _profile("messages", k),
            seed,
        )
        events = JsonlWriter(out / "message_events" / f"message_events_{year}.jsonl")
        event_quota = DirtQuota(REJECT_KINDS + ("duplicate_events", "out_of_order_events"))
        event_dirt: dict[str, int] = {}
        held_back = []
        activity = []  # per family: held contacts and tip messages, for the survey
        last_year = k == len(school_years) - 1
        late_quota = DirtQuota(("late_messages",))
        if late is not None:  # messages held back from last year's file arrive now
            messages.write(late, message_bodies(messages, late), clean=True)
            late = None
        for school in schools.itertuples():
            fams = by_school.get(school.school_index)
            if fams is None:
                continue
            school_contacts = make_contacts(school, fams, k, year, seed)
            contacts.write(school_contacts)
            msgs = make_messages(school, fams, k, year, seed, sc.weekly_message_dose)
            activity.append(_activity(school_contacts, msgs))
            ev = make_events(
                msgs,
                bad_address_families(fams, seed, school.school_index),
                (school.school_index, year),
                seed,
            )
            ev = ev[ev["utc"] < events_until]  # webhooks of what has not happened yet: none
            n_messages += len(msgs)
            n_events += len(ev)
            rng = stream(seed, "late", school.school_index, year)
            hold = late_rows(rng, len(msgs), late_quota) if not last_year else np.array([], int)
            if len(hold):
                held_back.append(msgs.iloc[hold])
                output.add_dirt("messages", {"late_messages": len(hold)})
                output.add_dirt(
                    "message_events", {"late_events": int(np.isin(ev["message_row"], hold).sum())}
                )
            kept = msgs.drop(index=msgs.index[hold]) if len(hold) else msgs
            messages.write(kept, message_bodies(messages, kept))
            events.write(
                event_lines(
                    stream(seed, "webhooks", school.school_index, year),
                    ev,
                    msgs,
                    "EVT",
                    (school.school_index + 1) * EVENT_ID_BLOCK + k * (EVENT_ID_BLOCK // 10),
                    event_quota,
                    event_dirt,
                    late_messages=hold,
                )
            )
        if held_back:
            late = pd.concat(held_back, ignore_index=True)
        contacts.close()
        messages.close()
        events.close()
        output.add_dirt("message_events", event_dirt)
        output.add_file(
            events.path, "message_events", "jsonl", "canonical", events.rows, "utf-8", None
        )
        _write_survey(output, schools, families, k, year, seed, pd.concat(activity))

    return output.summary(
        scale=sc.name,
        seed=seed,
        school_years=list(school_years),
        schools=len(schools),
        boards=int(schools["board_id"].nunique()),
        families=len(families),
        messages=n_messages,
        events=n_events,
    )


def late_rows(rng, n: int, quota: DirtQuota) -> np.ndarray:
    """Rows of a chunk of messages held back to a later file."""
    k = min(n, quota.next_chunk(n)["late_messages"])
    quota.record({"late_messages": k})
    return np.sort(rng.choice(n, k, replace=False)) if k else np.array([], int)


def _write_schools(output: Output, schools: pd.DataFrame, seed: int) -> None:
    f = RowFile(
        output,
        output.out_dir / "schools" / "schools.csv",
        "schools",
        _profile("schools", 0),
        seed,
        dirty=False,
    )
    f.write(schools)
    f.close()


def _write_families(output: Output, families: pd.DataFrame, school_years, seed: int) -> None:
    """Each enrolment once, in the file of the school year in which it started (earlier
    enrolments in the first file), with its final enrolled_to: the loader treats a repeated
    (family_ref, school_id, enrolled_from) as a duplicate."""
    starts = families["enrolled_from"].to_numpy()
    for k, year in enumerate(school_years):
        end = np.datetime64(f"{year[5:]}-07-31T23:59:59")
        begin = np.datetime64(f"{year[:4]}-08-01")
        sel = (starts <= end) & ((starts >= begin) if k else True)
        f = RowFile(
            output,
            output.out_dir / "families" / f"families_{year}.csv",
            "families",
            _profile("families", k),
            seed,
        )
        for _, chunk in families[sel].groupby("school_index", sort=True):
            f.write(chunk)
        f.close()


def _activity(contacts: pd.DataFrame, messages: pd.DataFrame) -> pd.DataFrame:
    """Held individual contacts and tip messages per family_index (what parents experienced)."""
    individual = contacts[
        (contacts["status"] == "gehouden") & ~contacts["channel"].isin(COLLECTIVE_CONTACT_CHANNELS)
    ]
    return pd.DataFrame(
        {
            "held_contacts": individual.groupby("family_index").size(),
            "tip_messages": messages[messages["purpose"] == "tip"].groupby("family_index").size(),
        }
    ).fillna(0)


def _write_survey(
    output: Output,
    schools,
    families,
    k: int,
    year: str,
    seed: int,
    activity: pd.DataFrame | None = None,
) -> None:
    if np.datetime64(f"{year[5:]}-03-08") > school_calendar(year).days[-1]:
        return  # this year's survey wave (March) lies ahead: no responses yet
    responses = make_survey(schools, families, k, year, seed, activity)
    profile = _profile("survey_responses", k)
    path = output.out_dir / "survey_responses" / f"survey_responses_{year}.csv"
    if profile != "canonical" and len(responses) <= XLSX_SURVEY_MAX_ROWS:
        write_survey_xlsx(output, path.with_suffix(".xlsx"), responses, profile, seed)
        return
    f = RowFile(output, path, "survey_responses", profile, seed)
    f.write(responses)
    f.close()
