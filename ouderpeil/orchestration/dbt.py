"""dbt in Airflow with one task per model (astronomer-cosmos, ExecutionMode.LOCAL).

Why LOCAL and not WATCHER: WATCHER (one `dbt build` producer + per-model sensors) deadlocks
under `airflow dags test`, which runs tasks one at a time (a sensor waits for a producer that
never gets scheduled); LOCAL runs `dbt build --select <model>` in-process (dbtRunner) per task
and gives per-model retries and logs, at 2-7 s of overhead per task on 2 shared cores (small
scale: build DAG 65-260 s against ~25 s for one `dbt build`; see docs/DATA_ENGINEERS.md).

Cosmos renders the task group from dbt's manifest.json (LoadMode.DBT_MANIFEST) so parsing a
DAG file never starts dbt. The manifest is written by ``dbt parse`` (``run_dbt(settings,
"parse")``): the local runner does that before each run, the production image at build time
(docker/airflow.Dockerfile). Without a manifest the build DAG falls back to a single
`dbt_build` task (``steps.run_dbt_build``) so it still works, just without per-model tasks;
``OUDERPEIL_DBT_TASKS=single`` chooses that single task on purpose.
"""

from __future__ import annotations

import os
from pathlib import Path

from ouderpeil.build_plan import ENV_FROM_ARGS
from ouderpeil.config import Settings
from ouderpeil.orchestration.common import WAREHOUSE_POOL
from ouderpeil.transform import DBT_ENV, dbt_executable, dbt_paths

DBT_GROUP_ID = "dbt"
DBT_PROFILE = "ouderpeil"
DBT_TARGET = "warehouse"
# The build DAG's task that plans the build; its XCom is build_plan.BuildArgs as a dict.
PLAN_TASK_ID = "plan_build"


def _from_plan(key: str) -> str:
    return "{{ ti.xcom_pull(task_ids='%s')['%s'] }}" % (PLAN_TASK_ID, key)


def manifest_path(settings: Settings) -> Path:
    """OUDERPEIL_DBT_MANIFEST, else the manifest run_dbt writes under <data_dir>/dbt/target."""
    env = os.environ.get("OUDERPEIL_DBT_MANIFEST")
    if env:
        return Path(env).resolve()
    return dbt_paths(settings)[0] / "manifest.json"


def dbt_task_group(settings: Settings, group_id: str = DBT_GROUP_ID, **task_group_kwargs):
    """A cosmos DbtTaskGroup over the whole project, or None when there is no manifest yet.

    Every dbt task: pool ``duckdb_writer`` (they write the warehouse), ``dbt build --select
    <node>`` (model + its tests in one task), the school years to build (the DAG param
    ``period`` or the years new loads touch; '' = all) and the watermark's values from the XCom
    of the ``plan_build`` task, as environment variables (ouderpeil.build_plan).
    """
    if os.environ.get("OUDERPEIL_DBT_TASKS", "per_model") == "single":
        return None  # one `dbt build` task: much less overhead at region scale, less visibility
    manifest = manifest_path(settings)
    if not manifest.exists():
        return None
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import (
        ExecutionMode,
        InvocationMode,
        LoadMode,
        TestBehavior,
        TestIndirectSelection,
    )

    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=settings.dbt_project_dir,
            manifest_path=manifest,
            project_name="ouderpeil",
        ),
        profile_config=ProfileConfig(
            profile_name=DBT_PROFILE,
            target_name=DBT_TARGET,
            # Reads the warehouse path from OUDERPEIL_WAREHOUSE at run time.
            profiles_yml_filepath=settings.dbt_project_dir / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=str(dbt_executable()),
            # A test runs with the task of its last-built parent, never before its parents.
            test_indirect_selection=TestIndirectSelection.BUILDABLE,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            emit_datasets=False,  # our own Assets (marts, serving) say what changed
            enable_mock_profile=False,
        ),
        operator_args={
            "pool": WAREHOUSE_POOL,
            "install_deps": False,
            # The plan_build task's school years ('' = all) and months, and what
            # int_build_watermark records (ouderpeil.build_plan.BuildArgs).
            "env": {
                **DBT_ENV,
                **{env: _from_plan(field) for env, field in ENV_FROM_ARGS.items()},
            },
            "append_env": True,
        },
        **task_group_kwargs,
    )
