{#- How an incremental model replaces its rows, per engine: the one place where that choice
    is made. Models name their replace key (school_year, message_id) and call these in their
    config():

        materialized=incremental_materialization('school_year'),
        incremental_strategy=incremental_strategy_for('school_year'),
        partition_by=incremental_partition_by('school_year'),

    DuckDB: delete+insert on the key (rows of the keys the run produces are deleted, the new
    ones inserted). Spark (plain Parquet tables: Delta, Iceberg or Hudi, which merge and delete
    need, are not used): insert_overwrite with the table partitioned by the key, which replaces
    exactly the partitions the run produces (dynamic partition overwrite, set by dbt-spark), the
    same rows as delete+insert. A key too fine to partition by (message_id) cannot be replaced
    without merge, so on Spark that model is a table recomputed in full each run. Other
    engines: delete+insert, which dbt-core's default adapters implement. -#}

{#- Keys a Spark table can be partitioned by: few distinct values (one partition per school
    year). -#}
{% macro _partition_keys() -%}
    {{ return(['school_year']) }}
{%- endmacro %}

{#- in_full_on_spark: the model stays a table recomputed in full on Spark. For
    int_disclosure_pattern: incremental, one of two Spark builds failed with "Not enough memory
    to build and broadcast the table" (bench/FINDINGS.md, eighth round). -#}
{% macro incremental_materialization(unique_key, in_full_on_spark=false) -%}
    {{ return(adapter.dispatch('incremental_materialization', 'ouderpeil')(unique_key, in_full_on_spark)) }}
{%- endmacro %}
{% macro default__incremental_materialization(unique_key, in_full_on_spark=false) -%}
    {{ return('incremental') }}
{%- endmacro %}
{% macro spark__incremental_materialization(unique_key, in_full_on_spark=false) -%}
    {{ return('incremental' if unique_key in ouderpeil._partition_keys() and not in_full_on_spark
              else 'table') }}
{%- endmacro %}

{% macro incremental_strategy_for(unique_key) -%}
    {{ return(adapter.dispatch('incremental_strategy_for', 'ouderpeil')(unique_key)) }}
{%- endmacro %}
{% macro default__incremental_strategy_for(unique_key) -%}
    {{ return('delete+insert') }}
{%- endmacro %}
{% macro duckdb__incremental_strategy_for(unique_key) -%}
    {{ return('delete+insert') }}
{%- endmacro %}
{% macro spark__incremental_strategy_for(unique_key) -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro incremental_partition_by(unique_key) -%}
    {{ return(adapter.dispatch('incremental_partition_by', 'ouderpeil')(unique_key)) }}
{%- endmacro %}
{% macro default__incremental_partition_by(unique_key) -%}
    {{ return(none) }}
{%- endmacro %}
{% macro spark__incremental_partition_by(unique_key) -%}
    {{ return([unique_key] if unique_key in ouderpeil._partition_keys() else none) }}
{%- endmacro %}

{#- The opt-in pruning post-hook (macro delete_stale_school_years in rollups.sql) on Spark: a
    Parquet table has no DELETE, but its rows of a school year are one partition, so the stale
    years' partitions are dropped. The years are looked up when the hook runs. -#}
{% macro spark__delete_stale_school_years(periods_relation) -%}
    {%- if execute and not school_year_var_is_set() and var('prune_stale_school_years', false) -%}
        {%- set stale = run_query('select distinct school_year from ' ~ this
                                  ~ ' where school_year not in (select school_year from '
                                  ~ periods_relation ~ ')') -%}
        {%- for row in stale.rows -%}
            {%- do run_query("alter table " ~ this ~ " drop if exists partition (school_year = '"
                             ~ row[0] ~ "')") -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
