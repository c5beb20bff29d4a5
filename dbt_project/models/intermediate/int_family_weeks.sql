{#- Incremental by month on DuckDB, like int_messages (macros/build_months.sql). A week
    belongs to its Thursday's month: the messages of its first or last days can fall in the
    month before or after, hence the 6-day margin on the messages read. -#}
{{
    config(
        materialized=incremental_materialization('month', in_full_on_spark=true),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_rebuilt_rows(rebuilt_months_filter('month', 'school_year')) }}"
    )
}}
-- Family-school-weeks: every school week in which a family was enrolled at the school on at
-- least one day, with the number of messages the school sent that family that week. The unit
-- of message_dose (per family) and message_overdose (per family-week).
with enrolled_weeks as (
    select distinct
        f.family_ref,
        f.school_id,
        fs.sector,
        fs.board_id,
        fs.ses_group,
        w.week_start,
        w.month,
        w.school_year
    from {{ ref('stg_families') }} as f
    inner join {{ ref('int_family_school') }} as fs
        on f.family_ref = fs.family_ref and f.school_id = fs.school_id
    inner join {{ ref('int_school_weeks') }} as w
        on fs.holiday_region = w.region
            and f.enrolled_from <= w.week_end
            and f.enrolled_until >= w.week_start
    where {{ rebuilt_months_filter('w.month', 'w.school_year') }}
),

weekly_messages as (
    select family_ref, school_id, week_start, count(*) as n_messages
    from {{ ref('int_messages') }}
    where {{ rebuilt_months_date_filter('sent_date', margin_days=6) }}
    group by family_ref, school_id, week_start
)

select
    e.*,
    coalesce(m.n_messages, 0) as n_messages,
    -- when dbt built the row: the rows of this build are the ones its tests check
    {{ run_timestamp() }} as _processed_at
from enrolled_weeks as e
left join weekly_messages as m
    on e.family_ref = m.family_ref and e.school_id = m.school_id and e.week_start = m.week_start
