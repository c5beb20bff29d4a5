{{
    config(
        materialized=incremental_materialization('message_id'),
        incremental_strategy=incremental_strategy_for('message_id'),
        partition_by=incremental_partition_by('message_id'),
        unique_key='message_id',
        on_schema_change='sync_all_columns'
    )
}}
{#- A table built before the watermark column existed is recomputed in full once. #}
{% set has_watermark = is_incremental() and 'last_processed_at' in
        (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
-- Final status and engagement flags per message, from its events only (no join to messages:
-- events of a message that has not arrived yet wait here and join in int_messages later).
-- Incremental: only messages with events staged since the last run are recomputed, each from
-- its full event history, so out-of-order and late events still give the right final status.
with touched as (
    select distinct message_id
    from {{ ref('stg_message_events') }}
    {% if has_watermark %}
    -- events staged by a dbt run after the last one this model has seen
    where _processed_at > (select coalesce(max(last_processed_at), cast('1900-01-01' as {{ type_timestamp_tz() }}))
                          from {{ this }})
    {% endif %}
),

events as (
    select e.*
    from {{ ref('stg_message_events') }} as e
    inner join touched as t on e.message_id = t.message_id
),

-- Status order failed/bounced < queued < sent < delivered < read; ties: the latest event.
status_ranked as (
    select
        message_id,
        event_type,
        status_rank,
        row_number() over (
            partition by message_id
            order by status_rank desc, occurred_at desc, event_id desc
        ) as pick
    from events
    where status_rank is not null
),

-- A parent may rate a tip more than once: the latest rating counts.
feedback_ranked as (
    select
        message_id,
        feedback,
        row_number() over (partition by message_id order by occurred_at desc, event_id desc) as pick
    from events
    where event_type = 'feedback' and feedback in ('nuttig', 'niet_nuttig')
),

per_message as (
    select
        message_id,
        count(*) as n_events,
        max(case when event_type = 'replied' then 1 else 0 end) = 1 as has_replied,
        max(case when event_type = 'clicked' then 1 else 0 end) = 1 as has_clicked,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        max(_loaded_at) as last_event_loaded_at,
        max(_processed_at) as last_processed_at
    from events
    group by message_id
)

select
    p.message_id,
    s.event_type as final_status,
    coalesce(s.status_rank >= 3, false) as is_delivered,
    coalesce(s.status_rank = 4, false) as is_read,
    p.has_replied,
    p.has_clicked,
    f.feedback as latest_feedback,
    p.n_events,
    p.first_event_at,
    p.last_event_at,
    p.last_event_loaded_at,
    p.last_processed_at,
    -- when dbt computed the row: the rows of this run are the ones its tests check
    {{ run_timestamp() }} as _processed_at
from per_message as p
left join status_ranked as s on p.message_id = s.message_id and s.pick = 1
left join feedback_ranked as f on p.message_id = f.message_id and f.pick = 1
