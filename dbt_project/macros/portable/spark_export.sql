{#- The marts of a Spark build as plain Parquet files, for what reads them outside Spark: the
    engine comparison (tests/spark/) now, in production the serving files per board that
    publish builds with DuckDB (docs/SCALE_OUT.md). Runs as on-run-end and does nothing unless
    the environment variable OUDERPEIL_SPARK_MARTS_OUT names a directory, and nothing after a
    failed node: a failed build exports nothing. Every model and seed in schema marts (or the schemas listed in
    OUDERPEIL_SPARK_EXPORT_SCHEMAS, comma-separated) goes to <dir>/<name>/ (Spark's INSERT
    OVERWRITE DIRECTORY, written by Spark itself). -#}
{% macro export_marts_parquet() -%}
    {{ return(adapter.dispatch('export_marts_parquet', 'ouderpeil')()) }}
{%- endmacro %}
{% macro default__export_marts_parquet() -%}
    select 1
{%- endmacro %}
{% macro spark__export_marts_parquet() -%}
    {%- set out = env_var('OUDERPEIL_SPARK_MARTS_OUT', '') -%}
    {%- if execute and out -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list -%}
        {%- set schemas = env_var('OUDERPEIL_SPARK_EXPORT_SCHEMAS', 'marts').split(',') | map('trim') | list -%}
        {%- if not failed -%}
            {%- for node in graph.nodes.values()
                    if node.resource_type in ['model', 'seed'] and node.schema in schemas -%}
                {%- do run_query("insert overwrite directory '" ~ out.rstrip('/') ~ '/' ~ node.name
                                 ~ "' using parquet select * from " ~ node.schema ~ '.' ~ node.alias) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
