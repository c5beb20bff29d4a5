"""Dates, times and numbers: read right or rejected, never misread (issue 12, items 1 and 4).

The property test draws random days and times (seeded: the same cases on every run), writes
them in every format each profile accepts and in near misses of those formats, and loads them
through a real families / contact-log file per profile: every value must come out as the day
it means, or be rejected with a reason naming its row and column."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from loading_helpers import query, rejects_of, write

from ouderpeil.contracts import SOURCES
from ouderpeil.loading import load_file
from ouderpeil.loading.dates import DUTCH_MONTHS, check_formats
from ouderpeil.loading.profiles import load_profiles

FAMILY_HEADER = {  # header of a families file per profile (enrolled_from is the date under test)
    "canonical": "family_ref,school_id,enrolled_from,parent_education",
    "generic_sis_nl": "Gezinsnummer;BRIN-vestiging;Ingeschreven vanaf;Opleidingsniveau ouders",
}
CONTACT_HEADER = {
    "canonical": "contact_id,school_id,family_ref,contact_at,channel,initiated_by,status",
    "generic_sis_nl": "Contactnummer;BRIN-vestiging;Gezinsnummer;Datum/tijd;Soort contact;"
    "Geïnitieerd door;Status",
}
SEP = {"canonical": ",", "generic_sis_nl": ";"}
LOAD_DAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _fixed_load_day(monkeypatch):
    monkeypatch.setenv("OUDERPEIL_LOAD_DAY", LOAD_DAY.isoformat())


def spell(value: dt.datetime, fmt: str, month_name: int = 0) -> str:
    """``value`` written in strptime format ``fmt``, Dutch month names for %b / %B,
    unpadded day and month on odd days (exports write both)."""
    out = fmt
    if "%b" in out or "%B" in out:
        names = DUTCH_MONTHS[value.month - 1]
        out = out.replace("%b", names[month_name % len(names)]).replace("%B", names[0])
    pad = value.day % 2 == 0
    out = out.replace("%d", f"{value.day:02d}" if pad else str(value.day)).replace(
        "%m", f"{value.month:02d}" if pad else str(value.month)
    )
    return value.strftime(out)


def near_misses(value: dt.datetime, fmt: str) -> list[tuple[str, dt.datetime | None]]:
    """Spellings close to ``fmt``, each with the only moment it may be read as (None: it must
    be rejected). A near miss that is still an unambiguous spelling of the moment may be read
    (e.g. a four-digit year where the profile also has a %Y format) or rejected."""
    misses = []
    if "%Y" in fmt:  # a two-digit year where four are expected
        misses.append((spell(value, fmt.replace("%Y", "%y")), value))
    if "%y" in fmt:  # and four digits where two are expected
        misses.append((spell(value, fmt.replace("%y", "%Y")), value))
    if "%d" in fmt and "%m" in fmt and value.day > 12:  # month first: no such month
        swapped = fmt.replace("%d", "%_").replace("%m", "%d").replace("%_", "%m")
        misses.append((spell(value, swapped), None))
    misses.append((spell(value, fmt) + "x", None))
    misses.append((spell(value, fmt) + " 12", None))
    if "%d" in fmt:  # the 31st: no such day in February, April, June, September, November
        text = spell(value, fmt.replace("%d", "31"))
        misses.append((text, None if value.month in (2, 4, 6, 9, 11) else value.replace(day=31)))
    return misses


def declared_reading(text: str, formats) -> set:
    """What the profile's own formats say ``text`` means (strict pattern, then strptime)."""
    import re

    from ouderpeil.loading.dates import format_regex

    readings = set()
    for fmt in formats:
        if "%b" in fmt or "%B" in fmt or not re.fullmatch(format_regex(fmt), text, re.I):
            continue
        try:
            readings.add(dt.datetime.strptime(text, fmt))
        except ValueError:
            pass
    return readings


def _cases(formats, n: int, rng: random.Random, with_time: bool):
    cases = []
    for fmt in formats:
        for i in range(n):
            day = dt.date(2001, 1, 1) + dt.timedelta(days=rng.randrange(0, 9400))
            moment = dt.datetime.combine(
                day,
                dt.time(
                    rng.randrange(7, 22), rng.randrange(60), rng.randrange(60) if "%S" in fmt else 0
                ),
            )
            cases.append((spell(moment, fmt, i), moment, fmt))
            for text, truth in near_misses(moment, fmt):
                cases.append((text, truth, fmt + " (near miss)"))
    # Ambiguous on purpose: every case must be read as its truth or rejected, never otherwise.
    return cases


