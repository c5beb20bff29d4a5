"""Least privilege on the serving side (issue 16), imported by ``superset_config.py``.

Superset gets exactly one database: the published serving file, read-only, with DuckDB's
file system, extensions and configuration locked, for every role including Admin:

* ``DB_SQLA_URI_VALIDATOR`` refuses every URI but ``duckdb:///<serving file>?access_mode=
  read_only`` (creating, editing or testing a connection, and every engine Superset builds);
* ``DB_CONNECTION_MUTATOR`` runs before every connection and replaces whatever the database's
  ``extra`` asks for with :data:`DUCKDB_LOCKED_CONFIG`, so an admin editing the connection
  cannot switch external access, extensions or write access back on.

Then the hardened web defaults: Talisman security headers (CSP, X-Frame-Options, nosniff),
secure cookies in production, a rate limit on the login endpoints and a lockout after repeated
failed logins of one account, and owner-only files (umask 077, home 0700).

Runs inside the Superset virtualenv only: stdlib + superset/flask.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

_REPO_ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------------ the serving file
from ouderpeil.superset_bootstrap.duckdb_lock import (  # noqa: E402
    check_serving_uri,
    harden_engine_kwargs,
)


def DB_SQLA_URI_VALIDATOR(sqlalchemy_uri: Any) -> None:  # noqa: N802 (Superset's name)
    check_serving_uri(sqlalchemy_uri)


def DB_CONNECTION_MUTATOR(
    uri: Any,
    params: dict,
    username: Any,
    security_manager: Any,  # noqa: N802
    source: Any,
) -> tuple[Any, dict]:
    check_serving_uri(uri)
    return uri.set(query={"access_mode": "read_only"}), harden_engine_kwargs(params)


PREVENT_UNSAFE_DB_CONNECTIONS = True

# ------------------------------------------------------------------------ files 0600 / 0700
# Superset writes the metadata DB (password hashes), the secret key, credentials and caches:
# readable by its own user only. The umask covers every file created after this import.
os.umask(0o077)
_HOME = Path(os.environ.get("OUDERPEIL_SUPERSET_HOME", _REPO_ROOT / "data" / "superset"))
OWNER_ONLY_FILES = (
    "superset.db",
    "secret_key",
    "credentials.json",
    "superset.log",
    "dashboards_bundle.zip",
)


def restrict_home(home: Path = _HOME) -> None:
    """Home 0700 and the secrets in it 0600 (also files an older version left readable)."""
    try:
        if home.is_dir() and os.stat(home).st_uid == os.geteuid():
            os.chmod(home, 0o700)
        for name in OWNER_ONLY_FILES:
            path = home / name
            if path.exists() and os.stat(path).st_uid == os.geteuid():
                os.chmod(path, 0o600)
    except OSError:
        pass  # not ours to change (another user's home): the start-up checks it


restrict_home()

# ------------------------------------------------------------------------ web defaults
# Production (docker-compose) serves HTTPS behind a proxy; the demo serves plain HTTP on
# 127.0.0.1, where a Secure cookie would never be sent back: only the cookie flags differ.
PRODUCTION = (
    os.environ.get("OUDERPEIL_SUPERSET_PRODUCTION", "0") == "1"
    or os.environ.get("OUDERPEIL_SUPERSET_TALISMAN", "0") == "1"
)
SESSION_COOKIE_SECURE = PRODUCTION
REMEMBER_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
ENABLE_PROXY_FIX = PRODUCTION  # the TLS proxy's X-Forwarded-Proto tells Flask it is https

# Security headers on every response, demo included. The policy names no outside host:
# nothing of ours loads anything from outside the machine.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        # 'unsafe-eval': Superset's Handlebars chart compiles its template in the browser, and
        # the gap header of every dashboard ("Bereiken we alle gezinnen? — <bestuur>") is one.
        # Scripts still come only from this server (nonce, no outside host).
        "script-src": ["'self'", "'strict-dynamic'", "'unsafe-eval'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "frame_options": "SAMEORIGIN",
    "referrer_policy": "strict-origin-when-cross-origin",
    "force_https": False,  # the proxy redirects; a redirect here would break /health
    "strict_transport_security": PRODUCTION,
    "session_cookie_secure": PRODUCTION,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
CONTENT_SECURITY_POLICY_WARNING = False

# Login endpoints: a flood limit per client address (Flask-AppBuilder, Flask-Limiter) ...
RATELIMIT_ENABLED = True
RATELIMIT_APPLICATION = os.environ.get("OUDERPEIL_SUPERSET_RATE_LIMIT", "100 per second")
AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = os.environ.get("OUDERPEIL_SUPERSET_AUTH_RATE_LIMIT", "60 per minute")
# ... and a lockout per account: after this many failed logins in a row, every login of that
# account is refused (also with the right password) until the lockout has passed.
LOGIN_MAX_FAILURES = int(os.environ.get("OUDERPEIL_SUPERSET_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("OUDERPEIL_SUPERSET_LOGIN_LOCKOUT_SECONDS", "900"))
LOCKED_OUT_MESSAGE = (
    "Te veel mislukte inlogpogingen voor dit account. Probeer het over "
    "{minutes} minuten opnieuw of vraag de beheerder om hulp."
)
_LOGIN_PATHS = ("/login/", "/api/v1/security/login")


def _login_username() -> str | None:
    from flask import request

    if request.method != "POST" or request.path not in _LOGIN_PATHS:
        return None
    if request.is_json:
        body = request.get_json(silent=True) or {}
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    return name if isinstance(name, str) and name else None


def refuse_locked_out_login():
    """before_request: refuse a login of an account with too many failed logins in a row.

    Flask-AppBuilder counts failures on the user (``fail_login_count``, reset by a good
    login); the lockout's end lives in Superset's cache, shared by every worker.
    """
    username = _login_username()
    if username is None:
        return None
    from flask import jsonify, request
    from superset import security_manager
    from superset.extensions import cache_manager

    user = security_manager.find_user(username=username) or security_manager.find_user(
        email=username
    )
    failures = (user.fail_login_count or 0) if user is not None else 0
    if user is None or failures < LOGIN_MAX_FAILURES:
        return None
    key = f"ouderpeil_login_lockout_{user.id}"
    lock = cache_manager.cache.get(key)
    now = time.time()
    if not lock or lock.get("failures") != failures:
        # A new failure past the limit starts (or restarts) the lockout.
        lock = {"failures": failures, "until": now + LOGIN_LOCKOUT_SECONDS}
        cache_manager.cache.set(key, lock, timeout=LOGIN_LOCKOUT_SECONDS * 4)
    elif now >= lock["until"]:
        return None  # lockout over: one more try (a failure locks again)
    minutes = max(1, round((lock["until"] - now) / 60))
    message = LOCKED_OUT_MESSAGE.format(minutes=minutes)
    if request.path.startswith("/api/"):
        return jsonify({"message": message}), 429
    return message, 429, {"Content-Type": "text/plain; charset=utf-8"}


def FLASK_APP_MUTATOR(app: Any) -> None:  # noqa: N802 (Superset's name)
    app.before_request(refuse_locked_out_login)


# What superset_config.py takes over with ``import *``: the settings, not the helpers' imports.
__all__ = [name for name in list(globals()) if name.isupper()]
