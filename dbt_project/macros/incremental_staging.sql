{#- Rows of a raw table that an append-only incremental staging model still has to add:
    rows of loads (_load_id) the model has not processed yet, one per key (the first loaded
    row wins: the contract calls a later row with the same key a duplicate), and only keys
    the model does not hold yet. -#}
{% macro new_first_loaded_rows(relation, key) -%}
with batch as (
    select *
    from {{ relation }}
    where {{ key }} is not null
    {% if is_incremental() %}
      -- only loads this model has not seen yet (a load id is never reused)
      and coalesce(_load_id, '') not in (select distinct coalesce(_load_id, '') from {{ this }})
    {% endif %}
),

-- The loader already rejects duplicate keys (reject reason duplicate_key), so a batch rarely
-- holds a key twice: rank only the keys that occur more than once instead of windowing every
-- row (half the cost at board scale). The first loaded row still wins.
duplicate_keys as (
    select {{ key }}
    from batch
    group by {{ key }}
    having count(*) > 1
),

ranked as (
    select batch.*, 1 as row_rank
    from batch
    where not exists (select 1 from duplicate_keys as d where d.{{ key }} = batch.{{ key }})
    union all
    select
        batch.*,
        row_number() over (partition by batch.{{ key }}
                           order by _loaded_at, _file_name, _row_number) as row_rank
    from batch
    where exists (select 1 from duplicate_keys as d where d.{{ key }} = batch.{{ key }})
)

select *
from ranked
where row_rank = 1
{% if is_incremental() %}
  and not exists (select 1 from {{ this }} as existing where existing.{{ key }} = ranked.{{ key }})
{% endif %}
{%- endmacro %}
