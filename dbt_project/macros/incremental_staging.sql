{#- Rows of a raw table that an append-only incremental staging model still has to add:
    rows of loads (_load_id) the model has not processed yet, one per key (the first loaded
    row wins: the contract calls a later row with the same key a duplicate), and only keys
    the model does not hold yet. -#}
{% macro new_first_loaded_rows(relation, key) -%}
{#- The batch: rows with a key, of loads this model has not seen yet (a load id is never
    reused). Read where it is used rather than from one CTE: DuckDB materialises a CTE read
    three times, which on a first build is a whole raw table (region: 41 M events, 40 s;
    read in place 12 s). -#}
{%- set in_batch -%}
    {{ key }} is not null
    {%- if is_incremental() %} and {{ ouderpeil._unseen_loads_filter(relation) }}{% endif %}
{%- endset -%}

-- The loader already rejects duplicate keys (reject reason duplicate_key), so a batch rarely
-- holds a key twice: rank only the keys that occur more than once instead of windowing every
-- row (half the cost at board scale). The first loaded row still wins.
with duplicate_keys as (
    select {{ key }}
    from {{ relation }}
    where {{ in_batch }}
    group by {{ key }}
    having count(*) > 1
),

ranked as (
    select batch.*, 1 as row_rank
    from {{ relation }} as batch
    where {{ in_batch }}
        and not exists (select 1 from duplicate_keys as d where d.{{ key }} = batch.{{ key }})
    union all
    select
        batch.*,
        row_number() over (partition by batch.{{ key }}
                           order by _loaded_at, _file_name, _row_number) as row_rank
    from {{ relation }} as batch
    where {{ in_batch }}
        and exists (select 1 from duplicate_keys as d where d.{{ key }} = batch.{{ key }})
)

{% if is_incremental() %}
-- The keys of the batch this model holds already, kept out by a left join. As
-- `not exists (select 1 from this ...)` on the ranked rows, DuckDB planned a mark join that
-- hashed every held key (41 M event ids: 7 s of a region day); this way it hashes the
-- batch's keys only (under 1 s).
, held as (
    select existing.{{ key }}
    from {{ this }} as existing
    where exists (select 1 from {{ relation }} as batch
                  where {{ in_batch }} and batch.{{ key }} = existing.{{ key }})
)

select ranked.*
from ranked
left join held on held.{{ key }} = ranked.{{ key }}
where ranked.row_rank = 1 and held.{{ key }} is null
{% else %}
select *
from ranked
where row_rank = 1
{% endif %}
{%- endmacro %}

{#- The loads of `relation` this model has not processed, looked up when the model runs and
    written into its SQL as constants. A constant filter on _load_id is checked against each
    row group's min/max before anything is read, so a day's build reads the day's row groups
    only; as a subquery (`not in (select ...)`) it read every column of every raw row first
    (3 of the 6.5 s of stg_message_events in a region day). -#}
{% macro _unseen_loads_filter(relation) -%}
    {%- set load_ids = [] -%}
    {%- if execute -%}
        {%- set unseen = run_query(
            "select distinct _load_id from " ~ relation
            ~ " where coalesce(_load_id, '') not in (select distinct coalesce(_load_id, '') from "
            ~ this ~ ")") -%}
        {%- set load_ids = unseen.columns[0].values() | list -%}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for load_id in load_ids if load_id is not none -%}
        {%- do quoted.append("'" ~ (load_id | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {%- set parts = [] -%}
    {%- if quoted -%}
        {%- do parts.append("_load_id in (" ~ (quoted | join(', ')) ~ ")") -%}
    {%- endif -%}
    {%- if quoted | length < load_ids | length -%}
        {%- do parts.append("_load_id is null") -%}
    {%- endif -%}
    {{- '(' ~ (parts | join(' or ')) ~ ')' if parts else '1 = 0' -}}
{%- endmacro %}