def _load(settings, source: str, profile: str, header: str, rows: list[str], name: str):
    text = header + "\n" + "\n".join(rows) + "\n"
    path = write(settings, source, name, text)
    result = load_file(settings, source, path)
    assert result.status == "loaded" and result.profile == profile, result
    assert result.rows_in == len(rows)
    return result


@pytest.mark.parametrize("profile", sorted(FAMILY_HEADER))
def test_every_date_format_of_a_profile_is_read_right_or_rejected(settings, profile):
    rng = random.Random(f"dates-{profile}")
    formats = load_profiles()["families"]
    formats = next(p for p in formats if p.profile == profile).date_formats
    cases = _cases(formats, 25, rng, with_time=False)
    sep = SEP[profile]
    code = "laag" if profile == "canonical" else "Laag"
    rows = [sep.join([f"F{i}", "12AB00", text, code]) for i, (text, _, _) in enumerate(cases)]
    _load(settings, "families", profile, FAMILY_HEADER[profile], rows, f"dates_{profile}.csv")
    loaded = dict(query(settings, "SELECT _row_number, enrolled_from FROM raw.families"))
    rejected = {r[0]: r for r in rejects_of(settings, f"dates_{profile}.csv")}
    for i, (text, truth, fmt) in enumerate(cases):
        row = i + 2
        if row in loaded:
            # Right, or (for a near miss) what one of the profile's declared formats says it
            # means: "23-01-02" written as yy-mm-dd is 23 January 2002 in a dd-mm-yy profile.
            declared = {r.date() for r in declared_reading(text, formats)}
            assert (truth is not None and loaded[row] == truth.date()) or (
                "near miss" in fmt and declared == {loaded[row]}
            ), (text, fmt, loaded[row])
        else:
            assert row in rejected and rejected[row][1] == "enrolled_from", (text, fmt)
            if "near miss" not in fmt and truth is not None:
                pytest.fail(f"{text!r} ({fmt}) is a correct spelling but was rejected")


@pytest.mark.parametrize("profile", sorted(CONTACT_HEADER))
def test_every_timestamp_format_of_a_profile_is_read_right_or_rejected(settings, profile):
    rng = random.Random(f"timestamps-{profile}")
    formats = next(
        p for p in load_profiles()["contact_logs"] if p.profile == profile
    ).timestamp_formats
    cases = _cases(formats, 15, rng, with_time=True)
    sep = SEP[profile]
    labels = (
        ["telefoon", "ouder", "gehouden"]
        if profile == "canonical"
        else ["Telefonisch", "Ouder", "Gehouden"]
    )
    rows = [
        sep.join([f"C{i}", "12AB00", f"F{i}", text, *labels])
        for i, (text, _, _) in enumerate(cases)
    ]
    _load(settings, "contact_logs", profile, CONTACT_HEADER[profile], rows, f"ts_{profile}.csv")
    loaded = dict(query(settings, "SELECT _row_number, contact_at FROM raw.contact_logs"))
    for i, (text, truth, fmt) in enumerate(cases):
        row = i + 2
        if row in loaded:
            if "near miss" in fmt and declared_reading(text, formats) == {loaded[row]}:
                continue  # what the profile's declared format says it means
            assert truth is not None, (text, fmt, loaded[row])
            # a spelling without seconds is read at :00; the day and minute must be right
            assert loaded[row] == truth.replace(second=loaded[row].second) and (
                loaded[row].second in (0, truth.second)
            ), (text, fmt, loaded[row])
        elif "near miss" not in fmt:
            pytest.fail(f"{text!r} ({fmt}) is a correct spelling but was rejected")


def test_a_profile_that_would_guess_day_or_month_first_is_refused():
    with pytest.raises(ValueError, match="day-first and month-first"):
        check_formats("ambiguous", ["%d/%m/%Y", "%m/%d/%Y"])
    with pytest.raises(ValueError, match="not supported"):
        check_formats("odd", ["%j/%Y"])
    check_formats("fine", ["%d-%m-%Y", "%Y-%m-%d", "%d.%m.%y"])  # different shapes


