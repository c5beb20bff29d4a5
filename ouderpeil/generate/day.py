"""generate_day(): one extra school day of messages and events, for incremental runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ouderpeil.generate.calendar import school_calendar, school_year_of
from ouderpeil.generate.core import (
    DEFAULT_SCHOOL_YEARS,
    EVENT_ID_BLOCK,
    families_by_school,
    late_rows,
)
from ouderpeil.generate.dirt import REJECT_KINDS, DirtQuota
from ouderpeil.generate.events import bad_address_families, make_events
from ouderpeil.generate.families import make_families
from ouderpeil.generate.messages import make_messages
from ouderpeil.generate.output import Output, RowFile
from ouderpeil.generate.rng import stream
from ouderpeil.generate.scales import get_scale
from ouderpeil.generate.schools import make_schools
from ouderpeil.generate.webhooks import event_lines
from ouderpeil.generate.writers import JsonlWriter


def resolve_day(day, school_years=DEFAULT_SCHOOL_YEARS) -> np.datetime64:
    """A date ('YYYY-MM-DD', date, datetime64) or a school-day number: n = the n-th school day
    of the last sample school year (1 = its first school day), so benchmarks can ask for
    "day 1, 2, 3 ..." without knowing the calendar."""
    if day is None:
        raise ValueError("generate_day needs a day: a date or a school-day number")
    if isinstance(day, (int, np.integer)) and not isinstance(day, bool):
        days = school_calendar(school_years[-1]).days
        if not 1 <= int(day) <= len(days):
            raise ValueError(f"school-day number {day} is outside 1..{len(days)}")
        return days[int(day) - 1]
    return np.datetime64(str(day)[:10], "D")


def generate_day(out_dir, scale: str = "small", seed: int = 1, day=None) -> dict:
    """One extra school day of new messages and their events (incremental-run benchmarks).

    Ids carry the date (MSG<yyyymmdd>-…, EVT<yyyymmdd>-…), so they never collide with the base
    data or with another day. A few messages of the day are held back to the next school day's
    file (their events are in this day's file: late events)."""
    school_years = DEFAULT_SCHOOL_YEARS
    day = resolve_day(day, school_years)
    sc = get_scale(scale)
    year = school_year_of(day)
    if year not in school_years:
        raise ValueError(f"{day} is outside the sample school years {school_years}")
    k = school_years.index(year)
    out = Path(out_dir)
    output = Output(out)
    head = dict(scale=sc.name, seed=seed, day=str(day), school_year=year)
    cal = school_calendar(year)
    pos = int(np.searchsorted(cal.days, day))
    if pos >= len(cal.days) or cal.days[pos] != day:
        # No school, no messages: nothing is written (an empty file would be quarantined).
        return output.summary(**head, school_day=False, messages=0, events=0)
    schools = make_schools(sc, seed)
    by_school = families_by_school(make_families(schools, seed, school_years))
    today = _day_messages(sc, schools, by_school, seed, k, year, day)
    # Yesterday's held-back messages arrive in today's file.
    yesterday = (
        _day_messages(sc, schools, by_school, seed, k, year, cal.days[pos - 1]) if pos > 0 else []
    )
    stamp = str(day).replace("-", "")

    messages = RowFile(
        output, out / "messages" / f"messages_day_{day}.csv", "messages", "canonical", seed
    )
    events = JsonlWriter(out / "message_events" / f"message_events_day_{day}.jsonl")
    quota = DirtQuota(REJECT_KINDS + ("duplicate_events", "out_of_order_events"))
    event_dirt: dict[str, int] = {}
    n_messages = n_events = 0
    for _, msgs, hold in yesterday:
        if len(hold):
            messages.write(msgs.iloc[hold], clean=True)
    for school, msgs, hold in today:
        kept = msgs.drop(index=msgs.index[hold]) if len(hold) else msgs
        messages.write(kept)
        ev = make_events(
            msgs,
            bad_address_families(by_school[school.school_index], seed, school.school_index),
            (school.school_index, str(day)),
            seed,
        )
        if len(hold):
            output.add_dirt("messages", {"late_messages": len(hold)})
            output.add_dirt(
                "message_events", {"late_events": int(np.isin(ev["message_row"], hold).sum())}
            )
        events.write(
            event_lines(
                stream(seed, "webhooks-day", school.school_index, str(day)),
                ev,
                msgs,
                f"EVT{stamp}-",
                (school.school_index + 1) * EVENT_ID_BLOCK,
                quota,
                event_dirt,
                late_messages=hold,
            )
        )
        n_messages += len(msgs)
        n_events += len(ev)
    messages.close()
    events.close()
    output.add_dirt("message_events", event_dirt)
    output.add_file(events.path, "message_events", "jsonl", "canonical", events.rows, "utf-8", None)
    return output.summary(**head, school_day=True, messages=n_messages, events=n_events)


def _day_messages(sc, schools, by_school, seed: int, k: int, year: str, day) -> list:
    """(school, messages, held-back rows) of every school on one day, in school order."""
    quota = DirtQuota(("late_messages",))
    out = []
    for school in schools.itertuples():
        fams = by_school.get(school.school_index)
        if fams is None:
            continue
        msgs = make_messages(school, fams, k, year, seed, sc.weekly_message_dose, only_day=day)
        hold = late_rows(stream(seed, "late-day", school.school_index, str(day)), len(msgs), quota)
        out.append((school, msgs, hold))
    return out
