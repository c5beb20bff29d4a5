"""The one connection Superset may open: the serving file, read-only, DuckDB locked down.

No side effects, stdlib only: ``security_config.py`` (inside Superset) enforces it on every
connection, ``dashboards/build_dashboards.py`` writes the same configuration into the
committed connection definition, and tests import it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_REPO_ROOT = Path(__file__).resolve().parents[2]

SERVING_PATH = Path(
    os.environ.get("OUDERPEIL_SERVING", _REPO_ROOT / "data" / "serving" / "ouderpeil.duckdb")
).resolve()

# Every connection Superset opens gets exactly this DuckDB configuration. With external
# access off DuckDB opens only the database file it was started on: no read_text/read_csv/
# glob of other files, no COPY TO / EXPORT DATABASE, no ATTACH, no INSTALL/LOAD. The lock
# makes every SET/RESET fail, so none of it can be switched back on from SQL.
DUCKDB_LOCKED_CONFIG: dict[str, Any] = {
    "access_mode": "read_only",
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "allow_persistent_secrets": False,
    "lock_configuration": True,
}
# Engine arguments kept from the database's extra; anything else (creator, module, ...) and
# every other connect_args key (preload_extensions, register_filesystems) is dropped.
_KEPT_ENGINE_KWARGS = {"poolclass"}


class UnsafeConnectionError(ValueError):
    """A database URI other than the read-only serving file (the message is shown to admins)."""


def check_serving_uri(url: Any, serving_path: Path | None = None) -> None:
    """Refuse everything but ``duckdb:///<serving file>?access_mode=read_only``.

    ``url`` is a SQLAlchemy URL (what Superset hands its validator and mutator).
    """
    serving = Path(serving_path or SERVING_PATH).resolve()
    problems = []
    if url.get_backend_name() != "duckdb":
        problems.append(f"alleen DuckDB is toegestaan, niet {url.get_backend_name()!r}")
    database = url.database or ""
    if (
        not database
        or database.startswith((":", "md:", "motherduck:"))
        or Path(database).resolve() != serving
    ):
        problems.append(f"alleen het publicatiebestand {serving} is toegestaan")
    if url.username or url.password or url.host or url.port:
        problems.append("gebruiker, wachtwoord, host of poort zijn niet toegestaan")
    query = dict(url.query)
    if query.get("access_mode") != "read_only":
        problems.append("de verbinding moet alleen-lezen zijn (?access_mode=read_only)")
    extra = sorted(set(query) - {"access_mode"})
    if extra:
        problems.append(f"extra verbindingsinstellingen zijn niet toegestaan: {', '.join(extra)}")
    if problems:
        raise UnsafeConnectionError("Verbinding geweigerd: " + "; ".join(problems) + ".")


def harden_engine_kwargs(engine_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The engine arguments for create_engine, whatever the database's extra asked for."""
    connect_args = engine_kwargs.get("connect_args") or {}
    config = connect_args.get("config") or {}
    hardened = dict(DUCKDB_LOCKED_CONFIG)
    user_agent = config.get("custom_user_agent")
    if isinstance(user_agent, str):  # Superset's own tag for DuckDB's logs, harmless
        hardened["custom_user_agent"] = user_agent
    kept = {k: v for k, v in engine_kwargs.items() if k in _KEPT_ENGINE_KWARGS}
    kept["connect_args"] = {"config": hardened}
    return kept


def engine_params() -> dict[str, Any]:
    """The ``extra.engine_params`` of the committed connection definition."""
    return {"connect_args": {"config": dict(DUCKDB_LOCKED_CONFIG)}}