def test_two_digit_years_per_profile(settings):
    """generic_sis_nl reads 31-7-26 as 2026 (pivot 2000-2068); the canonical profile rejects
    it; 31-7-95 (1995) is outside the plausible window in both."""
    _load(
        settings,
        "families",
        "generic_sis_nl",
        FAMILY_HEADER["generic_sis_nl"],
        ["F1;12AB00;31-7-26;Laag", "F2;12AB00;31-7-95;Laag"],
        "sis.csv",
    )
    _load(
        settings,
        "families",
        "canonical",
        FAMILY_HEADER["canonical"],
        ["F3,12AB00,31-7-26,laag", "F4,12AB00,2026-07-31,laag"],
        "canon.csv",
    )
    assert query(
        settings, "SELECT _file_name, _row_number, enrolled_from FROM raw.families ORDER BY 1, 2"
    ) == [("canon.csv", 3, dt.date(2026, 7, 31)), ("sis.csv", 2, dt.date(2026, 7, 31))]
    assert [r[1:] for r in rejects_of(settings, "sis.csv")] == [
        ("enrolled_from", "31-7-95", "implausible_date")
    ]
    assert [r[1:] for r in rejects_of(settings, "canon.csv")] == [
        ("enrolled_from", "31-7-26", "invalid_date")
    ]


def test_implausible_dates_are_rejected_per_row_and_the_rest_loads(settings):
    rows = [
        "C1,12AB00,F1,1900-03-01 10:00,telefoon,ouder,gehouden",
        "C2,12AB00,F2,2030-03-01 10:00,telefoon,ouder,gehouden",
        "C3,12AB00,F3,2099-03-01 10:00,telefoon,ouder,gehouden",
        "C4,12AB00,F4,2026-12-01 23:30,telefoon,ouder,gehouden",  # the day of the load
        "C5,12AB00,F5,2026-11-30 10:00,telefoon,ouder,gehouden",
        "C6,12AB00,F6,2026-12-02 00:01,telefoon,ouder,gehouden",
    ]  # after the load
    result = _load(
        settings, "contact_logs", "canonical", CONTACT_HEADER["canonical"], rows, "c.csv"
    )
    assert (result.rows_loaded, result.rows_rejected) == (2, 4)
    assert [r[:2] + r[3:] for r in rejects_of(settings, "c.csv")] == [
        (2, "contact_at", "implausible_date"),
        (3, "contact_at", "implausible_date"),
        (4, "contact_at", "implausible_date"),
        (7, "contact_at", "implausible_date"),
    ]
    # An enrolment may end years ahead, not in 2099 (an "open end" placeholder is not a date).
    _load(
        settings,
        "families",
        "canonical",
        "family_ref,school_id,enrolled_from,enrolled_to,parent_education",
        [
            "F1,12AB00,2026-08-20,2034-07-31,laag",
            "F2,12AB00,2026-08-20,2099-12-31,laag",
            "F3,12AB00,2027-08-20,,laag",
            "F4,12AB00,2028-08-20,,laag",
        ],
        "f.csv",
    )
    assert [r[:2] for r in rejects_of(settings, "f.csv")] == [
        (3, "enrolled_to"),
        (5, "enrolled_from"),
    ]


def test_dst_gap_and_repeated_hour_are_rejected(settings):
    """29 March 2026 02:00-02:59 does not exist in Europe/Amsterdam; 25 October 2026
    02:00-02:59 happens twice. Both are rejected; the minutes around them load."""
    rows = [
        f"C{i},12AB00,F{i},{t},telefoon,ouder,gehouden"
        for i, t in enumerate(
            [
                "2026-03-29 01:59",
                "2026-03-29 02:00",
                "2026-03-29 02:30",
                "2026-03-29 03:00",
                "2026-10-25 01:59",
                "2026-10-25 02:00",
                "2026-10-25 02:59",
                "2026-10-25 03:00",
                "2025-03-30 02:15",
                "2025-10-26 02:15",
                "2026-03-22 02:30",
            ]
        )
    ]
    _load(settings, "contact_logs", "canonical", CONTACT_HEADER["canonical"], rows, "dst.csv")
    assert [(r[0], r[3]) for r in rejects_of(settings, "dst.csv")] == [
        (3, "nonexistent_local_time"),
        (4, "nonexistent_local_time"),
        (7, "ambiguous_local_time"),
        (8, "ambiguous_local_time"),
        (10, "nonexistent_local_time"),
        (11, "ambiguous_local_time"),
    ]
    assert query(settings, "SELECT count(*) FROM raw.contact_logs")[0][0] == 5


