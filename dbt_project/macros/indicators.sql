{#- Building blocks of the indicator models. -#}

{#- One row per (unit, period type): a unit dated by its school_year and month columns counts
    in its school year and in its month. Periods outside int_periods (the school_year var)
    drop out here. -#}
{% macro expand_to_periods(relation) -%}
    select
        pt.period_type,
        case when pt.period_type = 'school_year' then u.school_year else u.month end as period,
        u.*
    from {{ relation }} as u
    cross join (select 'school_year' as period_type union all select 'month' as period_type) as pt
    where {{ ouderpeil.is_a_period('pt.period_type',
                                   "case when pt.period_type = 'school_year' then u.school_year else u.month end") }}
{%- endmacro %}

{#- Whether (period_type, period), two SQL expressions, is a period of int_periods (the school
    years this build covers, and their months with activity). -#}
{% macro is_a_period(period_type, period) -%}
    exists (
        select 1 from {{ ref('int_periods') }} as p
        where p.period_type = {{ period_type }} and p.period = {{ period }}
    )
{%- endmacro %}

{#- Additive sufficient statistics of one indicator at the finest grain (school x SES group
    x period). `x` is the unit's value (0/1 for a share, a number for a mean), `weight` its
    survey weight (1 unweighted). Only units where x is not null count. Because all columns are
    sums they roll up to board and sector level by summing. -#}
{% macro indicator_base(code, relation, x, weight='1.0', where='1 = 1',
                        period_keys=['period_type', 'period']) -%}
    select
        '{{ code }}' as indicator_code,
        {{ period_keys | join(', ') }},
        school_year,
        sector,
        board_id,
        school_id,
        ses_group,
        count(*) as n,
        sum(cast({{ weight }} as {{ type_double() }})) as sum_w,
        sum(cast({{ weight }} as {{ type_double() }}) * ({{ x }})) as sum_wx,
        sum(cast({{ weight }} as {{ type_double() }}) * ({{ x }}) * ({{ x }})) as sum_wxx,
        sum(cast({{ weight }} as {{ type_double() }}) * cast({{ weight }} as {{ type_double() }})) as sum_ww
    from {{ relation }}
    where ({{ x }}) is not null and ({{ where }})
    group by {{ period_keys | join(', ') }}, school_year, sector, board_id, school_id, ses_group
{%- endmacro %}

{#- indicator_base of several unweighted indicators (weight 1) of one relation from one scan:
    `indicators` is a list of {code, x, where} (where optional). One group by sums each
    indicator's units under its own condition; a cross join with the indicator codes then
    gives indicator_base's row per indicator and group, where that indicator has units. The
    rows are indicator_base's, value for value. One scan per indicator had read a school
    year of messages five times in every build. -#}
{% macro unweighted_indicator_bases(relation, indicators, period_keys=['period_type', 'period']) -%}
    {%- set keys = period_keys + ['school_year', 'sector', 'board_id', 'school_id', 'ses_group'] -%}
    {%- set one = 'cast(1.0 as ' ~ type_double() ~ ')' -%}
    {%- set n = ouderpeil._value_of_indicator('i.indicator_code', indicators, 's.n_') -%}
    select
        i.indicator_code,
        {% for k in keys %}s.{{ k }},{% endfor %}
        {{ n }} as n,
        cast({{ n }} as {{ type_double() }}) as sum_w,
        {{ ouderpeil._value_of_indicator('i.indicator_code', indicators, 's.sum_wx_') }} as sum_wx,
        {{ ouderpeil._value_of_indicator('i.indicator_code', indicators, 's.sum_wxx_') }} as sum_wxx,
        cast({{ n }} as {{ type_double() }}) as sum_ww
    from (
        select
            {{ keys | join(', ') }},
            {%- for ind in indicators %}
            {%- set counts = '(' ~ ind.x ~ ') is not null and (' ~ ind.get('where', '1 = 1') ~ ')' %}
            count(case when {{ counts }} then 1 end) as n_{{ loop.index }},
            sum(case when {{ counts }} then {{ one }} * ({{ ind.x }}) end) as sum_wx_{{ loop.index }},
            sum(case when {{ counts }} then {{ one }} * ({{ ind.x }}) * ({{ ind.x }}) end) as sum_wxx_{{ loop.index }}
            {{- ',' if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        group by {{ keys | join(', ') }}
    ) as s
    cross join (
        {%- for ind in indicators %}
        select '{{ ind.code }}' as indicator_code{{ ' union all' if not loop.last }}
        {%- endfor %}
    ) as i
    where {{ n }} > 0
{%- endmacro %}

{#- The column `prefix`<k> of the k-th of `indicators` whose code `code_column` holds. -#}
{% macro _value_of_indicator(code_column, indicators, prefix) -%}
    case {{ code_column }}
        {%- for ind in indicators %} when '{{ ind.code }}' then {{ prefix }}{{ loop.index }}{% endfor %}
    end
{%- endmacro %}

{#- unweighted_indicator_bases for units that each fall in one month (a message, a
    family-week), without expand_to_periods: the statistics per month, from one scan of
    `relation` (a table with school_year and month columns). Every statistic is a sum, so a
    school year's are the sums of its months' (macro months_and_school_years). Expanding every
    unit into its month and its school year first doubled a year of messages (10.7 M rows in a
    region day) into a table that spilled 6.8 GB under the 2 GB limit. -#}
{% macro indicator_bases_by_month(relation, indicators) -%}
    {{ ouderpeil.unweighted_indicator_bases(relation, indicators, period_keys=['month']) }}
{%- endmacro %}

{#- The rows of indicator_base from month statistics (indicator_bases_by_month): each month of
    int_periods as it is, each school year of int_periods as the sum of all its months. -#}
{% macro months_and_school_years(month_stats) -%}
    select
        m.indicator_code, 'month' as period_type, m.month as period, m.school_year, m.sector,
        m.board_id, m.school_id, m.ses_group, m.n, m.sum_w, m.sum_wx, m.sum_wxx, m.sum_ww
    from {{ month_stats }} as m
    where {{ ouderpeil.is_a_period("'month'", 'm.month') }}
    union all
    select
        m.indicator_code, 'school_year' as period_type, m.school_year as period, m.school_year,
        m.sector, m.board_id, m.school_id, m.ses_group,
        cast(sum(m.n) as bigint) as n, sum(m.sum_w) as sum_w, sum(m.sum_wx) as sum_wx,
        sum(m.sum_wxx) as sum_wxx, sum(m.sum_ww) as sum_ww
    from {{ month_stats }} as m
    where {{ ouderpeil.is_a_period("'school_year'", 'm.school_year') }}
    group by m.indicator_code, m.school_year, m.sector, m.board_id, m.school_id, m.ses_group
{%- endmacro %}

