{#- Incremental by month on DuckDB, like int_messages (macros/build_months.sql): a planned
    build replaces the months its loads touch. On Spark a table of the build's school years. -#}
{{
    config(
        materialized=incremental_materialization('month', in_full_on_spark=true),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_rebuilt_rows(rebuilt_months_date_filter('contact_date')) }}"
    )
}}
-- Contacts with their school, SES group and periods.
select
    c.contact_id,
    c.school_id,
    s.sector,
    s.board_id,
    coalesce(fs.ses_group, 'onbekend') as ses_group,
    c.family_ref,
    c.contact_at,
    c.contact_date,
    {{ month_key('c.contact_date') }} as month,
    {{ school_year_of('c.contact_date') }} as school_year,
    c.channel,
    c.initiated_by,
    c.topic,
    c.status,
    c.is_held,
    c.is_individual,
    c.is_scheduled,
    -- when dbt built the row: the rows of this build are the ones its tests check
    {{ run_timestamp() }} as _processed_at
from {{ ref('stg_contact_logs') }} as c
inner join {{ ref('stg_schools') }} as s on c.school_id = s.school_id
left join {{ ref('int_family_school') }} as fs
    on c.family_ref = fs.family_ref and c.school_id = fs.school_id
-- A build of some school years (a backfill) or months (the months a day's data touched)
-- needs only theirs.
where {{ rebuilt_months_date_filter('c.contact_date') }}
