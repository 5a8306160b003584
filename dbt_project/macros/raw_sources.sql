{#-
  Where the `raw` sources come from, per engine (an on-run-start hook, dbt_project.yml).
  DuckDB: ingest writes the raw tables into the warehouse file itself; nothing to do.
  Spark: ingest exports every raw table as Parquet, partitioned by export date
  (ingest/parquet_export.py: $O2C_SPARK_DIR/raw/<table>/export_date=<date>/*.parquet); this
  registers each folder as the external table raw.<table> with its partitions, so the models
  read `{{ source('raw', ...) }}` unchanged. The tables are the sources of the project's yml,
  so the list cannot drift. Dropping an external table leaves its files alone.
-#}
{% macro register_raw_tables() -%}
    {{ return(adapter.dispatch('register_raw_tables', 'o2c')()) }}
{%- endmacro %}

{% macro default__register_raw_tables() -%}
{%- endmacro %}

{#- `published_history` (the exception history carried in from the published file) is exported
    the same way, one unpartitioned folder per table (ingest/parquet_export.py) -#}
{% macro spark__register_raw_tables() -%}
    {%- if execute -%}
        {%- set spark_dir = env_var('O2C_SPARK_DIR', '../data/spark') -%}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() if node.source_name in ('raw', 'published_history') -%}
            {%- if node.schema not in schemas -%}
                {%- do run_query('create schema if not exists ' ~ node.schema) -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
            {%- set relation = node.schema ~ '.' ~ node.identifier -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query('create table ' ~ relation ~ " using parquet location '" ~ spark_dir ~ '/' ~ node.source_name ~ '/' ~ node.identifier ~ "'") -%}
            {%- if node.source_name == 'raw' -%}
                {%- do run_query('alter table ' ~ relation ~ ' recover partitions') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
