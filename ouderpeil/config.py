"""Where Ouderpeil keeps its files, read from the environment with embedded defaults.

The defaults put everything under ``data/`` in the repository checkout, so ``make demo`` needs
no configuration; production (docker-compose) points the same variables at mounted volumes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    inbox_dir: Path
    quarantine_dir: Path
    warehouse_path: Path
    serving_path: Path
    exports_dir: Path
    gx_dir: Path
    logs_dir: Path
    hmac_key_file: Path
    dbt_project_dir: Path
    expectations_dir: Path
    dashboards_dir: Path
    retention_school_years: int
    row_count_drop_tolerance: float
    # The HMAC key itself when given in the environment (production: an Airflow secret);
    # otherwise ouderpeil.loading reads or creates hmac_key_file. Never printed.
    hmac_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        env = os.environ if env is None else env
        data = Path(env.get("OUDERPEIL_DATA_DIR", REPO_ROOT / "data")).resolve()

        def path(var: str, default: Path) -> Path:
            return Path(env.get(var, default)).resolve()

        return cls(
            data_dir=data,
            inbox_dir=path("OUDERPEIL_INBOX_DIR", data / "inbox"),
            quarantine_dir=path("OUDERPEIL_QUARANTINE_DIR", data / "quarantine"),
            warehouse_path=path("OUDERPEIL_WAREHOUSE", data / "warehouse.duckdb"),
            serving_path=path("OUDERPEIL_SERVING", data / "serving" / "ouderpeil.duckdb"),
            exports_dir=path("OUDERPEIL_EXPORTS_DIR", data / "exports"),
            gx_dir=path("OUDERPEIL_GX_DIR", data / "gx"),
            logs_dir=path("OUDERPEIL_LOGS_DIR", data / "logs"),
            # Outside the repo and outside the data dir: the key must never travel with the data.
            hmac_key_file=path(
                "OUDERPEIL_HMAC_KEY_FILE", Path.home() / ".config" / "ouderpeil" / "hmac.key"
            ),
            dbt_project_dir=path("OUDERPEIL_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"),
            expectations_dir=path("OUDERPEIL_EXPECTATIONS_DIR", REPO_ROOT / "expectations"),
            dashboards_dir=path("OUDERPEIL_DASHBOARDS_DIR", REPO_ROOT / "dashboards"),
            retention_school_years=int(env.get("OUDERPEIL_RETENTION_SCHOOL_YEARS", "2")),
            row_count_drop_tolerance=float(env.get("OUDERPEIL_ROW_COUNT_DROP_TOLERANCE", "0.5")),
            hmac_key=env.get("OUDERPEIL_HMAC_KEY") or None,
        )

    def ensure_dirs(self) -> None:
        for d in (
            self.inbox_dir,
            self.quarantine_dir,
            self.warehouse_path.parent,
            self.serving_path.parent,
            self.exports_dir,
            self.gx_dir,
            self.logs_dir,
        ):
            d.mkdir(parents=True, exist_ok=True)
