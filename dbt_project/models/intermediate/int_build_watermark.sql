{{ config(materialized='incremental', incremental_strategy='append') }}
-- depends_on: {{ ref('fct_indicator') }}
-- depends_on: {{ ref('mart_indicator_dashboard') }}
-- depends_on: {{ ref('mart_channel_mix') }}
-- depends_on: {{ ref('mart_national_reference') }}
{# One row per build that covered every load up to loaded_upto: what the next build plan
    (ouderpeil/build_plan.py) compares new loads with. Built last (after every mart), so a
    failed build leaves no row and its loads are planned again. A backfill of chosen years
    (school_year set without a planned loaded_upto) adds no row: other years may still wait. #}
{# Environment, not vars: a changed var makes dbt parse every model again; read only when
    dbt executes, so a changed value does not make dbt parse this file again either. #}
{% set upto = env_var('OUDERPEIL_PLAN_LOADED_UPTO', '') if execute else '' %}
{% set fingerprint = env_var('OUDERPEIL_PLAN_FINGERPRINT', '') if execute else '' %}
{% set years = build_school_years() | join(',') %}
{# None where raw tables are made by hand (tests) instead of by the loader. #}
{% set load_files = load_relation(source('raw', 'raw_load_files')) %}
with bounds as (
    select min(data_first_date) as data_first_date, max(data_last_date) as data_last_date
    from {{ ref('int_periods') }}
)

select
    cast('{{ run_started_at }}' as {{ type_timestamp_tz() }}) as built_at,
    {% if upto -%}
    cast('{{ upto }}' as {{ type_timestamp_tz() }})
    {%- elif load_files -%}
    (select max(loaded_at) from {{ load_files }})
    {%- else -%}
        cast(null as {{ type_timestamp_tz() }})
    {%- endif %} as loaded_upto,
    cast({{ "'" ~ fingerprint ~ "'" if fingerprint else 'null' }} as {{ type_text() }}) as project_fingerprint,
    '{{ years or "" }}' as school_years,
    b.data_first_date,
    b.data_last_date
from bounds as b
where {{ 'true' if (upto or not years) else 'false' }}
