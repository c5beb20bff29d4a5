"""How much memory DuckDB may take in our processes, and where it spills the rest.

DuckDB's default memory limit is 80 % of RAM: a region-scale dbt build peaked at 13 GiB and the
raw gate at 7.7 GiB, so a region needed a 16 GiB machine. With a limit DuckDB spills sorts,
joins and aggregations to a temp directory instead, so a process stays within a few GiB at any
scale (a little slower where it spills). One place for the defaults: the dbt profile reads the
same environment variables (run_dbt sets them), the loader and the gates call ``apply``.
"""

from __future__ import annotations

import os
from pathlib import Path

MEMORY_LIMIT_ENV = "OUDERPEIL_DUCKDB_MEMORY_LIMIT"
TEMP_DIR_ENV = "OUDERPEIL_DUCKDB_TEMP_DIR"
# DuckDB's own buffers; Python, pandas and Arrow come on top, so a process stays under 4 GiB.
DEFAULT_MEMORY_LIMIT = "2GB"


def memory_limit(default: str = DEFAULT_MEMORY_LIMIT) -> str:
    return os.environ.get(MEMORY_LIMIT_ENV) or default


def temp_directory(database: Path, reader: bool = False) -> Path:
    """Where a connection to `database` spills: $OUDERPEIL_DUCKDB_TEMP_DIR, else <database>.tmp
    (DuckDB's own default for a file database, made explicit so the dbt profile agrees).
    A read-only reader gets a folder of its own process beside it (it may run beside the
    writer); a sibling, not a subfolder: DuckDB creates one directory level only, when it first
    spills, and removes what it created when the connection closes."""
    configured = os.environ.get(TEMP_DIR_ENV)
    base = Path(configured) if configured else Path(f"{database}.tmp")
    return base.with_name(f"{base.name}-reader-{os.getpid()}") if reader else base


def dbt_env(database: Path) -> dict[str, str]:
    """The variables dbt_project/profiles.yml reads for the same limits."""
    return {MEMORY_LIMIT_ENV: memory_limit(), TEMP_DIR_ENV: str(temp_directory(database))}


def apply(con, database: Path, limit: str | None = None, reader: bool = False) -> None:
    """Cap DuckDB's memory on `con` and let it spill next to `database`."""
    con.execute("SET memory_limit = ?", [limit or memory_limit()])
    con.execute("SET temp_directory = ?", [str(temp_directory(database, reader))])
