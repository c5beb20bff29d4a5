{#- The `where` config of a data test may use the placeholder __latest_batch__: the rows the
    last dbt run wrote to an incremental model (its highest _processed_at: appended staging
    rows, the rebuilt months of int_messages, int_family_weeks and int_contacts, the recomputed messages of
    int_message_status).
    Why: rows of earlier batches never change and were tested when they were appended, so a
    daily run tests only the new ones; on a full refresh (or the first build) every row has the
    same _processed_at, so the test still covers the whole table. Otherwise dbt's own
    behaviour (default__get_where_subquery). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__latest_batch__' in where -%}
        {%- set latest_batch -%}
            _processed_at = (select max(_processed_at) from {{ relation }})
        {%- endset -%}
        {%- do return('(select * from ' ~ relation ~ ' where '
                      ~ where | replace('__latest_batch__', latest_batch) ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(dbt.default__get_where_subquery(relation)) -%}
    {%- endif -%}
{%- endmacro %}
