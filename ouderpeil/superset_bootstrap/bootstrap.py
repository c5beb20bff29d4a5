"""The work behind ``python -m ouderpeil.superset_bootstrap``: init, import, security, serve.

Imported only after ``SUPERSET_CONFIG_PATH`` points at ``superset_config.py`` (``__main__``
sets it), because ``superset`` reads its configuration at import time.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ouderpeil.superset_bootstrap import (
    BOARD_ROLE_PREFIX,
    ROLE_ADMIN,
    ROLE_BOARD,
    ROLE_INSPECTOR,
    SERVING_URI_PLACEHOLDER,
)

log = logging.getLogger("ouderpeil.superset_bootstrap")

CREDENTIALS_FILE = "credentials.json"
ADMIN_USERNAME = "admin"
INSPECTOR_USERNAME = "inspecteur"

# Datasets that carry board_id and therefore get the per-board RLS rule. national_reference
# holds only the published national 2014 figures (no board data) and needs none.
RLS_TABLES = ("indicator", "channel_mix", "equity_gap")
# Dashboard slug per sector; a sector dashboard is offered only to the boards with schools in
# that sector (DASHBOARD_RBAC), the overview to every board, all of them to the inspectorate.
SECTOR_DASHBOARDS = {"po": "ouderpeil-po", "vo": "ouderpeil-vo", "mbo": "ouderpeil-mbo"}
OVERVIEW_DASHBOARD = "ouderpeil-overzicht"


def superset_home() -> Path:
    from flask import current_app

    return Path(current_app.config["DATA_DIR"])


# --------------------------------------------------------------------------- app context
@contextmanager
def app_context() -> Iterator[Any]:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        yield app


# --------------------------------------------------------------------------- credentials
def _credentials_path() -> Path:
    return superset_home() / CREDENTIALS_FILE


def load_credentials() -> dict[str, Any]:
    path = _credentials_path()
    if path.exists():
        return json.loads(path.read_text())
    return {}


def save_credentials(creds: dict[str, Any]) -> None:
    path = _credentials_path()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)


def _password(env_var: str, remembered: str | None) -> str:
    return os.environ.get(env_var) or remembered or secrets.token_urlsafe(12)


# --------------------------------------------------------------------------- init
def init(admin_username: str = ADMIN_USERNAME) -> dict[str, Any]:
    """Migrate the metadata database, sync the built-in roles, create the admin user."""
    from flask_migrate import upgrade
    from superset import appbuilder, security_manager
    from superset.extensions import db

    log.info("superset db upgrade")
    upgrade()
    log.info("superset init (permissions and built-in roles)")
    appbuilder.add_permissions(update_perms=True)
    security_manager.sync_role_definitions()

    creds = load_credentials()
    admin = creds.get("admin", {})
    password = _password("OUDERPEIL_SUPERSET_ADMIN_PASSWORD", admin.get("password"))
    _ensure_user(
        admin_username,
        "Beheerder",
        "Ouderpeil",
        f"{admin_username}@ouderpeil.invalid",
        password,
        [security_manager.find_role(ROLE_ADMIN)],
    )
    creds["admin"] = {"username": admin_username, "password": password, "role": ROLE_ADMIN}
    save_credentials(creds)
    _ensure_base_roles()
    db.session.commit()
    return creds


def _ensure_user(
    username: str, first: str, last: str, email: str, password: str, roles: list[Any]
) -> Any:
    from superset import security_manager
    from superset.extensions import db
    from werkzeug.security import generate_password_hash

    user = security_manager.find_user(username=username)
    if user is None:
        user = security_manager.add_user(username, first, last, email, roles, password=password)
        if not user:
            raise RuntimeError(f"could not create Superset user {username}")
    else:
        user.roles = roles
        user.password = generate_password_hash(password)
        user.active = True
    db.session.flush()
    return user


# --------------------------------------------------------------------------- roles
# Permissions taken out of the Gamma set for read-only roles: anything that writes, exports
# data or definitions, or shares/forks objects. SQL Lab is not in Gamma to begin with.
_READ_ONLY_DENY = re.compile(
    r"^(can_write|can_add|can_edit|can_delete|muldelete|can_export|can_csv|can_import|"
    r"can_copy_dash|can_save_dash|can_overwrite|can_tag|can_upload|can_set_embedded|"
    r"can_post|can_put|can_bulk_create|can_warm_up_cache|can_samples|can_drill|"
    r"can_favorite_status|can_add_favorite|can_remove_favorite|can_sqllab|can_execute_sql)"
)
# What the inspectorate gets on top: CSV export of chart data.
_INSPECTOR_EXTRA = {("can_csv", "Superset"), ("can_export", "Chart")}
# Read-only users still need to add/remove favourites and keep filter state; those writes
# touch only their own UI state, never data.
_UI_STATE_ALLOW = {
    ("can_write", "DashboardFilterStateRestApi"),
    ("can_write", "DashboardPermalinkRestApi"),
    ("can_write", "ExploreFormDataRestApi"),
    ("can_write", "ExplorePermalinkRestApi"),
    ("can_log", "Superset"),
}


# Read permissions Gamma has that would show board staff or inspectors more than their own
# dashboards: other users, the RLS rules (they name every board), the database connection
# (the file path), saved queries, the action log and the cache.
_DENY_VIEWS = {
    ("can_read", "RowLevelSecurity"),
    ("can_read", "user"),
    ("can_read", "security"),
    ("can_read", "Database"),
    ("menu_access", "Databases"),
    ("can_list", "SavedQuery"),
    ("can_list", "UserRegistrationsRestAPI"),
    ("can_show", "UserRegistrationsRestAPI"),
    ("menu_access", "Action Log"),
    ("can_invalidate", "CacheRestApi"),
}


def _read_only_pvms() -> list[Any]:
    from superset import security_manager

    gamma = security_manager.find_role("Gamma")
    keep = []
    for pvm in gamma.permissions:
        key = (pvm.permission.name, pvm.view_menu.name)
        if "SQL Lab" in pvm.view_menu.name or "SQLLab" in pvm.view_menu.name:
            continue
        if key in _DENY_VIEWS:
            continue
        if key in _UI_STATE_ALLOW or not _READ_ONLY_DENY.match(pvm.permission.name):
            keep.append(pvm)
    return keep


def _ensure_base_roles() -> None:
    """Bestuur and Inspecteur without data access (that comes with the datasets at import)."""
    from superset import security_manager

    base = _read_only_pvms()
    board = security_manager.add_role(ROLE_BOARD)
    board.permissions = list(base)
    inspector = security_manager.add_role(ROLE_INSPECTOR)
    extra = []
    for perm, view in _INSPECTOR_EXTRA:
        pvm = security_manager.find_permission_view_menu(perm, view)
        if pvm is None:
            pvm = security_manager.add_permission_view_menu(perm, view)
        extra.append(pvm)
    inspector.permissions = list(base) + extra


def _dataset_pvms(database_name: str) -> list[Any]:
    from superset import security_manager
    from superset.connectors.sqla.models import SqlaTable
    from superset.extensions import db
    from superset.models.core import Database

    database = db.session.query(Database).filter_by(database_name=database_name).one()
    pvms = []
    for table in db.session.query(SqlaTable).filter_by(database_id=database.id).all():
        perm = table.get_perm()
        table.perm = perm
        pvm = security_manager.find_permission_view_menu("datasource_access", perm)
        if pvm is None:
            pvm = security_manager.add_permission_view_menu("datasource_access", perm)
        pvms.append(pvm)
    return pvms


def sync_dashboard_roles(board_sectors: dict[str, set[str]]) -> dict[str, list[str]]:
    """Give each sector dashboard the roles that may open it: Inspecteur and the marker role
    of every board with schools in that sector; the overview: Inspecteur and Bestuur. With
    DASHBOARD_RBAC a dashboard that has roles is listed and opened only for those roles."""
    from superset import security_manager
    from superset.extensions import db
    from superset.models.dashboard import Dashboard

    inspector = security_manager.find_role(ROLE_INSPECTOR)
    board_role = security_manager.find_role(ROLE_BOARD)
    assigned = {}
    for dash in db.session.query(Dashboard).all():
        sector = next((s for s, slug in SECTOR_DASHBOARDS.items() if slug == dash.slug), None)
        if sector is not None:
            roles = [inspector] + [
                security_manager.find_role(f"{BOARD_ROLE_PREFIX}{board_id}")
                for board_id, sectors in sorted(board_sectors.items())
                if sector in sectors
            ]
        elif dash.slug == OVERVIEW_DASHBOARD:
            roles = [inspector, board_role]
        else:
            continue
        dash.roles = [r for r in roles if r is not None]
        assigned[dash.slug] = [r.name for r in dash.roles]
    db.session.commit()
    return assigned


def sync_security(database_name: str, boards: list[tuple[str, str]], demo_users: bool) -> dict:
    """Roles, per-board RLS rules and (optionally) demo users for the boards in the data."""
    from superset import security_manager
    from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
    from superset.extensions import db
    from superset.utils.core import RowLevelSecurityFilterType

    _ensure_base_roles()
    data_pvms = _dataset_pvms(database_name)
    board_role = security_manager.find_role(ROLE_BOARD)
    inspector_role = security_manager.find_role(ROLE_INSPECTOR)
    for role in (board_role, inspector_role):
        role.permissions = [
            p for p in role.permissions if p.permission.name != "datasource_access"
        ] + data_pvms

    rls_tables = db.session.query(SqlaTable).filter(SqlaTable.table_name.in_(RLS_TABLES)).all()
    creds = load_credentials()
    remembered = {u["username"]: u["password"] for u in creds.get("boards", [])}
    board_users = []
    for board_id, board_name in boards:
        role_name = f"{BOARD_ROLE_PREFIX}{board_id}"
        role = security_manager.add_role(role_name)
        role.permissions = []  # a marker role: the permissions come from "Bestuur"
        rule_name = f"rls_{role_name}"
        rule = db.session.query(RowLevelSecurityFilter).filter_by(name=rule_name).one_or_none()
        if rule is None:
            rule = RowLevelSecurityFilter(name=rule_name)
            db.session.add(rule)
        rule.filter_type = RowLevelSecurityFilterType.REGULAR.value
        rule.description = f"Bestuur {board_name} ({board_id}) ziet alleen eigen rijen"
        rule.clause = f"board_id = '{_sql_literal(board_id)}'"
        rule.group_key = "board_id"
        rule.roles = [role]
        rule.tables = list(rls_tables)
        if demo_users:
            username = f"{BOARD_ROLE_PREFIX}{_slug(board_id)}"
            password = _password("OUDERPEIL_SUPERSET_DEMO_PASSWORD", remembered.get(username))
            _ensure_user(
                username,
                "Bestuur",
                board_name or board_id,
                f"{username}@ouderpeil.invalid",
                password,
                [board_role, role],
            )
            board_users.append(
                {
                    "username": username,
                    "password": password,
                    "board_id": board_id,
                    "board_name": board_name,
                    "role": f"{ROLE_BOARD} + {role_name}",
                }
            )
    if demo_users:
        password = _password(
            "OUDERPEIL_SUPERSET_DEMO_PASSWORD", creds.get("inspector", {}).get("password")
        )
        _ensure_user(
            INSPECTOR_USERNAME,
            "Inspectie",
            "van het Onderwijs",
            f"{INSPECTOR_USERNAME}@ouderpeil.invalid",
            password,
            [inspector_role],
        )
        creds["inspector"] = {
            "username": INSPECTOR_USERNAME,
            "password": password,
            "role": ROLE_INSPECTOR,
        }
        creds["boards"] = board_users
    db.session.commit()
    save_credentials(creds)
    return creds


def _sql_literal(value: str) -> str:
    return value.replace("'", "''")


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_")


# --------------------------------------------------------------------------- import
def serving_uri(serving_path: Path) -> str:
    return f"duckdb:///{serving_path.resolve()}?access_mode=read_only"


def bundle_dashboards(dashboards_dir: Path, uri: str) -> bytes:
    """Zip ``dashboards/`` as a Superset export bundle, with the serving URI filled in."""
    buf = io.BytesIO()
    root = "ouderpeil_dashboards"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(dashboards_dir.rglob("*.yaml")):
            rel = path.relative_to(dashboards_dir).as_posix()
            if rel != "metadata.yaml" and rel.split("/")[0] not in (
                "databases",
                "datasets",
                "charts",
                "dashboards",
            ):
                continue
            text = path.read_text(encoding="utf-8")
            if rel.startswith("databases/"):
                text = text.replace(SERVING_URI_PLACEHOLDER, uri)
            zf.writestr(f"{root}/{rel}", text)
    return buf.getvalue()


def _contents_from_zip(bundle: bytes) -> dict[str, str]:
    from superset.commands.importers.v1.utils import remove_root

    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {
            remove_root(n): zf.read(n).decode("utf-8") for n in zf.namelist() if not n.endswith("/")
        }


def read_boards(serving_path: Path) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        rows = con.execute(
            """
            select board_id, max(board_name) from (
                select board_id, board_name from indicator
                union all select board_id, board_name from channel_mix)
            where board_id is not null and board_id <> 'ALL'
            group by board_id order by board_id
            """
        ).fetchall()
    finally:
        con.close()
    return [(str(b), str(n) if n is not None else str(b)) for b, n in rows]


def read_board_sectors(serving_path: Path) -> dict[str, set[str]]:
    """Board id -> the sectors in which the board has schools (from the serving file)."""
    import duckdb

    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        rows = con.execute(
            "select distinct board_id, sector from indicator "
            "where board_id is not null and board_id <> 'ALL'"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, set[str]] = {}
    for board_id, sector in rows:
        out.setdefault(str(board_id), set()).add(str(sector))
    return out


def import_dashboards(
    serving_path: Path, dashboards_dir: Path, demo_users: bool, admin_username: str = ADMIN_USERNAME
) -> dict[str, Any]:
    import yaml
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.extensions import db
    from superset.utils.core import override_user

    if not serving_path.exists():
        raise FileNotFoundError(f"serving file {serving_path} does not exist")
    uri = serving_uri(serving_path)
    bundle = bundle_dashboards(dashboards_dir, uri)
    bundle_path = superset_home() / "dashboards_bundle.zip"
    bundle_path.write_bytes(bundle)  # kept for inspection / manual import in the UI
    contents = _contents_from_zip(bundle)
    database_names = [
        yaml.safe_load(text)["database_name"]
        for name, text in contents.items()
        if name.startswith("databases/")
    ]
    admin = security_manager.find_user(username=admin_username)
    if admin is None:
        raise RuntimeError("run `init` first: no admin user")
    with override_user(admin):
        ImportAssetsCommand(contents).run()
    db.session.commit()
    fix_native_filter_scopes()
    boards = read_boards(serving_path)
    creds: dict[str, Any] = {}
    for name in database_names:
        creds = sync_security(name, boards, demo_users)
    dashboard_roles = sync_dashboard_roles(read_board_sectors(serving_path))
    return {
        "uri": uri,
        "boards": boards,
        "credentials": creds,
        "bundle": str(bundle_path),
        "dashboard_roles": dashboard_roles,
    }


def fix_native_filter_scopes() -> None:
    """Fill ``chartsInScope`` of every native filter with the real chart ids after import.

    The YAML refers to charts by uuid; ids are only known here. A filter is in scope for every
    chart of the dashboard whose dataset has the filter's column, minus ``scope.excluded``.
    """
    from superset.extensions import db
    from superset.models.dashboard import Dashboard

    for dash in db.session.query(Dashboard).all():
        meta = json.loads(dash.json_metadata or "{}")
        filters = meta.get("native_filter_configuration") or []
        if not filters:
            continue
        columns_by_chart = {}
        for chart in dash.slices:
            ds = chart.datasource
            columns_by_chart[chart.id] = {c.column_name for c in ds.columns} if ds else set()
        for flt in filters:
            excluded = set(flt.get("scope", {}).get("excluded", []))
            targets = flt.get("targets") or [{}]
            column = (targets[0].get("column") or {}).get("name")
            in_scope = [
                cid
                for cid, cols in sorted(columns_by_chart.items())
                if cid not in excluded and (column is None or column in cols)
            ]
            out = [cid for cid in columns_by_chart if cid not in in_scope]
            flt["chartsInScope"] = in_scope
            flt.setdefault("scope", {})["excluded"] = sorted(out)
            flt["scope"].setdefault("rootPath", ["ROOT_ID"])
        meta["native_filter_configuration"] = filters
        dash.json_metadata = json.dumps(meta)
    db.session.commit()


# --------------------------------------------------------------------------- serve
def serve_argv(
    port: int,
    host: str = "127.0.0.1",
    workers: int | None = None,
    threads: int = 4,
    timeout: int = 120,
) -> list[str]:
    workers = workers or int(os.environ.get("OUDERPEIL_SUPERSET_WORKERS", "2"))
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        str(timeout),
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "superset.app:create_app()",
    ]
