"""The sample-data generator (ouderpeil.generate): determinism, sizes, formats, realism, dirt.

File-level checks read the written files back with their own small readers (profile YAML read
here, not the generator's inversion of it), so a generator that writes something its summary
does not claim is caught. Calibration and gradient checks use the generator's in-memory model
at board size, where sampling error is small enough to test against the monitor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml

from ouderpeil.contracts import SOURCES
from ouderpeil.generate import DIRT_RATES, SCALES, generate, generate_day
from ouderpeil.generate.calendar import holiday_dates

REPO = Path(__file__).resolve().parent.parent
PROFILES = REPO / "ouderpeil" / "profiles"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SEED = 7  # conftest's small_inbox uses seed 7 as well


# --------------------------------------------------------------------------- readers
def _profile(name: str) -> dict:
    return yaml.safe_load((PROFILES / f"{name}.yaml").read_text(encoding="utf-8"))


def _norm(x) -> str:
    return str(x).strip().casefold()


def _mappings(source: str) -> list[tuple[str, dict, dict]]:
    """(profile name, header -> canonical, canonical -> {label -> code}) of every profile."""
    out = [("canonical", {c: c for c in SOURCES[source].column_names}, {})]
    for name in ("generic_sis_nl", "generic_survey_nl"):
        spec = (_profile(name).get("sources") or {}).get(source)
        if not spec:
            continue
        values = {
            col: {_norm(k): str(v) for k, v in vals.items()}
            for col, vals in (spec.get("values") or {}).items()
        }
        if spec.get("codebook"):
            book = _profile(Path(spec["codebook"]).stem)
            for col, vals in book.items():
                values.setdefault(col, {_norm(k): str(v) for k, v in vals.items()})
        out.append((name, {_norm(h): c for h, c in spec["columns"].items()}, values))
    return out


def read_table(path: Path, source: str) -> tuple[str, pd.DataFrame, list[str]]:
    """(profile, canonical-named text frame with codes, raw header) of one CSV/XLSX file."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True).active
        rows = list(ws.iter_rows(values_only=True))
        header = [str(h) for h in rows[0]]
        raw = pd.DataFrame(rows[1:], columns=header, dtype=object)
        raw = raw.map(
            lambda v: (
                ""
                if v is None
                else (v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, dt.datetime) else str(v))
            )
        )
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
        first = text.split("\n", 1)[0]
        sep = ";" if first.count(";") > first.count(",") else ","
        import io

        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
        header = list(raw.columns)
    for name, columns, values in _mappings(source):
        if all(_norm(h) in columns or name != "canonical" for h in header) and set(
            SOURCES[source].required_columns
        ) <= {columns.get(_norm(h)) for h in header}:
            frame = pd.DataFrame({columns[_norm(h)]: raw[h] for h in header if _norm(h) in columns})
            for col, labels in values.items():
                if col in frame:
                    frame[col] = frame[col].map(
                        lambda v, labels=labels: labels.get(_norm(v), v) if v else v
                    )
            return name, frame, header
    raise AssertionError(f"{path.name}: header matches no profile: {header}")


def source_files(inbox: Path, source: str) -> list[Path]:
    return sorted(p for p in (inbox / source).iterdir() if p.is_file())


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def parse_ts(value: str, profile: str) -> dt.datetime | None:
    """A timestamp cell in the file's format, None when it is not a valid date."""
    fmts = (
        ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
        if profile == "canonical"
        else ("%d-%m-%Y %H:%M", "%Y-%m-%d %H:%M:%S")
    )
    for f in fmts:
        try:
            return dt.datetime.strptime(value, f)
        except (ValueError, TypeError):
            continue
    return None


def parse_date(value: str, profile: str) -> dt.date | None:
    for f in ("%Y-%m-%d",) if profile == "canonical" else ("%d-%m-%Y",):
        try:
            return dt.datetime.strptime(value, f).date()
        except (ValueError, TypeError):
            return None
    return None


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen_small")
    return out, generate(out, scale="small", seed=SEED)


@pytest.fixture(scope="module")
def board_model():
    """Board-scale schools and families in memory (no files): enough respondents and families
    to test calibration and gradients within sampling error."""
    from ouderpeil.generate.core import DEFAULT_SCHOOL_YEARS
    from ouderpeil.generate.families import make_families
    from ouderpeil.generate.schools import make_schools

    schools = make_schools(SCALES["board"], 11)
    families = make_families(schools, 11, DEFAULT_SCHOOL_YEARS)
    return schools, families


