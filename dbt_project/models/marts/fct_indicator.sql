-- The published indicator table: int_indicator_values and int_indicator_gaps after disclosure
-- control (docs/DISCLOSURE.md).
--   base indicators: the pattern of int_disclosure_pattern: n < 10 (n_below_10), then
--     secondary suppression over SES groups, schools in a board, boards in a sector and months
--     in a school year (complementary).
--   _weighted rows: a weighted figure is a known mix of the school x SES-group cells below it,
--     so it is published only where every one of those cells is published (else complementary),
--     and never with n < 10: it then adds nothing an attacker could solve for.
--   _gap rows: published only where both the laag and the hoog row are (gap_side_suppressed).
-- Suppressed rows keep n and denominator (INDICATORS.md); value, numerator and interval are null.
with pattern as (
    select * from {{ ref('int_disclosure_pattern') }}
),

catalogue as (
    select indicator_code, base_code, variant from {{ ref('indicator_catalogue') }}
),

base_rows as (
    select
        v.*,
        case when p.is_primary then 'n_below_10'
             when p.suppressed then 'complementary' end as suppression_reason
    from {{ ref('int_indicator_values') }} as v
    inner join pattern as p
        on p.indicator_code = v.indicator_code and p.period_type = v.period_type
       and p.period = v.period and p.sector = v.sector and p.board_id = v.board_id
       and p.school_id = v.school_id and p.ses_group = v.ses_group
),

-- Hidden school x SES-group cells of each base indicator, rolled up to every grain: a
-- weighted row is published only where none lies below it.
hidden_below as (
    select
        base_code,
        period_type,
        period,
        school_year,
        sector,
        {{ all_when_rolled_up('board_id') }} as board_id,
        {{ all_when_rolled_up('school_id') }} as school_id,
        {{ all_when_rolled_up('ses_group') }} as ses_group,
        max(case when suppressed then 1 else 0 end) as any_hidden
    from (
        select p.indicator_code as base_code, p.*
        from pattern as p
        where p.school_id <> 'ALL' and p.ses_group <> 'ALL'
    ) as cells
    group by {{ indicator_grouping_sets(['base_code', 'period_type', 'period', 'school_year']) }}
),

weighted_rows as (
    select
        v.*,
        case when v.n < {{ var('min_cell_size') }} then 'n_below_10'
             when coalesce(h.any_hidden, 1) = 1 then 'complementary' end as suppression_reason
    from {{ ref('int_indicator_values') }} as v
    inner join catalogue as c on c.indicator_code = v.indicator_code and c.variant = 'weighted'
    left join hidden_below as h
        on h.base_code = c.base_code and h.period_type = v.period_type and h.period = v.period
       and h.sector = v.sector and h.board_id = v.board_id and h.school_id = v.school_id
       and h.ses_group = v.ses_group
),

values_suppressed as (
    select * from base_rows
    union all
    select * from weighted_rows
),

gaps_suppressed as (
    select
        g.*,
        case when l.suppression_reason is not null or h.suppression_reason is not null
             then 'gap_side_suppressed' end as suppression_reason
    from {{ ref('int_indicator_gaps') }} as g
    inner join base_rows as l
        on l.indicator_code = g.base_code and l.period_type = g.period_type and l.period = g.period
       and l.sector = g.sector and l.board_id = g.board_id and l.school_id = g.school_id
       and l.ses_group = 'laag'
    inner join base_rows as h
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

-- Figures rounded to 9 decimals after aggregation: sums computed in parallel differ in the
-- last bits between runs; rounded, the same inputs give the same bytes in every export.
select
    cast(p.indicator_code as {{ type_text() }}) as indicator_code,
    cast(p.indicator_version as integer) as indicator_version,
    cast(p.period_type as {{ type_text() }}) as period_type,
    cast(p.period as {{ type_text() }}) as period,
    cast(p.school_year as {{ type_text() }}) as school_year,
    cast(p.sector as {{ type_text() }}) as sector,
    cast(p.board_id as {{ type_text() }}) as board_id,
    cast(p.school_id as {{ type_text() }}) as school_id,
    cast(p.ses_group as {{ type_text() }}) as ses_group,
    cast(round(p.numerator, 9) as {{ type_double() }}) as numerator,
    cast(round(p.denominator, 9) as {{ type_double() }}) as denominator,
    cast(round(p.value, 9) as {{ type_double() }}) as value,
    cast(round(p.ci_low, 9) as {{ type_double() }}) as ci_low,
    cast(round(p.ci_high, 9) as {{ type_double() }}) as ci_high,
    cast(p.n as integer) as n,
    p.suppressed,
    cast(p.suppression_reason as {{ type_text() }}) as suppression_reason,
    cast(r.suppression_reason_nl as {{ type_text() }}) as suppression_reason_nl,
    p.gap_significant
from published as p
left join {{ ref('suppression_reasons') }} as r on r.suppression_reason = p.suppression_reason
