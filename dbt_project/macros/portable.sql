{#- Every engine-specific construct the models need lives here, so the models stay standard
    SQL. Each macro dispatches on the adapter (adapter.dispatch): a duckdb__ version (the
    warehouse), a spark__ version (Apache Spark through dbt-spark, docs/SCALE_OUT.md) and, where
    standard SQL has the construct, an ANSI default__ for other engines. How incremental models
    replace rows per engine: macros/portable/incremental.sql; seeds on Spark:
    macros/portable/spark_seeds.sql; the raw tables on Spark: macros/portable/spark_raw.sql. -#}

{#- All dates from start_date to end_date inclusive, as one column `calendar_date`. -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'ouderpeil')(start_date, end_date)) }}
{%- endmacro %}
{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(d as date) as calendar_date
    from generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day) as s(d)
{%- endmacro %}
{% macro spark__date_spine(start_date, end_date) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as calendar_date
{%- endmacro %}

{#- ISO day of week: Monday 1 .. Sunday 7. -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'ouderpeil')(date_expr)) }}
{%- endmacro %}
{% macro duckdb__iso_day_of_week(date_expr) -%}
    isodow({{ date_expr }})
{%- endmacro %}
{% macro spark__iso_day_of_week(date_expr) -%}
    {#- weekday(): Monday 0 .. Sunday 6 -#}
    (weekday({{ date_expr }}) + 1)
{%- endmacro %}

{#- Monday of the ISO week that contains the date. -#}
{% macro week_start(date_expr) -%}
    {{ return(adapter.dispatch('week_start', 'ouderpeil')(date_expr)) }}
{%- endmacro %}
{% macro duckdb__week_start(date_expr) -%}
    cast(date_trunc('week', cast({{ date_expr }} as date)) as date)
{%- endmacro %}
{% macro spark__week_start(date_expr) -%}
    {#- date arithmetic, not date_trunc: Spark's date_trunc returns a timestamp in the session
        time zone -#}
    date_sub(cast({{ date_expr }} as date), weekday(cast({{ date_expr }} as date)))
{%- endmacro %}

{#- Calendar month key 'YYYY-MM'. -#}
{% macro month_key(date_expr) -%}
    {{ return(adapter.dispatch('month_key', 'ouderpeil')(date_expr)) }}
{%- endmacro %}
{% macro duckdb__month_key(date_expr) -%}
    strftime(cast({{ date_expr }} as date), '%Y-%m')
{%- endmacro %}
{% macro spark__month_key(date_expr) -%}
    date_format(cast({{ date_expr }} as date), 'yyyy-MM')
{%- endmacro %}
{% macro default__month_key(date_expr) -%}
    (cast(extract(year from cast({{ date_expr }} as date)) as {{ type_text() }}) || '-'
     || lpad(cast(extract(month from cast({{ date_expr }} as date)) as {{ type_text() }}), 2, '0'))
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
{% macro default__school_year_of(date_expr) -%}
    (case when extract(month from {{ date_expr }}) >= 8
          then cast(extract(year from {{ date_expr }}) as {{ type_text() }}) || '-' || cast(extract(year from {{ date_expr }}) + 1 as {{ type_text() }})
          else cast(extract(year from {{ date_expr }}) - 1 as {{ type_text() }}) || '-' || cast(extract(year from {{ date_expr }}) as {{ type_text() }})
     end)
{%- endmacro %}
{% macro spark__school_year_of(date_expr) -%}
    {{ ouderpeil.default__school_year_of(date_expr) }}
{%- endmacro %}

{#- First day (1 August) of a school year key 'YYYY-YYYY'. -#}
{% macro school_year_start(school_year_expr) -%}
    {{ return(adapter.dispatch('school_year_start', 'ouderpeil')(school_year_expr)) }}
{%- endmacro %}
{% macro duckdb__school_year_start(school_year_expr) -%}
    make_date(cast(substr({{ school_year_expr }}, 1, 4) as integer), 8, 1)
{%- endmacro %}
{% macro spark__school_year_start(school_year_expr) -%}
    make_date(cast(substr({{ school_year_expr }}, 1, 4) as int), 8, 1)
{%- endmacro %}
{% macro default__school_year_start(school_year_expr) -%}
    cast(substring({{ school_year_expr }} from 1 for 4) || '-08-01' as date)
{%- endmacro %}

{#- First day of a month key 'YYYY-MM'. -#}
{% macro month_start(month_key_expr) -%}
    {{ return(adapter.dispatch('month_start', 'ouderpeil')(month_key_expr)) }}
{%- endmacro %}
{% macro duckdb__month_start(month_key_expr) -%}
    make_date(cast(substr({{ month_key_expr }}, 1, 4) as integer), cast(substr({{ month_key_expr }}, 6, 2) as integer), 1)
{%- endmacro %}
{% macro spark__month_start(month_key_expr) -%}
    make_date(cast(substr({{ month_key_expr }}, 1, 4) as int), cast(substr({{ month_key_expr }}, 6, 2) as int), 1)
{%- endmacro %}
{% macro default__month_start(month_key_expr) -%}
    cast({{ month_key_expr }} || '-01' as date)
{%- endmacro %}

{#- date + n days -#}
{% macro add_days(date_expr, n) -%}
    {{ return(adapter.dispatch('add_days', 'ouderpeil')(date_expr, n)) }}
{%- endmacro %}
{% macro duckdb__add_days(date_expr, n) -%}
    cast({{ date_expr }} + cast({{ n }} as integer) * interval 1 day as date)
{%- endmacro %}
{% macro spark__add_days(date_expr, n) -%}
    date_add(cast({{ date_expr }} as date), cast({{ n }} as int))
{%- endmacro %}
{% macro default__add_days(date_expr, n) -%}
    cast({{ date_expr }} + cast({{ n }} as integer) * interval '1' day as date)
{%- endmacro %}

{#- date + n months -#}
{% macro add_months(date_expr, n) -%}
    {{ return(adapter.dispatch('add_months', 'ouderpeil')(date_expr, n)) }}
{%- endmacro %}
{% macro duckdb__add_months(date_expr, n) -%}
    cast({{ date_expr }} + cast({{ n }} as integer) * interval 1 month as date)
{%- endmacro %}
{% macro spark__add_months(date_expr, n) -%}
    {#- like DuckDB's interval arithmetic, add_months keeps the day or clamps it to the last
        day of a shorter month -#}
    add_months(cast({{ date_expr }} as date), cast({{ n }} as int))
{%- endmacro %}
{% macro default__add_months(date_expr, n) -%}
    cast({{ date_expr }} + cast({{ n }} as integer) * interval '1' month as date)
{%- endmacro %}

{#- Whole days from a to b (b - a). -#}
{% macro days_between(a, b) -%}
    {{ return(adapter.dispatch('days_between', 'ouderpeil')(a, b)) }}
{%- endmacro %}
{% macro duckdb__days_between(a, b) -%}
    date_diff('day', cast({{ a }} as date), cast({{ b }} as date))
{%- endmacro %}
{% macro spark__days_between(a, b) -%}
    datediff(cast({{ b }} as date), cast({{ a }} as date))
{%- endmacro %}

{#- Number with a Dutch decimal comma, e.g. 45,2, rounded the same on every engine: the
    value times 10^decimals is rounded to a whole number, ties away from zero (round() on a
    double does that in DuckDB and Spark alike; printf and Java's formatter do not agree on
    ties and on the shortest decimal of a double), and that integer is printed with the comma
    put in by string functions. A value that rounds to zero prints without a minus sign. -#}
{% macro format_decimal_nl(expr, decimals=1) -%}
    {{ return(adapter.dispatch('format_decimal_nl', 'ouderpeil')(expr, decimals)) }}
{%- endmacro %}
{% macro default__format_decimal_nl(expr, decimals=1) -%}
    {%- set scaled = 'abs(cast(round((' ~ expr ~ ') * ' ~ (10 ** decimals) ~ ') as bigint))' -%}
    {%- set sign = "case when cast(round((" ~ expr ~ ") * " ~ (10 ** decimals) ~ ") as bigint) < 0 then '-' else '' end" -%}
    {%- if decimals == 0 -%}
    ({{ sign }} || cast({{ scaled }} as {{ type_text() }}))
    {%- else -%}
    {#- whole part by division, decimals by remainder padded to their width (lpad never has
        to cut there: the remainder has at most `decimals` digits) -#}
    ({{ sign }}
     || cast(cast(floor({{ scaled }} / {{ 10 ** decimals }}) as bigint) as {{ type_text() }})
     || ','
     || lpad(cast({{ scaled }} % {{ 10 ** decimals }} as {{ type_text() }}), {{ decimals }}, '0'))
    {%- endif -%}
{%- endmacro %}
{% macro duckdb__format_decimal_nl(expr, decimals=1) -%}
    {{ ouderpeil.default__format_decimal_nl(expr, decimals) }}
{%- endmacro %}
{% macro spark__format_decimal_nl(expr, decimals=1) -%}
    {{ ouderpeil.default__format_decimal_nl(expr, decimals) }}
{%- endmacro %}

{#- The start of this dbt invocation as a timestamp with time zone (same value in every model
    of a run): the processing watermark of incremental models. -#}
{% macro run_timestamp() -%}
    {{ return(adapter.dispatch('run_timestamp', 'ouderpeil')()) }}
{%- endmacro %}
{% macro default__run_timestamp() -%}
    cast('{{ run_started_at.isoformat() }}' as timestamp with time zone)
{%- endmacro %}
{% macro duckdb__run_timestamp() -%}
    cast('{{ run_started_at.isoformat() }}' as timestamp with time zone)
{%- endmacro %}
{% macro spark__run_timestamp() -%}
    {#- Spark's timestamp is an instant (shown in the session time zone), like timestamptz -#}
    cast('{{ run_started_at.isoformat() }}' as timestamp)
{%- endmacro %}

{#- Type of an instant in time ('timestamp with time zone'; Spark: 'timestamp', which is one). -#}
{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz', 'ouderpeil')()) }}
{%- endmacro %}
{% macro default__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}
{% macro duckdb__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}
{% macro spark__type_timestamp_tz() -%}
    timestamp
{%- endmacro %}

{#- Text type of unbounded length ('varchar' in DuckDB, 'string' in Spark, whose varchar needs
    a length; standard SQL has no unbounded varchar, so the default names a generous one). -#}
{% macro type_text() -%}
    {{ return(adapter.dispatch('type_text', 'ouderpeil')()) }}
{%- endmacro %}
{% macro default__type_text() -%}
    varchar(4000)
{%- endmacro %}
{% macro duckdb__type_text() -%}
    varchar
{%- endmacro %}
{% macro spark__type_text() -%}
    string
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
{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- Text aggregate in a given order: DuckDB orders inside the call, Spark (and standard SQL's
    listagg) with WITHIN GROUP. -#}
{% macro string_agg_ordered(expr, delimiter, order_by) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'ouderpeil')(expr, delimiter, order_by)) }}
{%- endmacro %}
{% macro default__string_agg_ordered(expr, delimiter, order_by) -%}
    listagg({{ expr }}, {{ delimiter }}) within group (order by {{ order_by }})
{%- endmacro %}
{% macro duckdb__string_agg_ordered(expr, delimiter, order_by) -%}
    string_agg({{ expr }}, {{ delimiter }} order by {{ order_by }})
{%- endmacro %}
{% macro spark__string_agg_ordered(expr, delimiter, order_by) -%}
    string_agg({{ expr }}, {{ delimiter }}) within group (order by {{ order_by }})
{%- endmacro %}

{#- `value` of the row whose `order_by` columns (a list, compared left to right) are the
    highest among the rows where `where` holds; null when there are none. One aggregate
    instead of a row_number() window and a join back. The order columns must not be null. -#}
{% macro max_by(value, order_by, where='true') -%}
    {{ return(adapter.dispatch('max_by', 'ouderpeil')(value, order_by, where)) }}
{%- endmacro %}
{% macro duckdb__max_by(value, order_by, where) -%}
    arg_max({{ value }}, row({{ order_by | join(', ') }})) filter (where {{ where }})
{%- endmacro %}
{% macro spark__max_by(value, order_by, where) -%}
    max_by({{ value }}, struct({{ order_by | join(', ') }})) filter (where {{ where }})
{%- endmacro %}

{#- A timestamp to order by where null sorts first: the earliest instant both engines hold. -#}
{% macro never_null_timestamp(expr) -%}
    coalesce({{ expr }}, cast('0001-01-01 00:00:00' as {{ ouderpeil.type_timestamp_tz() }}))
{%- endmacro %}
