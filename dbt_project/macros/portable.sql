{#- Every engine-specific construct the models need lives here, so the models stay standard
    SQL. Each macro dispatches on the adapter; only the DuckDB implementation exists today. -#}

{#- All dates from start_date to end_date inclusive, as one column `calendar_date`. -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'ouderpeil')(start_date, end_date)) }}
{%- endmacro %}
{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(d as date) as calendar_date
    from generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day) as s(d)
{%- endmacro %}

{#- ISO day of week: Monday 1 .. Sunday 7. -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'ouderpeil')(date_expr)) }}
{%- endmacro %}
{% macro duckdb__iso_day_of_week(date_expr) -%}
    isodow({{ date_expr }})
{%- endmacro %}

{#- Monday of the ISO week that contains the date. -#}
{% macro week_start(date_expr) -%}
    {{ return(adapter.dispatch('week_start', 'ouderpeil')(date_expr)) }}
{%- endmacro %}
{% macro duckdb__week_start(date_expr) -%}
    cast(date_trunc('week', cast({{ date_expr }} as date)) as date)
{%- endmacro %}

{#- Calendar month key 'YYYY-MM'. -#}
{% macro month_key(date_expr) -%}
    {{ return(adapter.dispatch('month_key', 'ouderpeil')(date_expr)) }}
{%- endmacro %}
{% macro duckdb__month_key(date_expr) -%}
    strftime(cast({{ date_expr }} as date), '%Y-%m')
{%- endmacro %}

{#- Dutch school year 'YYYY-YYYY' (1 August - 31 July) that contains the date. -#}
{% macro school_year_of(date_expr) -%}
    {{ return(adapter.dispatch('school_year_of', 'ouderpeil')(date_expr)) }}
{%- endmacro %}
{% macro duckdb__school_year_of(date_expr) -%}
    (case when extract(month from {{ date_expr }}) >= 8
          then cast(extract(year from {{ date_expr }}) as varchar) || '-' || cast(extract(year from {{ date_expr }}) + 1 as varchar)
          else cast(extract(year from {{ date_expr }}) - 1 as varchar) || '-' || cast(extract(year from {{ date_expr }}) as varchar)
     end)
{%- endmacro %}

{#- First day (1 August) of a school year key 'YYYY-YYYY'. -#}
{% macro school_year_start(school_year_expr) -%}
    {{ return(adapter.dispatch('school_year_start', 'ouderpeil')(school_year_expr)) }}
{%- endmacro %}
{% macro duckdb__school_year_start(school_year_expr) -%}
    make_date(cast(substr({{ school_year_expr }}, 1, 4) as integer), 8, 1)
{%- endmacro %}

{#- First day of a month key 'YYYY-MM'. -#}
{% macro month_start(month_key_expr) -%}
    {{ return(adapter.dispatch('month_start', 'ouderpeil')(month_key_expr)) }}
{%- endmacro %}
{% macro duckdb__month_start(month_key_expr) -%}
    make_date(cast(substr({{ month_key_expr }}, 1, 4) as integer), cast(substr({{ month_key_expr }}, 6, 2) as integer), 1)
{%- endmacro %}

{#- date + n days -#}
{% macro add_days(date_expr, n) -%}
    {{ return(adapter.dispatch('add_days', 'ouderpeil')(date_expr, n)) }}
{%- endmacro %}
{% macro duckdb__add_days(date_expr, n) -%}
    cast({{ date_expr }} + cast({{ n }} as integer) * interval 1 day as date)
{%- endmacro %}

{#- date + n months -#}
{% macro add_months(date_expr, n) -%}
    {{ return(adapter.dispatch('add_months', 'ouderpeil')(date_expr, n)) }}
{%- endmacro %}
{% macro duckdb__add_months(date_expr, n) -%}
    cast({{ date_expr }} + cast({{ n }} as integer) * interval 1 month as date)
{%- endmacro %}

{#- Whole days from a to b (b - a). -#}
{% macro days_between(a, b) -%}
    {{ return(adapter.dispatch('days_between', 'ouderpeil')(a, b)) }}
{%- endmacro %}
{% macro duckdb__days_between(a, b) -%}
    date_diff('day', cast({{ a }} as date), cast({{ b }} as date))
{%- endmacro %}

{#- Number with a Dutch decimal comma, e.g. 45,2. -#}
{% macro format_decimal_nl(expr, decimals=1) -%}
    {{ return(adapter.dispatch('format_decimal_nl', 'ouderpeil')(expr, decimals)) }}
{%- endmacro %}
{% macro duckdb__format_decimal_nl(expr, decimals=1) -%}
    replace(printf('%.{{ decimals }}f', {{ expr }}), '.', ',')
{%- endmacro %}

{#- The start of this dbt invocation as a timestamp with time zone (same value in every model
    of a run): the processing watermark of incremental models. -#}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.isoformat() }}' as timestamp with time zone)
{%- endmacro %}

{#- 64-bit float type name ('double' in DuckDB, 'double precision' in standard SQL). dbt's own
    type_float() maps to a 32-bit float on DuckDB, hence this macro. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'ouderpeil')()) }}
{%- endmacro %}
{% macro default__type_double() -%}
    double precision
{%- endmacro %}
{% macro duckdb__type_double() -%}
    double
{%- endmacro %}
