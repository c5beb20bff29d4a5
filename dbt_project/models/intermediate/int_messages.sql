{#- Incremental by month on DuckDB (macros/build_months.sql): a planned build replaces the
    months its loads touch. On Spark a table of the build's school years. -#}
{{
    config(
        materialized=incremental_materialization('month', in_full_on_spark=true),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_rebuilt_rows(rebuilt_months_date_filter('sent_date')) }}"
    )
}}
-- Messages with their school, SES group, periods and final status. Messages without any event
-- yet have no final status and count as not delivered.
select
    m.message_id,
    m.school_id,
    s.sector,
    s.board_id,
    coalesce(fs.ses_group, 'onbekend') as ses_group,
    m.family_ref,
    m.sent_at,
    m.sent_date,
    {{ week_start('m.sent_date') }} as week_start,
    {{ month_key('m.sent_date') }} as month,
    {{ school_year_of('m.sent_date') }} as school_year,
    m.channel,
    m.purpose,
    m.tip_id,
    st.final_status,
    coalesce(st.is_delivered, false) as is_delivered,
    coalesce(st.is_read, false) as is_read,
    coalesce(st.has_replied, false) as has_replied,
    st.latest_feedback,
    m._loaded_at,
    -- when dbt built the row: the rows of this build are the ones its tests check
    {{ run_timestamp() }} as _processed_at
from {{ ref('stg_messages') }} as m
inner join {{ ref('stg_schools') }} as s on m.school_id = s.school_id
left join {{ ref('int_family_school') }} as fs
    on m.family_ref = fs.family_ref and m.school_id = fs.school_id
left join {{ ref('int_message_status') }} as st on m.message_id = st.message_id
-- A build of some school years (a backfill) or months (the months a day's data touched)
-- needs only theirs.
where {{ rebuilt_months_date_filter('m.sent_date') }}
