{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        unique_key='event_id',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_replaced_loads() }}"
    )
}}
-- One row per webhook event (delivered at least once: the first copy of an event_id wins).
-- Events whose message is not known yet are kept; they join once the message arrives.
with new_rows as (
    {{ new_first_loaded_rows(source('raw', 'message_events'), 'event_id') }}
)

select
    event_id,
    message_id,
    lower(trim(event_type)) as event_type,
    occurred_at,
    error_code,
    lower(trim(feedback)) as feedback,
    case lower(trim(event_type))
        when 'failed' then 0
        when 'bounced' then 0
        when 'queued' then 1
        when 'sent' then 2
        when 'delivered' then 3
        when 'read' then 4
    end as status_rank,
    _loaded_at,
    _load_id,
    -- when dbt processed the row: the watermark of the incremental models downstream
    {{ run_timestamp() }} as _processed_at
from new_rows
