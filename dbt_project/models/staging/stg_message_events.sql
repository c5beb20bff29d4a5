{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        unique_key='event_id',
        on_schema_change='sync_all_columns'
    )
}}
-- One row per webhook event (delivered at least once: the first copy of an event_id wins).
-- Events whose message is not known yet are kept; they join once the message arrives.
with batch as (
    select e.*
    from {{ source('raw', 'message_events') }} as e
    where e.event_id is not null
    {% if is_incremental() %}
      -- only loads this model has not seen yet (a load id is never reused)
      and coalesce(e._load_id, '') not in (
          select distinct coalesce(_load_id, '') from {{ this }})
    {% endif %}
),

-- The loader already rejects duplicate keys (reject reason duplicate_key), so a batch rarely
-- holds a key twice: rank only the keys that occur more than once instead of windowing every
-- row (half the cost at board scale). The first loaded row still wins.
duplicate_keys as (
    select event_id
    from batch
    group by event_id
    having count(*) > 1
),

ranked as (
    select batch.*, 1 as row_rank
    from batch
    where not exists (select 1 from duplicate_keys as d where d.event_id = batch.event_id)
    union all
    select
        batch.*,
        row_number() over (partition by batch.event_id
                           order by _loaded_at, _file_name, _row_number) as row_rank
    from batch
    where exists (select 1 from duplicate_keys as d where d.event_id = batch.event_id)
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
from ranked
where row_rank = 1
{% if is_incremental() %}
  and not exists (select 1 from {{ this }} as existing where existing.event_id = ranked.event_id)
{% endif %}
