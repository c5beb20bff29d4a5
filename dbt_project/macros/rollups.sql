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

{#- Filter on the school_year var, for a backfill or a build of the years new data touched:
    a string ('2024-2025', or several separated by commas, which is how an Airflow template
    passes them) or a list. Unset or '': every year. -#}
{% macro school_year_filter(column) -%}
    {%- set sy = var('school_year', none) -%}
    {%- if sy is none or sy == '' -%}
        1 = 1
    {%- else -%}
        {%- set years = (sy.split(',') if sy is string else sy) | map('trim') | list -%}
        {{ column }} in ({% for y in years %}'{{ y }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{% macro school_year_var_is_set() -%}
    {%- set sy = var('school_year', none) -%}
    {{ return(sy is not none and sy != '') }}
{%- endmacro %}

{#- Post-hook of the incremental indicator tables: on a full (non-backfill) run, drop school
    years that no longer have data (e.g. after retention), which delete+insert cannot see. -#}
{#- School years that no longer have activity keep their aggregates: retention deletes old raw
    rows, but published aggregates stay (PRIVACY.md item 5). Pruning them is opt-in with
    --vars '{prune_stale_school_years: true}' (e.g. after a source's data were withdrawn). -#}
{% macro delete_stale_school_years(periods_relation) -%}
    {%- if school_year_var_is_set() or not var('prune_stale_school_years', false) -%}
        select 1
    {%- else -%}
        delete from {{ this }} where school_year not in (select school_year from {{ periods_relation }})
    {%- endif -%}
{%- endmacro %}
