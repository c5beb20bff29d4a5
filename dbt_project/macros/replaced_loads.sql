{#- Pre-hook of the append-only staging models: rows of a load the loader has since replaced
    (new content under the same file name, raw_load_files.status = 'replaced') leave the
    model, so the replacing load's rows can take their keys (docs/LOADING.md). A warehouse
    without the loader's bookkeeping table (a hand-made test warehouse) has no replaced loads. -#}
{% macro delete_replaced_loads() -%}
    {{ return(adapter.dispatch('delete_replaced_loads', 'ouderpeil')()) }}
{%- endmacro %}
{% macro default__delete_replaced_loads() -%}
    {%- set load_files = source('raw', 'raw_load_files') -%}
    {%- if is_incremental() and execute
          and adapter.get_relation(load_files.database, load_files.schema, load_files.identifier) -%}
    delete from {{ this }} where _load_id in (
        select load_id from {{ load_files }} where status = 'replaced')
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
{#- Spark's plain Parquet tables take no row-level delete: on Spark the rows of a replaced
    load stay in the append-only staging tables until a full refresh (open, docs/SCALE_OUT.md). -#}
{% macro spark__delete_replaced_loads() -%}
    select 1
{%- endmacro %}
