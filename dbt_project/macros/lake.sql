{#- The Parquet lake the loader writes (contact_warehouse/loading/lake.py, DECISIONS.md "The Parquet lake"). On
    DuckDB the sources read it through dbt-duckdb's external_location (dbt_project.yml, `raw_source: lake`); an
    engine without that config (Spark) reads it as external tables, created once per lake with

        dbt run-operation create_lake_tables --target spark --args '{lake: "s3a://bucket/lake"}'

    (default: CONTACT_WAREHOUSE_LAKE). For each dbt source table it runs, e.g. for raw.calls:

        create schema if not exists raw;
        create table if not exists raw.`calls` using parquet
            options (path 's3a://bucket/lake/calls', recursiveFileLookup 'true', mergeSchema 'true');

    recursiveFileLookup reads every load's partition folder without adding export/load_id columns (each row has
    its _load_id already); mergeSchema takes the columns of every file, as union_by_name does on DuckDB. The
    loader's own tables are one file each (`<lake>/_load_ledger/data.parquet`: Spark skips
    files whose name starts with `_`, not a folder given as the path). New loads need no DDL: the table reads
    the folder at query time (`refresh table` drops Spark's cached file list within one session). -#}

{% macro create_lake_tables(lake=none) -%}
    {{ return(adapter.dispatch('create_lake_tables', 'contact_warehouse')(lake)) }}
{%- endmacro %}

{% macro default__create_lake_tables(lake) -%}
    {%- set root = (lake or env_var('CONTACT_WAREHOUSE_LAKE', '')).rstrip('/') -%}
    {%- if not root -%}
        {{ exceptions.raise_compiler_error(
            "create_lake_tables: give --args '{lake: <url>}' or set CONTACT_WAREHOUSE_LAKE") }}
    {%- endif -%}
    {%- set schemas = [] -%}
    {#- Not the source python_models: the Python step writes those (contact_warehouse/engine/python_steps.py). -#}
    {%- for node in graph.sources.values() if node.source_name != 'python_models' -%}
        {%- if node.schema not in schemas -%}
            {%- do schemas.append(node.schema) -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
        {%- endif -%}
        {%- set path = root ~ '/' ~ node.name -%}
        {%- set ddl -%}
            create table if not exists {{ node.schema }}.`{{ node.name }}` using parquet
            options (path '{{ path }}', recursiveFileLookup 'true', mergeSchema 'true')
        {%- endset -%}
        {%- do log('create_lake_tables: ' ~ node.schema ~ '.' ~ node.name ~ ' <- ' ~ path, info=true) -%}
        {%- do run_query(ddl) -%}
    {%- endfor -%}
{%- endmacro %}
