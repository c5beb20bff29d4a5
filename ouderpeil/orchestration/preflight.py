"""Setup checks: say once what is missing and how to fix it, before tasks fail on it one by one.

    require_environment(env)            every Airflow task: the OUDERPEIL_* paths are set
    check_dbt_project(settings)         build: the dbt project parses (run when it changed)
    check_calendar(settings, years)     after the raw gate: the school calendar covers the data
    check_pool(api)                     demo / ouderpeil trigger: the duckdb_writer pool exists

Each raises ouderpeil.errors.SetupError("setup error: <what>. Fix: <fix>"); the retry policy
fails it at once (OuderpeilError), and the tasks after it end upstream_failed, so the cause is
reported once. No Airflow imports here.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import duckdb

from ouderpeil.catalog import table_exists
from ouderpeil.config import Settings
from ouderpeil.errors import DbtBuildFailed, SetupError

# Where each Airflow process must be told where the data are: the defaults point into the
# repository, which in a container is not the data volume, and dbt's profile has no default.
REQUIRED_ENV = ("OUDERPEIL_DATA_DIR", "OUDERPEIL_WAREHOUSE")
HOW_TO_RUN = (
    "run Airflow through `make demo` or `.venv/bin/ouderpeil airflow ...` (they set "
    "every OUDERPEIL_* variable), or set it in the environment of the scheduler and "
    "the workers (docker-compose.yml: x-airflow-common)"
)
CALENDAR = "seeds/school_holidays.csv"
# Where activity dates of the raw layer live (a school year without holidays would count every
# week as a school week).
ACTIVITY_DATES = {
    "raw.contact_logs": "contact_at",
    "raw.messages": "sent_at",
    "raw.survey_responses": "submitted_at",
}
_SCHOOL_YEAR = (
    "CASE WHEN month({d}) >= 8 THEN year({d})::VARCHAR || '-' || (year({d}) + 1) "
    "ELSE (year({d}) - 1)::VARCHAR || '-' || year({d}) END"
)


def require_environment(env: dict | None = None) -> None:
    env = os.environ if env is None else env
    missing = [name for name in REQUIRED_ENV if not env.get(name)]
    if missing:
        raise SetupError(
            f"environment variable{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} not set for this Airflow process",
            HOW_TO_RUN,
        )


def _newest_mtime(root: Path) -> float:
    return max(
        (
            p.stat().st_mtime
            for p in root.rglob("*")
            if p.is_file() and "target" not in p.parts and "logs" not in p.parts
        ),
        default=0.0,
    )


def check_dbt_project(settings: Settings, manifest: Path) -> bool:
    """`dbt parse` when the project changed since ``manifest`` was written; True if it ran.

    A parse error is a setup error of the project, not of one model: reported here once
    instead of by every dbt task.
    """
    from ouderpeil.transform import run_dbt

    project = settings.dbt_project_dir
    if manifest.exists() and manifest.stat().st_mtime >= _newest_mtime(project):
        return False
    try:
        run_dbt(settings, command="parse")
    except DbtBuildFailed as exc:
        raise SetupError(
            f"the dbt project {project} does not parse: {exc}",
            "correct the file named above, then check it with "
            "`.venv/bin/ouderpeil build parse` and trigger the build again",
        ) from None
    return True


def calendar_years(settings: Settings) -> set[str]:
    path = settings.dbt_project_dir / CALENDAR
    if not path.exists():
        raise SetupError(
            f"the school calendar {path} is missing",
            "restore it (git checkout dbt_project/seeds/school_holidays.csv) or "
            "add the holidays per region (noord, midden, zuid) of every school year",
        )
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["school_year"] for row in csv.DictReader(fh) if row.get("school_year")}


def data_school_years(settings: Settings) -> set[str]:
    """School years of the activity in the raw layer (read-only)."""
    if not settings.warehouse_path.exists():
        return set()
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        years: set[str] = set()
        for table, column in ACTIVITY_DATES.items():
            if table_exists(con, table):
                years |= {
                    y
                    for (y,) in con.execute(
                        f"SELECT DISTINCT {_SCHOOL_YEAR.format(d=column)} FROM {table} "
                        f"WHERE {column} IS NOT NULL"
                    ).fetchall()
                }
        return years
    finally:
        con.close()


def check_calendar(settings: Settings, years: set[str] | None = None) -> None:
    """Every school year with activity (or the ones asked for) has holidays in the calendar."""
    years = data_school_years(settings) if years is None else set(years)
    missing = sorted(years - calendar_years(settings))
    if missing:
        raise SetupError(
            f"the school calendar {settings.dbt_project_dir / CALENDAR} has no holidays for "
            f"school year{'s' if len(missing) > 1 else ''} {', '.join(missing)}, so school "
            "weeks cannot be told from holiday weeks",
            "add that year's holidays per region (noord, midden, zuid; rijksoverheid.nl "
            "schoolvakanties) to the seed and trigger the build again",
        )


def check_pool(api, pool: str = "duckdb_writer", slots: int = 1) -> None:
    """The pool every warehouse task needs; without it those tasks would wait forever."""
    from ouderpeil.orchestration.api import AirflowApiError

    try:
        found = api._request("GET", f"/api/v2/pools/{pool}")
    except AirflowApiError as exc:
        if "404" not in str(exc):
            raise
        found = None
    if not found or found.get("slots") != slots:
        raise SetupError(
            f"the Airflow pool {pool} is missing or has not {slots} slot"
            + ("" if found is None else f" (it has {found.get('slots')})")
            + ": tasks that open the warehouse would wait for it forever",
            f"`.venv/bin/ouderpeil airflow pools set {pool} {slots} "
            '"Ouderpeil: tasks that open the DuckDB warehouse"`',
        )
