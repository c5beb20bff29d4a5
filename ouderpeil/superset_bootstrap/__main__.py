"""``python -m ouderpeil.superset_bootstrap <init|import|serve|all|config-path>``.

Environment (all optional):
  OUDERPEIL_SUPERSET_HOME            metadata DB, secret key, credentials.json, cache, bundle
  OUDERPEIL_SERVING                  serving DuckDB file (default <repo>/data/serving/ouderpeil.duckdb)
  OUDERPEIL_DASHBOARDS_DIR           dashboards as code (default <repo>/dashboards)
  SUPERSET_SECRET_KEY                Flask secret key (else generated into <home>/secret_key)
  OUDERPEIL_SUPERSET_ADMIN_PASSWORD  admin password (else generated into <home>/credentials.json)
  OUDERPEIL_SUPERSET_DEMO_PASSWORD   password for the demo users (else generated per user)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from ouderpeil.superset_bootstrap import CONFIG_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]


def _setup_env(home: str | None) -> None:
    if home:
        os.environ["OUDERPEIL_SUPERSET_HOME"] = str(Path(home).resolve())
    os.environ["SUPERSET_CONFIG_PATH"] = str(CONFIG_PATH)
    os.environ.setdefault("FLASK_APP", "superset")
    # Superset's own telemetry / examples are of no use here.
    os.environ.setdefault("SUPERSET_LOAD_EXAMPLES", "no")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ouderpeil.superset_bootstrap",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--home", help="Superset home dir (else $OUDERPEIL_SUPERSET_HOME)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("config-path", help="print the path of superset_config.py")
    sub.add_parser("init", help="db upgrade, built-in roles, Bestuur/Inspecteur, admin user")
    for name in ("import", "all"):
        p = sub.add_parser(
            name,
            help="import dashboards/ and sync roles, RLS, users"
            if name == "import"
            else "init + import + serve",
        )
        p.add_argument(
            "--serving",
            default=os.environ.get(
                "OUDERPEIL_SERVING", str(REPO_ROOT / "data" / "serving" / "ouderpeil.duckdb")
            ),
        )
        p.add_argument(
            "--dashboards",
            default=os.environ.get("OUDERPEIL_DASHBOARDS_DIR", str(REPO_ROOT / "dashboards")),
        )
        p.add_argument(
            "--demo-users",
            action="store_true",
            help="create one user per board in the data plus an inspector",
        )
        if name == "all":
            p.add_argument("--port", type=int, default=8088)
            p.add_argument("--host", default="127.0.0.1")
    p = sub.add_parser("serve", help="run gunicorn (replaces this process)")
    p.add_argument("--port", type=int, default=8088)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)

    _setup_env(args.home)
    if args.cmd == "config-path":
        print(CONFIG_PATH)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    from ouderpeil.superset_bootstrap import bootstrap

    if args.cmd in ("init", "all"):
        t = time.monotonic()
        with bootstrap.app_context():
            bootstrap.init()
        print(json.dumps({"step": "init", "seconds": round(time.monotonic() - t, 1)}), flush=True)
    if args.cmd in ("import", "all"):
        t = time.monotonic()
        with bootstrap.app_context():
            result = bootstrap.import_dashboards(
                Path(args.serving), Path(args.dashboards), demo_users=args.demo_users
            )
        print(
            json.dumps(
                {
                    "step": "import",
                    "seconds": round(time.monotonic() - t, 1),
                    "boards": [b for b, _ in result["boards"]],
                    "uri": result["uri"],
                }
            ),
            flush=True,
        )
    if args.cmd in ("serve", "all"):
        argv_ = bootstrap.serve_argv(args.port, args.host, getattr(args, "workers", None))
        print(json.dumps({"step": "serve", "argv": argv_}), flush=True)
        sys.stdout.flush()
        os.execv(argv_[0], argv_)
    return 0


if __name__ == "__main__":
    sys.exit(main())
