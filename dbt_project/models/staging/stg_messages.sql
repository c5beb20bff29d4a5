{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        unique_key='message_id',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_replaced_loads() }}"
    )
}}
-- One row per message. Incremental: a daily load only reads raw rows of loads (_load_id) this
-- model has not processed yet and appends message_ids not seen before. The first loaded row of a
-- message_id wins, as the contract says a later row with the same key is a duplicate.
with new_rows as (
    {{ new_first_loaded_rows(source('raw', 'messages'), 'message_id') }}
)

select
    message_id,
    upper(trim(school_id)) as school_id,
    family_ref,
    cast(sent_at as timestamp) as sent_at,
    cast(sent_at as date) as sent_date,
    lower(trim(channel)) as channel,
    lower(trim(purpose)) as purpose,
    lower(trim(language)) as language,
    tip_id,
    _loaded_at,
    _load_id,
    -- when dbt processed the row: the watermark of the incremental models downstream
    {{ run_timestamp() }} as _processed_at
from new_rows
