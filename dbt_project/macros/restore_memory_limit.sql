{% macro restore_memory_limit() -%}
{#- The warehouse's DuckDB memory limit again, after a dbt Python model lowered it while it held its frames
    (int_prediction_rows: contact_warehouse/engine/duckdb_settings.py, python_model_memory_limit): the limit the
    Plugin set when dbt opened the database (CONTACT_WAREHOUSE_MEMORY_LIMIT, default 2GB, as DEFAULT_MEMORY_LIMIT;
    tests/test_bench.py renders this macro against it). -#}
{%- set limit = env_var('CONTACT_WAREHOUSE_MEMORY_LIMIT', '') | trim -%}
set memory_limit = '{{ limit or "2GB" }}'
{%- endmacro %}