def test_dutch_spellings_excel_serials_and_numbers(settings, schools_loaded):
    """3 okt 2026, 3.10.2026, 46298 (Excel serial), 10.30, 1.234,5 are read; 1.234 and
    41037.5 are not: each could be more than one number."""
    header = (
        "Contactnummer;BRIN-vestiging;Gezinsnummer;Datum/tijd;Soort contact;"
        "Geïnitieerd door;Status;Duur (min)"
    )
    rows = [
        "K1;12AB00;F1;3 okt 2026 10:30;Telefonisch;Ouder;Gehouden;15",
        "K2;12AB00;F1;03.10.2026 10.30;Telefonisch;Ouder;Gehouden;15,0",
        "K3;12AB00;F1;46298,4375;Telefonisch;Ouder;Gehouden;15",
        "K4;12AB00;F1;3-10-2026 10.30;Telefonisch;Ouder;Gehouden;15.5",
        "K5;12AB00;F1;3 oct 2026 10:30;Telefonisch;Ouder;Gehouden;15",
    ]
    path = write(settings, "contact_logs", "nl.csv", header + "\n" + "\n".join(rows) + "\n")
    load_file(settings, "contact_logs", path)
    got = query(
        settings, "SELECT contact_id, contact_at, duration_min FROM raw.contact_logs ORDER BY 1"
    )
    assert got == [
        ("K1", dt.datetime(2026, 10, 3, 10, 30), 15),
        ("K2", dt.datetime(2026, 10, 3, 10, 30), 15),
    ]
    assert [r[:2] + r[3:] for r in rejects_of(settings, "nl.csv")] == [
        (4, "contact_at", "invalid_timestamp"),  # serial with a decimal comma: not a serial
        (5, "duration_min", "invalid_int"),  # 15.5 minutes is not a whole number
        (6, "contact_at", "invalid_timestamp"),
    ]  # "oct" is not Dutch
    schools = (
        "BRIN-vestiging;Naam school;Sector;Bestuursnummer;Schoolweging\n"
        "77AA00;A;PO;41000;1.234,5\n77AB00;B;PO;41000;1.234\n77AC00;C;PO;41000;31,25\n"
        "77AD00;D;PO;41000;31.25\n"
    )
    path = write(settings, "schools", "s2.csv", schools)
    load_file(settings, "schools", path)
    assert query(
        settings,
        "SELECT school_id, schoolweging FROM raw.schools WHERE school_id LIKE '77%' ORDER BY 1",
    ) == [("77AC00", 31.25), ("77AD00", 31.25)]
    assert [r[1:] for r in rejects_of(settings, "s2.csv")] == [
        ("schoolweging", "1.234,5", "out_of_range"),
        ("schoolweging", "1.234", "invalid_decimal"),
    ]


def test_excel_serial_date_in_a_date_column(settings):
    _load(
        settings,
        "families",
        "generic_sis_nl",
        FAMILY_HEADER["generic_sis_nl"],
        ["F1;12AB00;46254;Laag", "F2;12AB00;46254.5;Laag", "F3;12AB00;3 aug. 2026;Laag"],
        "serial.csv",
    )
    assert query(settings, "SELECT _row_number, enrolled_from FROM raw.families ORDER BY 1") == [
        (2, dt.date(2026, 8, 20)),
        (4, dt.date(2026, 8, 3)),
    ]


def test_school_year_boundary_31_july_1_august():
    from ouderpeil.generate.calendar import school_year_of, year_bounds

    assert school_year_of(dt.date(2026, 7, 31)) == "2025-2026"
    assert school_year_of(dt.date(2026, 8, 1)) == "2026-2027"
    start, end = year_bounds("2026-2027")
    assert (str(start), str(end)) == ("2026-08-01", "2027-07-31")


def test_every_date_column_has_a_plausible_window():
    for source in SOURCES.values():
        for column in source.columns:
            if column.type in ("date", "timestamp", "timestamptz"):
                assert column.not_before and column.days_ahead is not None, column.name
