{#- Enforced contract (_marts.yml): on_schema_change may only be append_new_columns or fail;
    the table keeps purged years' aggregates, so a new column is added, never a rebuild. #}
{{
    config(
        materialized=incremental_materialization('school_year'),
        incremental_strategy=incremental_strategy_for('school_year'),
        partition_by=incremental_partition_by('school_year'),
        unique_key='school_year',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_stale_school_years(ref('int_periods')) }}"
    )
}}
-- Channel mix of held contacts and of messages, at the grains of fct_indicator. share =
-- items on the channel / all items of the stream at that grain. Disclosure control: when the
-- stream's total at a grain is below 10 (var min_cell_size), n_items and share are null.
with items as (
    select school_year, month, sector, board_id, school_id, ses_group,
           'contact' as stream, channel
    from {{ ref('int_contacts') }}
    -- every month is kept there (incremental by month): this build's school years
    where is_held and {{ school_year_date_filter('contact_date') }}
    union all
    select school_year, month, sector, board_id, school_id, ses_group,
           'message' as stream, channel
    from {{ ref('int_messages') }}
    -- every month is kept there (incremental by month): this build's school years
    where {{ school_year_date_filter('sent_date') }}
),

-- Items counted per month; a school year's counts are the sums of its months' (expanding
-- every item into its month and school year first doubled a year of messages).
item_months as (
    select stream, channel, school_year, month, sector, board_id, school_id, ses_group,
           count(*) as n_items
    from items
    group by stream, channel, school_year, month, sector, board_id, school_id, ses_group
),

expanded as (
    select
        'month' as period_type, m.month as period, m.stream, m.channel, m.school_year,
        m.sector, m.board_id, m.school_id, m.ses_group, m.n_items
    from item_months as m
    where {{ is_a_period("'month'", 'm.month') }}
    union all
    select
        'school_year' as period_type, m.school_year as period, m.stream, m.channel,
        m.school_year, m.sector, m.board_id, m.school_id, m.ses_group,
        cast(sum(m.n_items) as bigint) as n_items
    from item_months as m
    where {{ is_a_period("'school_year'", 'm.school_year') }}
    group by m.stream, m.channel, m.school_year, m.sector, m.board_id, m.school_id, m.ses_group
),

rolled_up as (
    select
        stream,
        channel,
        period_type,
        period,
        school_year,
        sector,
        {{ all_when_rolled_up('board_id') }} as board_id,
        {{ all_when_rolled_up('school_id') }} as school_id,
        {{ all_when_rolled_up('ses_group') }} as ses_group,
        cast(sum(n_items) as bigint) as n_items
    from expanded
    group by {{ indicator_grouping_sets(['stream', 'channel', 'period_type', 'period', 'school_year']) }}
),

with_totals as (
    select
        r.*,
        sum(r.n_items) over (partition by r.stream, r.period_type, r.period, r.sector,
                                          r.board_id, r.school_id, r.ses_group) as stream_total
    from rolled_up as r
),

boards as (
    select board_id, min(board_name) as board_name
    from {{ ref('stg_schools') }}
    group by board_id
)

select
    t.period_type,
    t.period,
    t.school_year,
    t.sector,
    t.board_id,
    case when t.board_id = 'ALL' then 'Alle besturen' else b.board_name end as board_name,
    t.school_id,
    case when t.school_id = 'ALL' then 'Alle scholen' else s.school_name end as school_name,
    t.ses_group,
    t.stream,
    t.channel,
    case when t.stream_total >= {{ var('min_cell_size') }} then cast(t.n_items as integer) end as n_items,
    case when t.stream_total >= {{ var('min_cell_size') }}
         then cast(t.n_items as {{ type_double() }}) / t.stream_total end as share,
    t.stream_total < {{ var('min_cell_size') }} as suppressed
from with_totals as t
left join boards as b on b.board_id = t.board_id
left join {{ ref('stg_schools') }} as s on s.school_id = t.school_id
