"""Usage telemetry of every component, off: nothing of ours may call outside the machine.

One dict, set in the environment of every process the project starts (local Airflow runs and
services, dbt, the demo) and written out in docker-compose.yml and .env.example;
tests/test_no_egress.py checks those files and runs the chain with loopback only.

    astronomer-cosmos   AIRFLOW__COSMOS__ENABLE_TELEMETRY, DO_NOT_TRACK, SCARF_NO_ANALYTICS
    dbt                 DBT_SEND_ANONYMOUS_USAGE_STATS (and flags: in dbt_project.yml)
    Great Expectations  GX_ANALYTICS_ENABLED (and analytics_enabled: false in its project)
    Superset            SCARF_ANALYTICS (superset_config.py sets it too)
    Airflow 3.3         has no usage-data collection any more; DO_NOT_TRACK covers its libraries
"""

TELEMETRY_OFF = {
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "SCARF_ANALYTICS": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
}
