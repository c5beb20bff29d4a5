{#- The raw layer on Spark: every table of source 'raw' is an external Parquet table over the
    directory the loader's tables are exported to (ouderpeil/spark_raw.py writes
    <root>/<table>/*.parquet; root from the environment variable OUDERPEIL_SPARK_RAW). Run as
    on-run-start, so every build sees the files exported up to then. Dropping an external
    table leaves its files; creating it anew reads the directory's current files and schema
    (merged over all files, so a column added later is there, null in older loads).
    On DuckDB the loader writes the raw tables into the warehouse itself: nothing to do. -#}
{% macro register_raw_tables() -%}
    {{ return(adapter.dispatch('register_raw_tables', 'ouderpeil')()) }}
{%- endmacro %}
{% macro default__register_raw_tables() -%}
    select 1
{%- endmacro %}
{% macro spark__register_raw_tables() -%}
    {%- if execute -%}
        {%- set root = env_var('OUDERPEIL_SPARK_RAW', '') -%}
        {%- if not root -%}
            {{ exceptions.raise_compiler_error(
                "OUDERPEIL_SPARK_RAW is not set: the directory with the raw tables as Parquet "
                ~ "(ouderpeil/spark_raw.py) is needed for a build on Spark") }}
        {%- endif -%}
        {%- set schemas = [] -%}
        {%- for src in graph.sources.values() if src.source_name == 'raw' -%}
            {%- if src.schema not in schemas -%}
                {%- do run_query('create database if not exists ' ~ src.schema) -%}
                {%- do schemas.append(src.schema) -%}
            {%- endif -%}
            {%- set table = src.schema ~ '.' ~ src.identifier -%}
            {%- do run_query('drop table if exists ' ~ table) -%}
            {%- do run_query("create table " ~ table ~ " using parquet options (mergeSchema 'true') location '"
                             ~ root.rstrip('/') ~ '/' ~ src.identifier ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