@pytest.fixture(scope="module")
def board_contacts(board_model) -> pd.DataFrame:
    from ouderpeil.generate.contacts import make_contacts

    schools, families = board_model
    parts = []
    for school in schools.itertuples():
        c = make_contacts(
            school, families[families.school_index == school.school_index], 0, "2024-2025", 11
        )
        parts.append(c.assign(sector=school.sector))
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_bytes(small_run, small_inbox):
    out, _ = small_run
    assert _hashes(out) == _hashes(small_inbox)


def test_other_seed_gives_other_data_through_the_cli(small_run, tmp_path, capsys):
    from ouderpeil.cli import main

    assert (
        main(["generate", "--scale", "small", "--seed", str(SEED + 1), "--out", str(tmp_path)]) == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["seed"] == SEED + 1
    ours, theirs = _hashes(small_run[0]), _hashes(tmp_path)
    assert ours.keys() == theirs.keys()
    assert all(ours[k] != theirs[k] for k in ours), "every file should change with the seed"


# --------------------------------------------------------------------------- sizes
def test_scales_have_the_documented_sizes():
    from ouderpeil.generate.schools import make_schools

    small, board, region = SCALES["small"], SCALES["board"], SCALES["region"]
    assert small.schools == {"po": 1, "vo": 1, "mbo": 1}
    assert small.expected_families == 600
    assert board.n_schools == 30 and 9_000 <= board.expected_families <= 11_000
    assert region.n_schools == 300 and 90_000 <= region.expected_families <= 110_000
    for name, boards in (("small", (1, 2)), ("board", (1, 5)), ("region", (20, 60))):
        schools = make_schools(SCALES[name], 1)
        assert len(schools) == SCALES[name].n_schools
        assert schools["school_id"].is_unique
        assert boards[0] <= schools["board_id"].nunique() <= boards[1]
        assert (
            abs(schools["size"].sum() - SCALES[name].expected_families)
            <= 0.02 * SCALES[name].expected_families
        )


def test_board_scale_sends_about_a_million_messages(board_model):
    """Messages only, in memory: the board benchmark's ~1 M messages."""
    from ouderpeil.generate.messages import make_messages

    schools, families = board_model
    total = sum(
        len(
            make_messages(
                s,
                families[families.school_index == s.school_index],
                k,
                y,
                11,
                SCALES["board"].weekly_message_dose,
            )
        )
        for s in schools.itertuples()
        for k, y in enumerate(("2024-2025", "2025-2026"))
    )
    assert 800_000 <= total <= 1_300_000


def test_small_summary_matches_the_files(small_run):
    out, summary = small_run
    assert summary["schools"] == 3 and summary["boards"] in (1, 2)
    assert 550 <= summary["families"] <= 1100  # three school years (the current one in part)
    for f in summary["files"]:
        path = out / f["path"]
        if f["format"] == "jsonl":
            n = len(read_events(path))
        else:
            n = len(read_table(path, f["source"])[1])
        assert n == f["rows"], f["path"]
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert written == {f["path"] for f in summary["files"]}
    for source in SOURCES:
        assert summary["rows"][source] == sum(
            f["rows"] for f in summary["files"] if f["source"] == source
        )


# --------------------------------------------------------------------------- formats
def test_files_come_in_canonical_and_dutch_formats(small_run):
    out, summary = small_run
    profiles = defaultdict(set)
    for f in summary["files"]:
        profiles[f["source"]].add(f["profile"])
    assert profiles["schools"] == {"generic_sis_nl"}
    for source in ("families", "contact_logs", "messages"):
        assert profiles[source] == {"canonical", "generic_sis_nl"}, source
    assert profiles["survey_responses"] == {"canonical", "generic_survey_nl"}
    assert any(f["format"] == "xlsx" for f in summary["files"])

    # The Dutch SIS export: Windows-1252, ';', CRLF, Dutch dates, decimal comma, labels.
    raw = (out / "contact_logs" / "contact_logs_2024-2025.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert text.startswith("Contactnummer;") and "\r\n" in text and "Geïnitieerd door" in text
    assert re.search(r";\d\d-\d\d-20\d\d \d\d:\d\d;Tienminutengesprek;", text)
    schools = (out / "schools" / "schools.csv").read_bytes().decode("cp1252")
    assert re.search(r";\d\d,\d\d;", schools), "schoolweging with a decimal comma"


def test_dutch_exports_carry_free_text_the_loader_must_ignore(small_run):
    out, _ = small_run
    for path, source in (
        (out / "contact_logs" / "contact_logs_2024-2025.csv", "contact_logs"),
        (out / "families" / "families_2025-2026.csv", "families"),
        (out / "messages" / "messages_2025-2026.csv", "messages"),
    ):
        profile, _, header = read_table(path, source)
        assert profile == "generic_sis_nl"
        ignored = _profile("generic_sis_nl")["sources"][source]["ignore"]
        present = [h for h in ignored if h in header]
        assert len(present) >= 3, (path.name, header)
        import io

        raw = pd.read_csv(
            io.StringIO(path.read_bytes().decode("cp1252")),
            sep=";",
            dtype=str,
            keep_default_na=False,
        )
        for h in present:
            assert (raw[h] != "").mean() > 0.5, (path.name, h)
    events = read_events(out / "message_events" / "message_events_2024-2025.jsonl")
    assert all(set(SOURCES["message_events"].column_names) <= e.keys() for e in events)
    assert any(str(e.get("recipient", "")).startswith("+316") for e in events)


def test_event_timestamps_carry_the_amsterdam_offset(small_run):
    out, _ = small_run
    seen = set()
    for e in read_events(out / "message_events" / "message_events_2024-2025.jsonl"):
        try:
            t = dt.datetime.fromisoformat(e["occurred_at"])
        except (TypeError, ValueError):
            continue  # deliberately bad dates
        assert t.utcoffset() == t.astimezone(AMSTERDAM).utcoffset(), e["occurred_at"]
        seen.add(e["occurred_at"][-6:])
    assert seen == {"+01:00", "+02:00"}


# --------------------------------------------------------------------------- calendar
def test_no_messages_or_contacts_on_holidays_or_weekends(small_run):
    out, _ = small_run
    closed = set()
    for year in ("2024-2025", "2025-2026"):
        closed |= {d.astype(dt.date) for d in holiday_dates(year)}
    christmas = {dt.date(2024, 12, 21) + dt.timedelta(days=i) for i in range(16)}
    assert christmas <= closed  # the calendar itself knows the kerstvakantie
    checked = 0
    for source, column in (("messages", "sent_at"), ("contact_logs", "contact_at")):
        for path in source_files(out, source):
            profile, frame, _ = read_table(path, source)
            for value in frame[column]:
                t = parse_ts(value, profile)
                if t is None:
                    continue
                checked += 1
                assert t.date() not in closed, (path.name, value)
                assert t.weekday() < 5, (path.name, value)
    assert checked > 50_000


# --------------------------------------------------------------------------- dirt
def _count_file_dirt(path: Path, source: str) -> dict[str, int]:
    """Dirt found in one CSV/XLSX file, by reading it (not from the summary)."""
    from ouderpeil.generate.dirt import BAD_DATE_COLUMN, MISSING_REQUIRED_COLUMN, UNKNOWN_LABEL

    profile, frame, _ = read_table(path, source)
    key = SOURCES[source].key
    counts = {}
    if source == "contact_logs":
        counts["duplicate_contact_rows"] = int(frame.duplicated(list(key)).sum())
    label_col = UNKNOWN_LABEL[source][0]
    codes = {str(c) for c in SOURCES[source].column(label_col).codes}
    counts["unknown_labels"] = int((~frame[label_col].isin(codes | {""})).sum())
    date_col = BAD_DATE_COLUMN[source]
    parse = parse_date if SOURCES[source].column(date_col).type == "date" else parse_ts
    counts["bad_dates"] = int(sum(1 for v in frame[date_col] if v and parse(v, profile) is None))
    counts["missing_required"] = int((frame[MISSING_REQUIRED_COLUMN[source]] == "").sum())
    return counts


def test_dirt_in_the_files_is_what_the_summary_says(small_run):
    out, summary = small_run
    found = defaultdict(lambda: defaultdict(int))
    for source in ("families", "contact_logs", "messages", "survey_responses"):
        for path in source_files(out, source):
            for kind, n in _count_file_dirt(path, source).items():
                found[kind][source] += n
    for kind in ("unknown_labels", "bad_dates", "missing_required", "duplicate_contact_rows"):
        for source, n in found[kind].items():
            assert summary["dirt"][kind].get(source, 0) == n, (kind, source)

    # Events: duplicates, reject faults, out-of-order and late events, read from the JSONL.
    message_file = {}
    for path in source_files(out, "messages"):
        for mid in read_table(path, "messages")[1]["message_id"]:
            message_file[mid] = path.name
    dup = ooo = late = unknown = bad = missing = 0
    for path in source_files(out, "message_events"):
        seen, latest = set(), {}
        year = path.stem.split("_")[-1]
        for e in read_events(path):
            if e["event_id"] in seen:
                dup += 1
                continue
            seen.add(e["event_id"])
            unknown += e["event_type"] not in SOURCES["message_events"].column("event_type").codes
            mid = e["message_id"]
            if mid is None:
                missing += 1
                continue
            try:
                t = dt.datetime.fromisoformat(e["occurred_at"])
            except ValueError:
                bad += 1
                continue
            if mid in latest and t < latest[mid]:
                ooo += 1
            latest[mid] = max(t, latest.get(mid, t))
            if message_file.get(mid, "") > f"messages_{year}.csv":
                late += 1
    got = summary["dirt"]
    assert got["duplicate_events"]["message_events"] == dup
    assert got["out_of_order_events"]["message_events"] == ooo
    assert got["late_events"]["message_events"] == late > 0
    assert got["unknown_labels"]["message_events"] == unknown
    assert got["bad_dates"]["message_events"] == bad
    assert got["missing_required"]["message_events"] == missing
    assert summary["expected_rejects"]["message_events"] == unknown + bad + missing


def test_dirt_rates_are_the_documented_ones(small_run):
    """Each kind of dirt is max(1, round(rate x rows)) per file; docs/SAMPLE_DATA.md lists the
    same rates as dirt.py."""
    _, summary = small_run
    rows = summary["rows"]
    n_files = defaultdict(int)
    for f in summary["files"]:
        n_files[f["source"]] += 1
    for kind, per_source in summary["dirt"].items():
        if kind == "late_events":
            continue
        rate = DIRT_RATES[kind]
        for source, n in per_source.items():
            base = (
                rows[source]
                - summary["dirt"]["duplicate_contact_rows"].get(source, 0)
                - summary["dirt"]["duplicate_events"].get(source, 0)
            )
            if kind == "late_messages":  # only years before the last have a later file
                base = n + sum(
                    f["rows"]
                    for f in summary["files"]
                    if f["path"].startswith("messages/messages_")
                    and not f["path"].endswith(f"{summary['school_years'][-1]}.csv")
                )
            expected = rate * base
            # rounding per file and the minimum of one per file
            assert expected - n_files[source] <= n <= expected + 2 * n_files[source], (
                kind,
                source,
                n,
                expected,
            )
    doc = (REPO / "docs" / "SAMPLE_DATA.md").read_text(encoding="utf-8")
    for kind, rate in DIRT_RATES.items():
        pct = f"{rate * 100:g}"
        assert re.search(rf"`{kind}`\s*\|\s*{re.escape(pct)}\s*%", doc), (kind, pct)


def test_late_messages_arrive_in_the_next_file(small_run):
    out, summary = small_run
    early = 0
    for year in summary["school_years"][1:]:
        profile, later, _ = read_table(out / "messages" / f"messages_{year}.csv", "messages")
        sent = [parse_ts(v, profile) for v in later["sent_at"]]
        early += sum(1 for t in sent if t is not None and t < dt.datetime(int(year[:4]), 8, 1))
    assert early == summary["dirt"]["late_messages"]["messages"] >= 1


def test_calibration_targets_are_the_national_reference():
    """The generator's targets (monitor.py) and the dashboards' reference line (dbt seed) are
    the same 2014 figures; a drift between the two would make the calibration meaningless."""
    from ouderpeil.generate.monitor import MONITOR_2014

    seed = pd.read_csv(REPO / "dbt_project" / "seeds" / "national_reference_2014.csv")
    ref = {(r.indicator_code, r.sector): r.reference_value for r in seed.itertuples()}
    ours = {(code, sector): v for code, by in MONITOR_2014.items() for sector, v in by.items()}
    assert ours.keys() == ref.keys()
    for key, value in ours.items():
        assert value == pytest.approx(ref[key]), key


def test_holidays_include_the_dbt_holiday_seed():
    """Messages are only sent outside the holidays dbt uses for school weeks (region midden)."""
    seed = pd.read_csv(REPO / "dbt_project" / "seeds" / "school_holidays.csv")
    for row in seed[
        (seed.region == "midden") & seed.school_year.isin(["2024-2025", "2025-2026"])
    ].itertuples():
        days = pd.date_range(row.start_date, row.end_date).date
        ours = {d.astype(dt.date) for d in holiday_dates(row.school_year)}
        weekdays = {
            d
            for d in days
            if d.weekday() < 5
            and str(d) >= row.school_year[:4] + "-08-01"
            and str(d) <= row.school_year[5:] + "-07-31"
        }
        assert weekdays <= ours, (row.holiday, sorted(weekdays - ours)[:3])


# --------------------------------------------------------------------------- realism
def _wilson_ok(successes: float, n: int, target: float, z: float = 3.5) -> bool:
    se = math.sqrt(target * (1 - target) / n)
    return abs(successes / n - target) <= z * se + 0.005


def test_survey_sector_shares_match_the_monitor(board_model):
    from ouderpeil.generate.monitor import COMM_GRADE_MEAN, MONITOR_2014, TIP_USEFULNESS_DETAIL
    from ouderpeil.generate.surveys import make_survey

    schools, families = board_model
    r = pd.concat(
        [
            make_survey(schools, families, k, y, 11)
            for k, y in enumerate(("2024-2025", "2025-2026"))
        ],
        ignore_index=True,
    )
    indicators = {
        "talk_daily": lambda d: (d.q_talk_school == "dagelijks", d.q_talk_school.notna()),
        "read_aloud_weekly": lambda d: (
            d.q_read_aloud.isin(["dagelijks", "wekelijks"]),
            d.q_read_aloud.notna(),
        ),
        "homework_help_weekly": lambda d: (
            d.q_homework_help.isin(["dagelijks", "wekelijks"]),
            d.q_homework_help.notna() & (d.q_homework_help != "nvt"),
        ),
        "tips_received": lambda d: (d.q_support_tips == 1, d.q_support_tips.notna()),
        "support_no_contact": lambda d: (d.q_support_none == 1, d.q_support_none.notna()),
        "tip_usefulness": lambda d: (
            d.q_tips_useful.isin(["heel_veel", "tamelijk_veel"]),
            d.q_tips_useful.notna(),
        ),
        "contact_insufficient": lambda d: (
            d.q_contact_enough == "onvoldoende",
            d.q_contact_enough.isin(["voldoende", "onvoldoende"]),
        ),
        "can_contribute": lambda d: (d.q_can_contribute >= 4, d.q_can_contribute.notna()),
        "teacher_open": lambda d: (d.q_teacher_open >= 4, d.q_teacher_open.notna()),
        "expectations_clear": lambda d: (
            d.q_expectations_clear >= 4,
            d.q_expectations_clear.notna(),
        ),
        "helps_school": lambda d: (d.q_helps_school == 1, d.q_helps_school.notna()),
    }
    for code, by_sector in MONITOR_2014.items():
        for sector, target in by_sector.items():
            d = r[r.sector == sector]
            hit, base = indicators[code](d)
            n = int(base.sum())
            assert n >= 150, (code, sector, n)
            assert _wilson_ok(float((hit & base).sum()), n, target), (
                code,
                sector,
                round(float((hit & base).sum()) / n, 3),
                target,
            )
    for sector, target in COMM_GRADE_MEAN.items():
        g = r.loc[r.sector == sector, "q_comm_grade"]
        assert abs(g.mean() - target) <= 3.5 * g.std() / math.sqrt(len(g)), (sector, g.mean())
    # the detail of table 6.6: mbo has (almost) no "weinig of niets"
    mbo_tips = r[(r.sector == "mbo") & r.q_tips_useful.notna()]
    assert (mbo_tips.q_tips_useful == "weinig_niets").mean() <= TIP_USEFULNESS_DETAIL["mbo"][
        3
    ] + 0.01
    # items outside their sector stay empty
    assert r.loc[r.sector != "po", "q_read_aloud"].isna().all()
    assert r.loc[r.sector != "vo", "q_homework_help"].isna().all()


def test_survey_has_an_ses_gradient_and_selective_response(board_model):
    from ouderpeil.generate.contacts import enrolled_in_year
    from ouderpeil.generate.surveys import make_survey

    schools, families = board_model
    r = make_survey(schools, families, 0, "2024-2025", 11)
    by_ses = r.groupby("parent_education")
    assert by_ses.q_support_none.mean()["laag"] > by_ses.q_support_none.mean()["hoog"] + 0.05
    insufficient = (
        r[r.q_contact_enough != "weet_niet"]
        .groupby("parent_education")
        .q_contact_enough.apply(lambda s: (s == "onvoldoende").mean())
    )
    assert insufficient["laag"] > insufficient["hoog"]
    enrolled = families[enrolled_in_year(families, "2024-2025")]
    rate = r.parent_education.value_counts() / enrolled.parent_education.value_counts()
    assert rate["laag"] < 0.75 * rate["hoog"]


def test_survey_answers_follow_the_familys_contacts(board_contacts, board_model):
    """With the year's contacts known, parents without any held contact find contact
    insufficient more often, while the sector shares stay at the monitor's figures."""
    from ouderpeil.generate.core import _activity
    from ouderpeil.generate.monitor import MONITOR_2014
    from ouderpeil.generate.surveys import make_survey

    schools, families = board_model
    no_messages = pd.DataFrame(
        {"purpose": pd.Series(dtype=object), "family_index": pd.Series(dtype="int64")}
    )
    activity = _activity(board_contacts, no_messages)
    r = make_survey(schools, families, 0, "2024-2025", 11, activity)
    answered = r[r.q_contact_enough != "weet_niet"].copy()
    answered["no_contact"] = answered.family_index.map(activity.held_contacts).fillna(0) == 0
    insufficient = answered.q_contact_enough == "onvoldoende"
    assert answered.no_contact.sum() >= 30
    assert (
        insufficient[answered.no_contact].mean() > insufficient[~answered.no_contact].mean() + 0.1
    )
    for sector, target in MONITOR_2014["contact_insufficient"].items():
        s = answered.sector == sector
        assert _wilson_ok(float(insufficient[s].sum()), int(s.sum()), target), sector


def test_low_ses_families_are_reached_less(board_contacts, board_model):
    from ouderpeil.generate.contacts import enrolled_in_year

    _, families = board_model
    c = board_contacts
    enrolled = families[enrolled_in_year(families, "2024-2025")]
    individual = c[(c.status == "gehouden") & ~c.channel.isin(["ouderavond", "informatieavond"])]
    reached = enrolled.assign(reached=enrolled.family_ref.isin(individual.family_ref))
    reach = reached[reached.sector != "po"].groupby("parent_education").reached.mean()
    assert reach["laag"] < reach["hoog"] - 0.03
    scheduled = c[
        ~c.channel.isin(["email", "portaal", "informeel"])
        & c.status.isin(["gehouden", "niet_verschenen"])
    ]
    no_show = scheduled.groupby("parent_education").status.apply(
        lambda s: (s == "niet_verschenen").mean()
    )
    assert no_show["laag"] > 2 * no_show["hoog"]
    held = c[c.status == "gehouden"].groupby("family_ref").size()
    per_family = enrolled.assign(n=enrolled.family_ref.map(held).fillna(0))
    non_western = per_family.home_language.isin(["ar", "tr", "ber", "ti", "pap"])
    for sector in ("po", "vo"):  # monitor 2014: more contact with non-western parents
        s = per_family.sector == sector
        assert per_family[s & non_western].n.mean() > per_family[s & ~non_western].n.mean()
    assert (
        c.loc[c.interpreter.astype(bool)]
        .family_ref.isin(enrolled.loc[enrolled.home_language == "nl", "family_ref"])
        .sum()
        == 0
    )


def test_contacts_follow_the_school_year(board_contacts, board_model):
    c = board_contacts
    month = c.contact_at.dt.month
    per_sector = c.groupby("sector").size() / board_model[1].groupby("sector").size()
    assert per_sector["po"] > 2 * per_sector["vo"] > per_sector["mbo"]  # monthly vs yearly
    talks = month[c.channel == "tienminutengesprek"].value_counts()
    assert talks.get(11, 0) > 3 * talks.get(1, 0) and talks.get(3, 0) > 3 * talks.get(5, 0)
    advice = c[c.channel == "schooladviesgesprek"]
    assert set(advice.sector) == {"po"}
    assert advice.contact_at.dt.month.isin([1, 2, 3]).mean() > 0.95


def test_messages_read_less_by_low_ses_and_sms_fails_most(small_run):
    out, _ = small_run
    profile, fam, _ = read_table(out / "families" / "families_2024-2025.csv", "families")
    ses = dict(zip(fam.family_ref, fam.parent_education))
    _, msgs, _ = read_table(out / "messages" / "messages_2024-2025.csv", "messages")
    types = defaultdict(set)
    for e in read_events(out / "message_events" / "message_events_2024-2025.jsonl"):
        types[e["message_id"]].add(e["event_type"])
    msgs = msgs.assign(
        ses=msgs.family_ref.map(ses),
        delivered=msgs.message_id.map(lambda m: "delivered" in types[m]),
        read=msgs.message_id.map(lambda m: "read" in types[m]),
    )
    readable = msgs[msgs.delivered & msgs.channel.isin(["app", "whatsapp", "email"])]
    read = readable.groupby("ses").read.mean()
    assert read["laag"] < read["hoog"] - 0.1
    assert not msgs[msgs.channel == "sms"].read.any()  # SMS reports no reads
    delivery = msgs.groupby("channel").delivered.mean()
    assert delivery["sms"] == delivery.min()
    rated = {m for m, t in types.items() if "feedback" in t} & set(msgs.message_id)
    not_tips = set(msgs.message_id[~msgs.purpose.isin(["tip", "nieuwsbrief"])])  # + dirt label
    assert rated and not rated & not_tips


# --------------------------------------------------------------------------- one extra day
def test_generate_day_adds_new_ids_on_that_day(small_run, tmp_path):
    out, _ = small_run
    base_ids = set()
    for path in source_files(out, "messages"):
        base_ids |= set(read_table(path, "messages")[1].message_id)
    base_events = {
        e["event_id"] for p in source_files(out, "message_events") for e in read_events(p)
    }

    day2 = generate_day(tmp_path / "d2", scale="small", seed=SEED, day="2026-09-02")
    generate_day(tmp_path / "d3", scale="small", seed=SEED, day="2026-09-03")
    assert day2["messages"] > 50 and day2["school_day"]
    _, m2, _ = read_table(tmp_path / "d2" / "messages" / "messages_day_2026-09-02.csv", "messages")
    _, m3, _ = read_table(tmp_path / "d3" / "messages" / "messages_day_2026-09-03.csv", "messages")
    e2 = read_events(tmp_path / "d2" / "message_events" / "message_events_day_2026-09-02.jsonl")
    assert not set(m2.message_id) & base_ids and not set(m3.message_id) & base_ids
    assert not {e["event_id"] for e in e2} & base_events
    dates = {v[:10] for v in m3.sent_at if parse_ts(v, "canonical")}
    assert dates <= {"2026-09-03", "2026-09-02"}
    # the messages held back from day 2 (events already in day 2's file) arrive with day 3
    held = {e["message_id"] for e in e2} - set(m2.message_id) - {None}
    assert held and held <= set(m3.message_id)
    assert day2["dirt"]["late_messages"]["messages"] == len(held)
    # same day twice: same bytes; a holiday: nothing at all
    again = generate_day(tmp_path / "again", scale="small", seed=SEED, day="2026-09-02")
    assert _hashes(tmp_path / "again") == _hashes(tmp_path / "d2") and again["rows"] == day2["rows"]
    holiday = generate_day(tmp_path / "h", scale="small", seed=SEED, day="2026-10-21")
    assert holiday["files"] == [] and not (tmp_path / "h").exists()
    by_number = generate_day(tmp_path / "n", scale="small", seed=SEED, day=3)
    assert by_number["day"] == "2026-09-02"


# --------------------------------------------------------------------------- with the loader
def test_loader_rejects_exactly_the_dirt_the_summary_reports(small_run, loaded_settings):
    """conftest loads the same seed's small inbox: every dirty row is rejected, nothing else."""
    import duckdb

    _, summary = small_run
    con = duckdb.connect(str(loaded_settings.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT source, reason = 'duplicate_key', count(*) FROM raw.raw_rejects GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    rejects = {(source, dup): n for source, dup, n in rows}
    for source in SOURCES:
        assert rejects.get((source, False), 0) == summary["expected_rejects"][source], source
        duplicates = summary["dirt"]["duplicate_contact_rows"].get(source, 0) + summary["dirt"][
            "duplicate_events"
        ].get(source, 0)
        assert rejects.get((source, True), 0) == duplicates, source
