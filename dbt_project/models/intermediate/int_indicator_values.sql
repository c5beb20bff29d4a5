{{
    config(
        materialized=incremental_materialization('school_year'),
        incremental_strategy=incremental_strategy_for('school_year'),
        partition_by=incremental_partition_by('school_year'),
        unique_key='school_year',
        on_schema_change='sync_all_columns',
        post_hook="{{ delete_stale_school_years(ref('int_periods')) }}"
    )
}}
-- Every indicator at every grain BEFORE disclosure control (internal use only; publish reads
-- marts.fct_indicator). Roll-ups: school, board and sector level, each per SES group and for
-- all groups ('ALL'), by summing the additive statistics of the base models.
--   share:  value = sum(w x) / sum(w); 95 % Wilson score interval on n_eff
--   mean:   value = sum(w x) / sum(w); 95 % t interval, se = sqrt(var / n_eff), df = n_eff - 1,
--           lower bound clamped at 0 (all means are of non-negative quantities)
--   n_eff = sum(w)^2 / sum(w^2) (Kish); equals n for unweighted indicators.
-- Incremental on school_year: a run with --vars '{school_year: ...}' replaces only that year.
with base as (
    select * from {{ ref('int_indicator_base_contacts') }}
    union all
    select * from {{ ref('int_indicator_base_messages') }}
    union all
    select * from {{ ref('int_indicator_base_survey') }}
),

rolled_up as (
    select
        indicator_code,
        period_type,
        period,
        school_year,
        sector,
        {{ all_when_rolled_up('board_id') }} as board_id,
        {{ all_when_rolled_up('school_id') }} as school_id,
        {{ all_when_rolled_up('ses_group') }} as ses_group,
        sum(n) as n,
        -- rounded after aggregation: a parallel sum of doubles differs in the last bits from
        -- run to run, and every figure (and export byte) downstream derives from these sums
        round(sum(sum_w), 9) as sum_w,
        round(sum(sum_wx), 9) as sum_wx,
        round(sum(sum_wxx), 9) as sum_wxx,
        round(sum(sum_ww), 9) as sum_ww
    from base
    group by {{ indicator_grouping_sets(['indicator_code', 'period_type', 'period', 'school_year']) }}
),

moments as (
    select
        r.*,
        c.kind,
        c.indicator_version,
        r.sum_wx / r.sum_w as mean_value,
        -- rounded: parallel sums differ in the last bits between runs, which moved n_eff
        -- across a whole number and so the t interval's degrees of freedom
        round(r.sum_w * r.sum_w / r.sum_ww, 6) as n_eff
    from rolled_up as r
    inner join {{ ref('indicator_catalogue') }} as c on c.indicator_code = r.indicator_code
    where r.sum_w > 0
),

spread as (
    select
        m.*,
        case
            when m.kind = 'proportion' then {{ proportion_se('m.mean_value', 'm.n_eff') }}
            when m.n_eff > 1 then sqrt(
                greatest(m.sum_wxx / m.sum_w - m.mean_value * m.mean_value, 0.0)
                * m.n_eff / (m.n_eff - 1.0) / m.n_eff)
        end as standard_error,
        {{ t_critical('m.n_eff - 1') }} as t_crit
    from moments as m
)

select
    indicator_code,
    indicator_version,
    kind,
    period_type,
    period,
    school_year,
    sector,
    board_id,
    school_id,
    ses_group,
    -- per_100 indicators: x was 100 * count, so divide to get the plain count back.
    case when kind = 'per_100' then sum_wx / 100.0 else sum_wx end as numerator,
    sum_w as denominator,
    mean_value as value,
    -- Every mean here is of a non-negative quantity (counts, rates, grades): clamp at 0.
    case when kind = 'proportion' then {{ wilson_low('mean_value', 'n_eff') }}
         else greatest(0.0, mean_value - t_crit * standard_error) end as ci_low,
    case when kind = 'proportion' then {{ wilson_high('mean_value', 'n_eff') }}
         else mean_value + t_crit * standard_error end as ci_high,
    standard_error,
    cast(n as integer) as n,
    n_eff
from spread
