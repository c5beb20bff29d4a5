-- The published indicator table: int_indicator_values and int_indicator_gaps after disclosure
-- control.
--   1. n_below_10:    a row with n < 10 (var min_cell_size) is suppressed.
--   2. complementary: where exactly one SES group of a school, board or sector (every grain at
--                     which the four groups add up to the 'ALL' row) is suppressed, the
--                     smallest other group (by n, then name) is suppressed too, so the
--                     suppressed value cannot be worked out from 'ALL' minus the rest.
--   3. gap_side_suppressed: a gap row is suppressed when its laag or hoog row is.
-- Suppressed rows keep n and denominator; value, numerator and interval are null.
with flagged as (
    select
        v.*,
        v.n < {{ var('min_cell_size') }} as is_primary
    from {{ ref('int_indicator_values') }} as v
),

ranked as (
    select
        f.*,
        sum(case when f.ses_group <> 'ALL' and f.is_primary then 1 else 0 end) over (
            partition by f.indicator_code, f.period_type, f.period, f.sector, f.board_id, f.school_id
        ) as primary_groups,
        row_number() over (
            partition by f.indicator_code, f.period_type, f.period, f.sector, f.board_id, f.school_id,
                         (f.ses_group <> 'ALL' and not f.is_primary)
            order by f.n, f.ses_group
        ) as rank_among_unsuppressed
    from flagged as f
),

values_suppressed as (
    select
        r.*,
        case
            when r.is_primary then 'n_below_10'
            when r.ses_group <> 'ALL' and r.primary_groups = 1 and r.rank_among_unsuppressed = 1
                then 'complementary'
        end as suppression_reason
    from ranked as r
),

gaps_suppressed as (
    select
        g.*,
        case when l.suppression_reason is not null or h.suppression_reason is not null
             then 'gap_side_suppressed' end as suppression_reason
    from {{ ref('int_indicator_gaps') }} as g
    inner join values_suppressed as l
        on l.indicator_code = g.base_code and l.period_type = g.period_type and l.period = g.period
       and l.sector = g.sector and l.board_id = g.board_id and l.school_id = g.school_id
       and l.ses_group = 'laag'
    inner join values_suppressed as h
        on h.indicator_code = g.base_code and h.period_type = g.period_type and h.period = g.period
       and h.sector = g.sector and h.board_id = g.board_id and h.school_id = g.school_id
       and h.ses_group = 'hoog'
),

published as (
    select
        indicator_code,
        indicator_version,
        period_type,
        period,
        school_year,
        sector,
        board_id,
        school_id,
        ses_group,
        case when suppression_reason is null then numerator end as numerator,
        denominator,
        case when suppression_reason is null then value end as value,
        case when suppression_reason is null then ci_low end as ci_low,
        case when suppression_reason is null then ci_high end as ci_high,
        n,
        suppression_reason is not null as suppressed,
        suppression_reason,
        cast(null as boolean) as gap_significant
    from values_suppressed

    union all

    select
        indicator_code,
        indicator_version,
        period_type,
        period,
        school_year,
        sector,
        board_id,
        school_id,
        ses_group,
        -- A gap has no numerator/denominator of its own.
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        case when suppression_reason is null then value end as value,
        case when suppression_reason is null then ci_low end as ci_low,
        case when suppression_reason is null then ci_high end as ci_high,
        n,
        suppression_reason is not null as suppressed,
        suppression_reason,
        case when suppression_reason is null then gap_significant end as gap_significant
    from gaps_suppressed
)

select
    cast(indicator_code as {{ type_text() }}) as indicator_code,
    cast(indicator_version as integer) as indicator_version,
    cast(period_type as {{ type_text() }}) as period_type,
    cast(period as {{ type_text() }}) as period,
    cast(school_year as {{ type_text() }}) as school_year,
    cast(sector as {{ type_text() }}) as sector,
    cast(board_id as {{ type_text() }}) as board_id,
    cast(school_id as {{ type_text() }}) as school_id,
    cast(ses_group as {{ type_text() }}) as ses_group,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator,
    cast(value as {{ type_double() }}) as value,
    cast(ci_low as {{ type_double() }}) as ci_low,
    cast(ci_high as {{ type_double() }}) as ci_high,
    cast(n as integer) as n,
    suppressed,
    cast(suppression_reason as {{ type_text() }}) as suppression_reason,
    gap_significant
from published
