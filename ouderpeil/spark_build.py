"""Run the dbt project on Apache Spark (target `spark` in dbt_project/profiles.yml).

dbt-spark lives in its own virtualenv (.venv-spark/, `make spark-env`: pyspark and dbt-spark
with the session extra), because pyspark's size and pins have no place in the Airflow
environment. In session mode dbt starts a local SparkSession (local[2] unless
OUDERPEIL_SPARK_MASTER says otherwise) with its tables and Hive metastore (embedded Derby)
under <data_dir>/spark/warehouse, and reads the raw layer that ouderpeil.spark_raw exported
to <data_dir>/spark/raw. Target and logs go to <data_dir>/dbt-spark/, apart from DuckDB's.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from ouderpeil.config import Settings
from ouderpeil.errors import DbtBuildFailed, OuderpeilError
from ouderpeil.spark_raw import default_root
from ouderpeil.transform import DbtResult, _failure_message, _read_run_results

REPO = Path(__file__).resolve().parent.parent


class SparkEnvironmentMissing(OuderpeilError):
    """The Spark virtualenv or Java is not installed (make spark-env java)."""


def spark_venv() -> Path:
    return Path(os.environ.get("OUDERPEIL_SPARK_VENV", REPO / ".venv-spark"))


def spark_warehouse(settings: Settings) -> Path:
    return settings.data_dir / "spark" / "warehouse"


def spark_dbt_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env.update(
        {
            "OUDERPEIL_SPARK_RAW": str(default_root(settings)),
            "OUDERPEIL_SPARK_WAREHOUSE": str(spark_warehouse(settings)),
            "OUDERPEIL_DBT_THREADS": env.get("OUDERPEIL_DBT_THREADS", "2"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_NO_VERSION_CHECK": "true",
            "DBT_USE_COLORS": "false",
            "DO_NOT_TRACK": "1",
            # pyspark starts the JVM from this venv's pyspark, with the driver on loopback
            "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_PYTHON": str(spark_venv() / "bin" / "python"),
        }
    )
    return env


def run_dbt_spark(
    settings: Settings,
    command: str = "build",
    env: dict[str, str] | None = None,
    exclude: str | None = None,
    select: str | None = None,
) -> DbtResult:
    """`dbt <command>` on Spark; raises DbtBuildFailed naming every failing model or test."""
    dbt = spark_venv() / "bin" / "dbt"
    if not dbt.exists():
        raise SparkEnvironmentMissing(f"{dbt} not found: run `make spark-env java` first")
    project_dir = settings.dbt_project_dir
    base = settings.data_dir / "dbt-spark"
    target_path, log_path = base / "target", base / "logs"
    target_path.mkdir(parents=True, exist_ok=True)
    log_path.mkdir(parents=True, exist_ok=True)
    spark_warehouse(settings).mkdir(parents=True, exist_ok=True)
    args = [
        str(dbt),
        *command.split(),
        "--target",
        "spark",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
    ]
    if select:
        args += ["--select", *select.split()]
    if exclude:
        args += ["--exclude", *exclude.split()]
    started = time.time()
    # cwd: Spark and Derby write stray files (derby.log, spark-warehouse) into the working
    # directory; keep them in the data directory, never in the repository.
    proc = subprocess.run(
        args,
        cwd=spark_warehouse(settings),
        env=spark_dbt_env(settings, env),
        capture_output=True,
        text=True,
    )
    result = DbtResult(
        command=command,
        success=proc.returncode == 0,
        elapsed=time.time() - started,
        nodes=_read_run_results(target_path, started),
        target_path=target_path,
        log_path=log_path,
        stdout=proc.stdout + proc.stderr,
    )
    if not result.success:
        raise DbtBuildFailed("on Spark: " + _failure_message(result))
    return result
