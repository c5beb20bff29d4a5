{#- Stops the query (and so the build) with `message` (a SQL text expression): used by
    int_school_weeks when activity lies on a day no school calendar covers. -#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'ouderpeil')(message)) }}
{%- endmacro %}
{% macro duckdb__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}
{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}
