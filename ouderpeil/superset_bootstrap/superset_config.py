"""Superset configuration for Ouderpeil (loaded through ``SUPERSET_CONFIG_PATH``).

Runs inside the Superset virtualenv only: stdlib + superset/flask imports, nothing from the
``ouderpeil`` package outside ``superset_bootstrap``. Everything that differs between demo,
tests and production comes from the environment:

* ``OUDERPEIL_SUPERSET_HOME``  - directory for the SQLite metadata database, the generated
  secret key, the credentials file, caches and logs (default ``<repo>/data/superset``).
* ``SUPERSET_SECRET_KEY``      - the Flask secret key; when unset a random key is generated
  once into ``<home>/secret_key`` (mode 0600). It is never committed.
* ``OUDERPEIL_SUPERSET_DATA_CACHE_TIMEOUT`` - seconds chart data stays cached (default 300);
  the pipeline swaps the serving file, so keep this short.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]
SUPERSET_HOME = Path(
    os.environ.get("OUDERPEIL_SUPERSET_HOME", _REPO_ROOT / "data" / "superset")
).resolve()
SUPERSET_HOME.mkdir(parents=True, exist_ok=True)
DATA_DIR = str(SUPERSET_HOME)


def _secret_key() -> str:
    from_env = os.environ.get("SUPERSET_SECRET_KEY")
    if from_env:
        return from_env
    key_file = SUPERSET_HOME / "secret_key"
    if not key_file.exists():
        # O_EXCL: two processes starting at once never write two different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{SUPERSET_HOME / 'superset.db'}?check_same_thread=false"

APP_NAME = "Ouderpeil"

# --- Access: nobody gets in without logging in -------------------------------------------
AUTH_ROLE_PUBLIC = "Public"  # the Public role exists but has no permissions ...
PUBLIC_ROLE_LIKE = None  # ... because it is never filled from another role
AUTH_USER_REGISTRATION = False
FAB_ADD_SECURITY_API = True  # /api/v1/security/login for the tests and scripts
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
WTF_CSRF_ENABLED = True
SCARF_ANALYTICS = False  # Superset's telemetry off (ouderpeil/telemetry.py)
# Least privilege (issue 16): only the read-only serving file, locked DuckDB, headers, cookies.
from ouderpeil.superset_bootstrap.security_config import *  # noqa: E402,F401,F403

# --- Features --------------------------------------------------------------------------
# Native filters, row-level security and the v1 import/export are always on in Superset 6;
# the flags below are the ones that still exist and matter here.
FEATURE_FLAGS = {
    # Render every chart at once (our dashboards are small): screenshots and exports complete.
    "DASHBOARD_VIRTUALIZATION": False,
    # Sector dashboards carry the roles of the boards with schools in that sector (bootstrap):
    # a board user is offered only the dashboards of its own sectors.
    "DASHBOARD_RBAC": True,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "ALLOW_FULL_CSV_EXPORT": False,
    "RLS_IN_SQLLAB": True,  # defence in depth: admins only have SQL Lab anyway
    "ESCAPE_MARKDOWN_HTML": True,
    "DRILL_TO_DETAIL": False,  # no row-level samples, only the published aggregates
    "TAGGING_SYSTEM": False,
    "THUMBNAILS": False,
    "ALERT_REPORTS": False,
}
PREVENT_UNSAFE_DB_CONNECTIONS = True
SQLLAB_CTAS_NO_LIMIT = False
ROW_LIMIT = 50000

# --- Caches -----------------------------------------------------------------------------
_cache_dir = SUPERSET_HOME / "cache"
_data_timeout = int(os.environ.get("OUDERPEIL_SUPERSET_DATA_CACHE_TIMEOUT", "300"))
CACHE_CONFIG = {
    "CACHE_TYPE": "FileSystemCache",
    "CACHE_DIR": str(_cache_dir / "metadata"),
    "CACHE_DEFAULT_TIMEOUT": 3600,
    "CACHE_KEY_PREFIX": "ouderpeil_meta_",
}
DATA_CACHE_CONFIG = {
    "CACHE_TYPE": "FileSystemCache",
    "CACHE_DIR": str(_cache_dir / "data"),
    "CACHE_DEFAULT_TIMEOUT": _data_timeout,
    "CACHE_KEY_PREFIX": "ouderpeil_data_",
}
FILTER_STATE_CACHE_CONFIG = {
    "CACHE_TYPE": "FileSystemCache",
    "CACHE_DIR": str(_cache_dir / "filter_state"),
    "CACHE_DEFAULT_TIMEOUT": 86400,
}
EXPLORE_FORM_DATA_CACHE_CONFIG = {
    "CACHE_TYPE": "FileSystemCache",
    "CACHE_DIR": str(_cache_dir / "explore"),
    "CACHE_DEFAULT_TIMEOUT": 86400,
}
RATELIMIT_STORAGE_URI = "memory://"

# --- Production: PostgreSQL metadata and Redis caches ------------------------------------
# PostgreSQL metadata and Redis caches, read from the environment (docker-compose.yml, .env).
if os.environ.get("SUPERSET_DATABASE_URI"):
    SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_DATABASE_URI"]

if os.environ.get("SUPERSET_REDIS_URL"):
    _redis_url = os.environ["SUPERSET_REDIS_URL"]

    def _redis_cache(prefix: str, timeout: int) -> dict:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": _redis_url,
            "CACHE_DEFAULT_TIMEOUT": timeout,
            "CACHE_KEY_PREFIX": prefix,
        }

    CACHE_CONFIG = _redis_cache("ouderpeil_meta_", 3600)
    DATA_CACHE_CONFIG = _redis_cache("ouderpeil_data_", _data_timeout)
    FILTER_STATE_CACHE_CONFIG = _redis_cache("ouderpeil_filter_", 86400)
    EXPLORE_FORM_DATA_CACHE_CONFIG = _redis_cache("ouderpeil_explore_", 86400)
    RATELIMIT_STORAGE_URI = _redis_url

# --- Language ---------------------------------------------------------------------------
# Dutch only: with a second language a browser asking for English would get it. Superset's own
# texts come from its nl pack with our corrections (locale_nl.py); numbers and dates in nl-NL.
from ouderpeil.superset_bootstrap import locale_nl as _locale_nl  # noqa: E402

BABEL_DEFAULT_LOCALE = "nl"
LANGUAGES = {"nl": {"flag": "nl", "name": "Nederlands"}}
D3_FORMAT = _locale_nl.D3_FORMAT
D3_TIME_FORMAT = _locale_nl.D3_TIME_FORMAT
CURRENCIES = ["EUR"]
_locale_nl.install_language_pack_fixes("nl")
ADDITIONAL_MIDDLEWARE = [_locale_nl.LanguagePackFixes, _locale_nl.AssetTextFixes]

SHOW_STACKTRACE = False
LOG_LEVEL = os.environ.get("OUDERPEIL_SUPERSET_LOG_LEVEL", "INFO")
