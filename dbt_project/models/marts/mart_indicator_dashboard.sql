-- fct_indicator (already suppressed) with Dutch labels, names and the national 2014
-- reference, for Superset. One row per fct_indicator row.
with boards as (
    select board_id, min(board_name) as board_name
    from {{ ref('stg_schools') }}
    group by board_id
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
    case when c.variant in ('base', 'weighted') then r.reference_value end as reference_value
from {{ ref('fct_indicator') }} as f
inner join {{ ref('indicator_catalogue') }} as c on c.indicator_code = f.indicator_code
left join boards as b on b.board_id = f.board_id
left join {{ ref('stg_schools') }} as s on s.school_id = f.school_id
left join {{ ref('national_reference_2014') }} as r
    on r.sector = f.sector and r.indicator_code = c.base_code
