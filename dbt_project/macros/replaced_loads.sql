{#- Pre-hook of the append-only staging models: rows of a load the loader has since replaced
    (new content under the same file name, raw_load_files.status = 'replaced') leave the
    model, so the replacing load's rows can take their keys (docs/LOADING.md). -#}
{% macro delete_replaced_loads() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where _load_id in (
        select load_id from {{ source('raw', 'raw_load_files') }} where status = 'replaced')
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
