{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        unique_key='message_id',
        on_schema_change='sync_all_columns'
    )
}}
-- One row per message. Incremental: a daily load only reads raw rows of loads (_load_id) this
-- model has not processed yet and appends message_ids not seen before. The first loaded row of a
-- message_id wins, as the contract says a later row with the same key is a duplicate.
with batch as (
    select m.*
    from {{ source('raw', 'messages') }} as m
    where m.message_id is not null
    {% if is_incremental() %}
      -- only loads this model has not seen yet (a load id is never reused)
      and coalesce(m._load_id, '') not in (
          select distinct coalesce(_load_id, '') from {{ this }})
    {% endif %}
),

-- The loader already rejects duplicate keys (reject reason duplicate_key), so a batch rarely
-- holds a key twice: rank only the keys that occur more than once instead of windowing every
-- row (half the cost at board scale). The first loaded row still wins.
duplicate_keys as (
    select message_id
    from batch
    group by message_id
    having count(*) > 1
),

ranked as (
    select batch.*, 1 as row_rank
    from batch
    where not exists (select 1 from duplicate_keys as d where d.message_id = batch.message_id)
    union all
    select
        batch.*,
        row_number() over (partition by batch.message_id
                           order by _loaded_at, _file_name, _row_number) as row_rank
    from batch
    where exists (select 1 from duplicate_keys as d where d.message_id = batch.message_id)
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
from ranked
where row_rank = 1
{% if is_incremental() %}
  and not exists (select 1 from {{ this }} as existing where existing.message_id = ranked.message_id)
{% endif %}
