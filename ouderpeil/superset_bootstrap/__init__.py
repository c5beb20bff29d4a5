"""Superset bootstrap for Ouderpeil: configuration, dashboard import, roles and row-level security.

This package runs inside the Superset virtualenv (``.venv-superset``) only. It imports nothing
but the standard library and Superset/Flask/duckdb, so it works without the ``ouderpeil``
package being installed there::

    PYTHONPATH=/work/main .venv-superset/bin/python -m ouderpeil.superset_bootstrap init
    PYTHONPATH=/work/main .venv-superset/bin/python -m ouderpeil.superset_bootstrap import \
        --serving data/serving/ouderpeil.duckdb --demo-users
    PYTHONPATH=/work/main .venv-superset/bin/python -m ouderpeil.superset_bootstrap serve --port 8088

See ``docs/DASHBOARDS.md``. The main virtualenv starts all of this through
``ouderpeil.dashboards_server.start_superset``.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_PATH = Path(__file__).resolve().parent / "superset_config.py"

# Role names (Dutch, as the people using them see them).
ROLE_BOARD = "Bestuur"  # board staff: read-only dashboards of their own board (RLS)
ROLE_INSPECTOR = "Inspecteur"  # inspectorate: all boards, CSV export
ROLE_ADMIN = "Admin"
BOARD_ROLE_PREFIX = "bestuur_"  # one role per board, carries the RLS rule board_id = '<id>'

# Placeholder in dashboards/databases/*.yaml, replaced at import by the serving file's URI.
SERVING_URI_PLACEHOLDER = "__OUDERPEIL_SERVING_URI__"
