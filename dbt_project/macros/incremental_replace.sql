{% macro get_incremental_replace_sql(arg_dict) -%}
{#- Incremental strategy 'replace': the model's new result (the temp relation) becomes the whole table. For a
    model that computes its whole table on a nightly run from last night's (int_prediction_rows reads {{ this }}:
    it keeps most rows, relabels some, drops the oldest; DECISIONS.md "int_prediction_rows is incremental"), where
    dbt's append or delete+insert cannot drop the rows of a key that vanished. The table is created anew, so its
    columns are the new result's; --full-refresh still rebuilds it without reading the old one. The temp relation
    is dropped here: for a Python model dbt-duckdb (1.11) writes it as a table of the model's schema but, taking
    it for a temporary one, never drops it (a leftover int_prediction_rows__dbt_tmp<timestamp> per run). -#}
    create or replace table {{ arg_dict["target_relation"] }} as select * from {{ arg_dict["temp_relation"] }};
    drop table if exists {{ arg_dict["temp_relation"] }}
{%- endmacro %}
