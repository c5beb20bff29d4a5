"""HMAC-SHA256 pseudonyms for person identifiers (docs/spec/PRIVACY.md item 1).

The key comes from ``settings.hmac_key`` (hex, e.g. an Airflow secret) or the key file; when
neither exists the demo path creates a key file readable by its owner only. The key is never
logged, printed or written to the warehouse.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets

import duckdb
import pyarrow as pa

from ouderpeil.config import Settings
from ouderpeil.errors import OuderpeilError

log = logging.getLogger(__name__)


def load_key(settings: Settings) -> bytes:
    """The HMAC key as bytes; creates ``settings.hmac_key_file`` (0600) if there is no key."""
    if settings.hmac_key:
        return _from_hex(settings.hmac_key, "OUDERPEIL_HMAC_KEY")
    path = settings.hmac_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another loader created it a moment ago
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            log.warning("created a new HMAC key file at %s; keep it, pseudonyms depend on it", path)
    return _from_hex(path.read_text().strip(), f"key file {path}")


def _from_hex(text: str, origin: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise OuderpeilError(f"the HMAC key in {origin} is not hexadecimal") from None
    if len(key) < 16:
        raise OuderpeilError(f"the HMAC key in {origin} is shorter than 16 bytes")
    return key


def pseudonym(key: bytes, value: str) -> str:
    """64 hex characters; the same id and key always give the same pseudonym."""
    return hmac.digest(key, value.encode("utf-8"), "sha256").hex()


def pseudonymise_columns(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], key: bytes
) -> None:
    """Replace the clear ids in ``columns`` of a staging table by their pseudonyms.

    The HMAC is computed once per distinct id in Python and joined back in SQL, which keeps
    a million-row file fast (there are far fewer families than messages)."""
    if not columns:
        return
    union = " UNION ALL ".join(
        f'SELECT "{c}" AS v FROM {table} WHERE "{c}" IS NOT NULL' for c in columns
    )
    clear = [v for (v,) in con.execute(f"SELECT DISTINCT v FROM ({union})").fetchall()]
    mapping = pa.table(
        {
            "clear_value": pa.array(clear, pa.string()),
            "pseudonym": pa.array([pseudonym(key, v) for v in clear], pa.string()),
        }
    )
    con.register("__ouderpeil_pseudonyms", mapping)
    try:
        # The staging table is rebuilt with the pseudonyms joined in, one column per join.
        joins = " ".join(
            f'LEFT JOIN __ouderpeil_pseudonyms p{i} ON s."{c}" = p{i}.clear_value'
            for i, c in enumerate(columns)
        )
        replaced = ", ".join(f'p{i}.pseudonym AS "{c}"' for i, c in enumerate(columns))
        con.execute(
            f"CREATE TEMP TABLE {table}_pseudonymised AS "
            f"SELECT s.* REPLACE ({replaced}) FROM {table} s {joins}"
        )
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ALTER TABLE {table}_pseudonymised RENAME TO {table}")
    finally:
        con.unregister("__ouderpeil_pseudonyms")
    del clear, mapping
