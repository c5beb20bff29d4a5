{#- Month grain of a planned build. A day's loads touch a few months, yet the per-message
    tables (int_messages, int_family_weeks) of their whole school year were rebuilt every day
    (a region day: 5.3 M messages for one day's 0.1 M), and int_contacts of every year. These
    three are incremental by month on DuckDB: a planned build replaces the rows of the months its loads touch (the plan's months,
    ouderpeil/build_plan.py) and keeps the others; every other build (every year, a backfill of
    chosen years, a first build, Spark) rebuilds whole school years as before. The models that
    read them select the build's school years themselves. -#}

{#- The months OUDERPEIL_BUILD_MONTHS names ('2026-03,2026-04'), which only ouderpeil's
    planned builds set, and only when the model is built incrementally: a table that does not
    exist yet (or a full refresh) has no kept months to keep. A backfill by hand (the var
    school_year) rebuilds whole years. [] = whole school years (build_school_years()). -#}
{% macro rebuilt_months() -%}
    {%- if not execute or not is_incremental() or var('school_year', none) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set months = env_var('OUDERPEIL_BUILD_MONTHS', '').split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- for m in months -%}
        {%- if m | length != 7 or m[4] != '-' or not (m[:4] ~ m[5:]).isdigit()
              or not (1 <= (m[5:] | int) <= 12) -%}
            {{ exceptions.raise_compiler_error("month '" ~ m ~ "' in OUDERPEIL_BUILD_MONTHS is not of the form 2026-03") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(months) }}
{%- endmacro %}

{#- The rows a build of a month-grain model replaces, by a date column: the rebuilt months,
    widened by `margin_days` on both sides (the messages of a school week that starts or ends in
    the next month), as date ranges the engine checks against each row group's min/max; else
    the build's school years (school_year_date_filter). -#}
{% macro rebuilt_months_date_filter(date_column, margin_days=0) -%}
    {%- set months = ouderpeil.rebuilt_months() -%}
    {%- if not months -%}
        {{ ouderpeil.school_year_date_filter(date_column, margin_days) }}
    {%- else -%}
        {%- set ranges = [] -%}
        {%- for m in months -%}
            {%- set start = "cast('" ~ m ~ "-01' as date)" -%}
            {%- do ranges.append("(" ~ date_column ~ " >= " ~ ouderpeil.add_days(start, -margin_days)
                                 ~ " and " ~ date_column ~ " < "
                                 ~ ouderpeil.add_days(ouderpeil.add_months(start, 1), margin_days) ~ ")") -%}
        {%- endfor -%}
        ({{ ranges | join(' or ') }})
    {%- endif -%}
{%- endmacro %}

{#- The same on a table's month and school_year columns (int_family_weeks: a week's month and
    school year are its Thursday's, not a date column of its own). -#}
{% macro rebuilt_months_filter(month_column, school_year_column) -%}
    {%- set months = ouderpeil.rebuilt_months() -%}
    {%- if not months -%}
        {{ ouderpeil.school_year_filter(school_year_column) }}
    {%- else -%}
        {{ month_column }} in ({% for m in months %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of a month-grain model (append strategy): built incrementally, its rows of what
    this build rebuilds go first, so the rows it appends take their place, and a month whose
    rows all went (a corrected file) keeps none. The same filter as the model's own select. -#}
{% macro delete_rebuilt_rows(filter) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ filter }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
