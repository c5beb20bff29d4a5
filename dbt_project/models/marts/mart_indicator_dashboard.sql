-- fct_indicator (already suppressed) with Dutch labels, names and the national 2014
-- reference, for Superset. One row per fct_indicator row.
with boards as (
    select board_id, min(board_name) as board_name
    from {{ ref('stg_schools') }}
    group by board_id
),

-- Months with at least one school day in the holiday region of a school behind the row, at
-- each level (school, board, sector): trend charts leave the summer month out instead of
-- drawing a 0 where no school was open.
school_months as (
    select distinct s.sector, s.board_id, s.school_id, w.month
    from {{ ref('stg_schools') }} as s
    inner join {{ ref('int_school_weeks') }} as w on s.holiday_region = w.region
),

open_months as (
    select sector, board_id, school_id, month from school_months
    union
    select sector, board_id, 'ALL', month from school_months
    union
    select sector, 'ALL', 'ALL', month from school_months
)

select
    f.*,
    c.indicator_label,
    c.indicator_group,
    c.unit,
    case when f.board_id = 'ALL' then 'Alle besturen' else b.board_name end as board_name,
    case when f.school_id = 'ALL' then 'Alle scholen' else s.school_name end as school_name,
    case
        when f.suppressed then 'onderdrukt (n<10)'
        when f.value is null then 'geen waarde'
        when c.kind = 'gap' and c.unit = 'aandeel'
            then {{ format_decimal_nl('100.0 * f.value', 1) }} || ' procentpunt'
        when c.unit = 'aandeel' then {{ format_decimal_nl('100.0 * f.value', 1) }} || ' %'
        when c.unit = 'per_100' then {{ format_decimal_nl('f.value', 1) }} || ' per 100'
        else {{ format_decimal_nl('f.value', 2) }}
    end as value_display,
    -- The monitor reports sector figures for parents; shown beside unweighted and weighted values.
    case when c.variant in ('base', 'weighted') then r.reference_value end as reference_value,
    f.period_type <> 'month' or om.month is not null as has_school_days
from {{ ref('fct_indicator') }} as f
inner join {{ ref('indicator_catalogue') }} as c on f.indicator_code = c.indicator_code
left join boards as b on f.board_id = b.board_id
left join {{ ref('stg_schools') }} as s on f.school_id = s.school_id
left join {{ ref('national_reference_2014') }} as r
    on f.sector = r.sector and c.base_code = r.indicator_code
left join open_months as om
    on f.period_type = 'month' and f.period = om.month and f.sector = om.sector
        and f.board_id = om.board_id and f.school_id = om.school_id
