{#- The roll-ups every indicator is published at: school, board and sector level, each for
    the four SES groups and for all groups together. `keys` are the columns every grouping
    set carries (indicator and period). -#}
{% macro indicator_grouping_sets(keys) -%}
    grouping sets (
        ({{ keys | join(', ') }}, sector, board_id, school_id, ses_group),
        ({{ keys | join(', ') }}, sector, board_id, school_id),
        ({{ keys | join(', ') }}, sector, board_id, ses_group),
        ({{ keys | join(', ') }}, sector, board_id),
        ({{ keys | join(', ') }}, sector, ses_group),
        ({{ keys | join(', ') }}, sector)
    )
{%- endmacro %}

{#- A rolled-up dimension reads 'ALL'. GROUPING() is standard SQL (SQL:1999). -#}
{% macro all_when_rolled_up(column) -%}
    case when grouping({{ column }}) = 1 then 'ALL' else {{ column }} end
{%- endmacro %}

{#- The school years this build is limited to: the var school_year (a backfill by hand), else
    the environment variable OUDERPEIL_SCHOOL_YEARS that ouderpeil's builds set (a backfill
    param or the build plan, ouderpeil/build_plan.py). An environment variable rather than a
    var because dbt parses every model again when a var changes, only the few files that read
    it when an environment variable does. A string ('2024-2025', several separated by commas)
    or a list; unset or '': every year. Read only when dbt executes (`execute`): nothing at
    parse time depends on the years, and a file that reads an environment variable while it
    is parsed is parsed again whenever the value changes (every day: ~0.5 s of each build). -#}
{% macro build_school_years() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set sy = var('school_year', none) or env_var('OUDERPEIL_SCHOOL_YEARS', '') -%}
    {%- if sy is none or sy == '' -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return((sy.split(',') if sy is string else sy) | map('trim') | list) }}
{%- endmacro %}

{#- Filter on build_school_years(): a backfill, or the years a day's data touched. -#}
{% macro school_year_filter(column) -%}
    {%- set years = build_school_years() -%}
    {%- if not years -%}
        1 = 1
    {%- else -%}
        {{ column }} in ({% for y in years %}'{{ y }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- The same filter on a date column: a range per school year (1 August up to 1 August), which
    the engine checks against each row group's min/max before reading it, where
    school_year_filter(school_year_of(date)) computes the school year of every row first
    (int_messages of a region day: 4.9 -> 4.2 s). `margin_days` widens each range on both
    sides (the messages of a school week that straddles 1 August). -#}
{% macro school_year_date_filter(date_column, margin_days=0) -%}
    {%- set years = build_school_years() -%}
    {%- if not years -%}
        1 = 1
    {%- else -%}
        {%- set ranges = [] -%}
        {%- for y in years -%}
            {%- if y | length != 9 or y[4] != '-' or not (y[:4] ~ y[5:]).isdigit()
                  or (y[5:] | int) != (y[:4] | int) + 1 -%}
                {{ exceptions.raise_compiler_error("school year '" ~ y ~ "' is not of the form 2025-2026") }}
            {%- endif -%}
            {%- set start = "cast('" ~ y[:4] ~ "-08-01' as date)" -%}
            {%- set stop = "cast('" ~ y[5:] ~ "-08-01' as date)" -%}
            {%- if margin_days -%}
                {%- set start = ouderpeil.add_days(start, -margin_days) -%}
                {%- set stop = ouderpeil.add_days(stop, margin_days) -%}
            {%- endif -%}
            {%- do ranges.append("(" ~ date_column ~ " >= " ~ start ~ " and " ~ date_column ~ " < " ~ stop ~ ")") -%}
        {%- endfor -%}
        ({{ ranges | join(' or ') }})
    {%- endif -%}
{%- endmacro %}

{% macro school_year_var_is_set() -%}
    {{ return(build_school_years() | length > 0) }}
{%- endmacro %}

{#- Post-hook of the incremental indicator tables: on a full (non-backfill) run, drop school
    years that no longer have data (e.g. after retention), which delete+insert cannot see. -#}
{#- School years that no longer have activity keep their aggregates: retention deletes old raw
    rows, but published aggregates stay (docs/spec/PRIVACY.md item 5). Pruning them is opt-in with
    --vars '{prune_stale_school_years: true}' (e.g. after a source's data were withdrawn). -#}
{% macro delete_stale_school_years(periods_relation) -%}
    {{ return(adapter.dispatch('delete_stale_school_years', 'ouderpeil')(periods_relation)) }}
{%- endmacro %}
{#- delete from: standard SQL (DuckDB); Spark: macros/portable/incremental.sql -#}
{% macro default__delete_stale_school_years(periods_relation) -%}
    {%- if school_year_var_is_set() or not var('prune_stale_school_years', false) -%}
        select 1
    {%- else -%}
        delete from {{ this }} where school_year not in (select school_year from {{ periods_relation }})
    {%- endif -%}
{%- endmacro %}
