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
    where exists (
        select 1 from {{ ref('int_periods') }} as p
        where p.period_type = pt.period_type
          and p.period = case when pt.period_type = 'school_year' then u.school_year else u.month end
    )
{%- endmacro %}

{#- Additive sufficient statistics of one indicator at the finest grain (school x SES group
    x period). `x` is the unit's value (0/1 for a share, a number for a mean), `weight` its
    survey weight (1 unweighted). Only units where x is not null count. Because all columns are
    sums they roll up to board and sector level by summing. -#}
{% macro indicator_base(code, relation, x, weight='1.0', where='1 = 1') -%}
    select
        '{{ code }}' as indicator_code,
        period_type,
        period,
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
    group by period_type, period, school_year, sector, board_id, school_id, ses_group
{%- endmacro %}
