"""Airflow-specific helpers: everything the DAGs in ``dags/`` need besides the stage functions.

The rest of the package never imports Airflow (the CLI and the tests run the same stage
functions without it); only modules in this sub-package may.

    common     DAG ids, the ``duckdb_writer`` pool, default_args (retries, backoff, retry policy)
    assets     the Assets the DAGs produce and consume (one per raw table, marts, serving file)
    runs       run-id derivation and school-year arithmetic for schedules and params
    callbacks  on_failure_callback: task log + <logs_dir>/failures.log + optional webhook/e-mail
    steps      the bodies of the DAG tasks (thin wrappers around the stage functions)
    dbt        the per-model dbt task group (astronomer-cosmos, ExecutionMode.LOCAL)
    preflight  setup checks (environment, dbt parse, school calendar, pool): one clear error
    local      run the real DAGs with `airflow dags test` (tests, bench, `backfill --local`)
    services   start/stop a running Airflow: api-server, scheduler, dag-processor, triggerer
    api        the REST API of a running api-server (trigger, wait, clear, task logs)
    live       the pipeline as scheduler runs on a running Airflow (`make demo`)
    commands   `ouderpeil airflow|trigger|backfill|rerun|clear-task`
"""
