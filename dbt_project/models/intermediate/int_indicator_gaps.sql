-- Equity gaps BEFORE disclosure control: <code>_gap = value(laag) - value(hoog) at the same
-- period, sector, board and school, for every unweighted indicator. 95 % interval
-- gap +/- z * sqrt(se_laag^2 + se_hoog^2) (se of a share: sqrt(p (1 - p) / n); of a mean: the
-- t-interval's se); significant when the interval excludes zero. A gap exists only where both
-- groups have a value.
with sides as (
    select v.*
    from {{ ref('int_indicator_values') }} as v
    inner join {{ ref('indicator_catalogue') }} as c on v.indicator_code = c.indicator_code
    where c.variant = 'base' and v.ses_group in ('laag', 'hoog')
),

paired as (
    select
        l.indicator_code as base_code,
        l.indicator_version,
        l.period_type,
        l.period,
        l.school_year,
        l.sector,
        l.board_id,
        l.school_id,
        l.value - h.value as gap,
        sqrt(l.standard_error * l.standard_error + h.standard_error * h.standard_error) as standard_error,
        l.n + h.n as n
    from sides as l
    inner join sides as h
        on l.indicator_code = h.indicator_code
            and l.period_type = h.period_type
            and l.period = h.period
            and l.sector = h.sector
            and l.board_id = h.board_id
            and l.school_id = h.school_id
            and h.ses_group = 'hoog'
    where l.ses_group = 'laag'
)

select
    base_code || '_gap' as indicator_code,
    base_code,
    indicator_version,
    period_type,
    period,
    school_year,
    sector,
    board_id,
    school_id,
    'ALL' as ses_group,
    gap as value,
    gap - {{ var('z_95') }} * standard_error as ci_low,
    gap + {{ var('z_95') }} * standard_error as ci_high,
    standard_error,
    n,
    (gap - {{ var('z_95') }} * standard_error > 0) or (gap + {{ var('z_95') }} * standard_error < 0) as gap_significant
from paired
