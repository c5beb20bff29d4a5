"""Which school years, and which of their months, a dbt build has to rebuild.

A day's loads touch one school year, yet a build of every year recomputes the messages, the
family-weeks and the message indicators of the whole history, so the daily build grew with the
history (region scale: 57 of the 98 s of dbt node time). The plan rebuilds only the school
years new loads touch, the way a backfill does (dbt macro ``build_school_years``): the
incremental indicator tables replace those years' rows and keep the others.

Every build that covered all loads up to some moment leaves a row in
``intermediate.int_build_watermark`` (built after every mart, so a failed build leaves none and
its loads are planned again). The next plan compares the loads since with that row:

* no earlier build, the dbt project changed (models, macros, seeds: a new holiday calendar
  changes old years), a new schools or families file (SES groups, enrolments and weights of
  every year), or no new load at all: every year;
* else the months of the new messages, of the messages new events belong to, of new contacts
  and survey responses, and of the rows of loads replaced since (a corrected file: the months
  its earlier content had), plus every month between the previous first or last activity date
  and the new one when new data moves it (the school-week calendar then changes: weeks that
  had not happened yet count from then on). A date also names the month of its school week
  (a week belongs to its Thursday's month), and the school years rebuilt are those of the
  months.

The per-message tables (int_messages, int_family_weeks) replace only the plan's months; every
other model rebuilds the plan's school years (dbt macros ``rebuilt_months`` and
``build_school_years``).

When the project is the one the last build ran, a one-task build also leaves out the seeds,
dbt's unit tests (fixed inputs: they test the project, and it has not changed; ~3.7 s of node
time in a board day) and the staging tables of schools, families, contacts and surveys that got
no new file (they are rebuilt in full from their raw table, so they would come out the same).

A year rebuilt needlessly costs time; a year missed would be wrong, so every doubt means more
years.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from ouderpeil.catalog import table_exists
from ouderpeil.config import Settings

WATERMARK = "intermediate.int_build_watermark"
# A new file of these changes SES groups, enrolments or weights of every school year.
EVERY_YEAR_SOURCES = frozenset({"schools", "families"})
# Staging tables rebuilt in full from their raw table: unchanged while no new file of their
# source came in (and the project is the same), so a planned build leaves them out.
STATIC_STAGING = {
    "schools": "stg_schools",
    "families": "stg_families",
    "contact_logs": "stg_contact_logs",
    "survey_responses": "stg_survey_responses",
}
# The dbt project files whose change can change any year's results.
PROJECT_PARTS = ("models", "macros", "seeds", "tests", "dbt_project.yml")

# What a build passes to dbt, as environment variables, not dbt vars: a var that changes (the
# load time does, every build) makes dbt parse the whole project again (~1.5 s at board
# scale); an env_var() only the files that read it. The dbt var school_year still works for a
# backfill by hand (macro build_school_years).
ENV_SCHOOL_YEARS = "OUDERPEIL_SCHOOL_YEARS"
ENV_BUILD_MONTHS = "OUDERPEIL_BUILD_MONTHS"
ENV_LOADED_UPTO = "OUDERPEIL_PLAN_LOADED_UPTO"
ENV_FINGERPRINT = "OUDERPEIL_PLAN_FINGERPRINT"
# Which BuildArgs field each of them carries.
ENV_FROM_ARGS = {
    ENV_SCHOOL_YEARS: "school_year",
    ENV_BUILD_MONTHS: "months",
    ENV_LOADED_UPTO: "loaded_upto",
    ENV_FINGERPRINT: "fingerprint",
}


@dataclass(frozen=True)
class BuildPlan:
    school_years: tuple[str, ...] | None  # None: every year
    reason: str
    loaded_upto: str | None  # the newest load the build covers (ISO timestamp)
    fingerprint: str  # of the dbt project
    # dbt selectors of nodes that need no rebuild: the seeds, the unit tests and the static
    # staging tables of sources without a new file, when the project is the one the last
    # build ran
    unchanged: tuple[str, ...] = ()
    # the months of school_years whose messages and family-weeks change; None: all of them
    months: tuple[str, ...] | None = None

    @property
    def school_year_var(self) -> str:
        """The dbt var school_year: the years separated by commas; '' (unset) for all."""
        return "" if self.school_years is None else ",".join(self.school_years)

    @property
    def months_var(self) -> str:
        return "" if self.months is None else ",".join(self.months)

    def describe(self) -> str:
        years = (
            "every school year"
            if self.school_years is None
            else "school year " + ", ".join(self.school_years)
        )
        if self.months is not None:
            years += " (messages of " + ", ".join(self.months) + ")"
        kept = f"; unchanged, not rebuilt: {', '.join(self.unchanged)}" if self.unchanged else ""
        return f"{years} ({self.reason}){kept}"


def project_fingerprint(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = project_dir / part
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def plan_build(settings: Settings) -> BuildPlan:
    fingerprint = project_fingerprint(settings.dbt_project_dir)

    def every_year(reason: str, upto: str | None = None, unchanged=()) -> BuildPlan:
        return BuildPlan(None, reason, upto, fingerprint, tuple(unchanged))

    if not settings.warehouse_path.exists():
        return every_year("no warehouse yet")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if not table_exists(con, "raw.raw_load_files"):
            return every_year("nothing loaded yet")
        upto = con.execute("SELECT max(loaded_at) FROM raw.raw_load_files").fetchall()[0][0]
        upto = upto.isoformat() if upto else None
        if not table_exists(con, WATERMARK):
            return every_year("no earlier build", upto)
        last = con.execute(
            f"SELECT loaded_upto, project_fingerprint, data_first_date, data_last_date "
            f"FROM {WATERMARK} ORDER BY built_at DESC, loaded_upto DESC LIMIT 1"
        ).fetchall()
        if not last or last[0][0] is None:
            return every_year("no earlier build", upto)
        last_upto, last_fingerprint, first_date, last_date = last[0]
        if last_fingerprint != fingerprint:
            return every_year("the dbt project changed since the last build", upto)
        new = dict(
            con.execute(
                "SELECT load_id, min(source) FROM raw.raw_load_files "
                "WHERE loaded_at > ? AND rows_loaded > 0 GROUP BY 1",
                [last_upto],
            ).fetchall()
        )
        unchanged = ["resource_type:seed", "resource_type:unit_test"] + [
            model for source, model in STATIC_STAGING.items() if source not in new.values()
        ]
        if not new:
            return every_year("no new load since the last build", upto, unchanged)
        if EVERY_YEAR_SOURCES & set(new.values()):
            return every_year("a new schools or families file", upto, unchanged)
        months = _touched_months(con, list(new), first_date, last_date)
        if not months:
            return every_year("the new loads hold no dated activity", upto, unchanged)
        return BuildPlan(
            tuple(sorted({school_year_of_month(m) for m in months})),
            f"{len(new)} new loads",
            upto,
            fingerprint,
            tuple(unchanged),
            tuple(sorted(months)),
        )
    finally:
        con.close()


def _touched_months(con, load_ids: list[str], first_date, last_date) -> set[str]:
    """Months ('YYYY-MM') of the activity in these loads and in the rows of the loads they
    replace, with the months of those dates' school weeks, and every month between the old
    and the new first or last activity date when the new activity lies beyond them."""
    con.execute("CREATE TEMP TABLE new_loads AS SELECT unnest(?::VARCHAR[]) AS load_id", [load_ids])
    # (table, date column, loads): the new rows, and the rows of the earlier content of a
    # corrected file, which stay staged until this build
    sources = [
        ("raw.messages", "sent_at", _NEW),
        ("raw.contact_logs", "contact_at", _NEW),
        ("raw.survey_responses", "submitted_at", _NEW),
    ]
    events = [("raw.message_events", "raw.messages", "sent_at", _NEW)]
    if _has_replaced_loads(con):
        sources += [
            ("staging.stg_messages", "sent_date", _REPLACED),
            ("staging.stg_contact_logs", "contact_date", _REPLACED),
            ("staging.stg_survey_responses", "submitted_date", _REPLACED),
        ]
        events.append(
            ("staging.stg_message_events", "staging.stg_messages", "sent_date", _REPLACED)
        )
    parts = [
        f"SELECT CAST({column} AS DATE) AS d FROM {table} WHERE _load_id IN ({loads})"
        for table, column, loads in sources
        if table_exists(con, table)
    ]
    # An event changes its message's status: the message's month (once it is loaded).
    parts += [
        f"SELECT CAST(m.{sent} AS DATE) FROM {table} e JOIN {messages} m "
        f"ON m.message_id = e.message_id WHERE e._load_id IN ({loads})"
        for table, messages, sent, loads in events
        if table_exists(con, table) and table_exists(con, messages)
    ]
    if not parts:
        return set()
    lo, hi = con.execute(
        f"CREATE TEMP TABLE touched_dates AS SELECT DISTINCT d FROM ({' UNION ALL '.join(parts)}) "
        "WHERE d IS NOT NULL; SELECT min(d), max(d) FROM touched_dates"
    ).fetchall()[0]
    if lo is None:
        return set()
    # The school-week calendar runs from the first to the last activity date: moving either
    # end changes the weeks between the old end and the new one.
    spans = [
        (a, b)
        for a, b in ((lo, first_date), (last_date, hi))
        if a is not None and b is not None and a < b
    ]
    for a, b in spans:
        con.execute(
            "INSERT INTO touched_dates SELECT CAST(unnest(range(?::DATE, ?::DATE + 1, "
            "INTERVAL 1 DAY)) AS DATE)",
            [a, b],
        )
    # A school week belongs to the month of its Thursday (dbt model int_school_weeks).
    (months,) = con.execute(
        "SELECT list(DISTINCT m) FROM (SELECT strftime(d, '%Y-%m') AS m FROM touched_dates "
        "UNION ALL SELECT strftime(CAST(date_trunc('week', d) AS DATE) + 3, '%Y-%m') "
        "FROM touched_dates)"
    ).fetchall()[0]
    return set(months or [])


_NEW = "SELECT load_id FROM new_loads"
# Loads replaced by a new load of the same file name (its raw rows are gone already).
_REPLACED = (
    "SELECT r.load_id FROM raw.raw_load_files r JOIN raw.raw_load_files n "
    "ON n.source = r.source AND n.file_name = r.file_name "
    "WHERE r.status = 'replaced' AND n.load_id IN (SELECT load_id FROM new_loads)"
)


def _has_replaced_loads(con) -> bool:
    columns = {
        c
        for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' "
            "AND table_name = 'raw_load_files'"
        ).fetchall()
    }
    if not {"status", "file_name"} <= columns:  # a hand-made test warehouse
        return False
    return bool(con.execute(f"SELECT count(*) FROM ({_REPLACED})").fetchall()[0][0])


def school_year_of_month(month: str) -> str:
    """School year of a month key 'YYYY-MM'."""
    return school_year_of(dt.date(int(month[:4]), int(month[5:7]), 1))


def school_year_of(day) -> str:
    """'YYYY-YYYY' of the Dutch school year (1 August - 31 July) holding the date."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{start + 1}"


@dataclass(frozen=True)
class BuildArgs:
    """What a build passes to dbt (as environment variables, see ENV_SCHOOL_YEARS). The build
    DAG hands it from task to task as a dict (asdict; cosmos templates read its keys)."""

    school_year: str  # '' = every year
    loaded_upto: str  # '' = no plan (a backfill records no watermark)
    fingerprint: str
    what: str
    # dbt --exclude of a one-task build (BuildPlan.unchanged); per-model tasks build them all
    exclude: str = ""
    months: str = ""  # '' = whole school years

    def dbt_env(self) -> dict[str, str]:
        return {env: getattr(self, field) for env, field in ENV_FROM_ARGS.items()}

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def build_args(settings: Settings, period: str | None = None) -> BuildArgs:
    """A backfill of `period` (which records no watermark: other years may still wait), else
    the plan."""
    if period:
        return BuildArgs(period, "", "", f"school year {period} (backfill)")
    plan = plan_build(settings)
    return BuildArgs(
        plan.school_year_var,
        plan.loaded_upto or "",
        plan.fingerprint,
        plan.describe(),
        " ".join(plan.unchanged),
        plan.months_var,
    )
