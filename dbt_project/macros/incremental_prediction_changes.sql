{% macro get_incremental_prediction_changes_sql(arg_dict) -%}
{#- Incremental strategy 'prediction_changes', for int_prediction_rows (DECISIONS.md "The nightly prediction rows
    are a change set"): on a nightly run the Python model returns a change set (marked by a '__changes' row) and
    only what changed is written, inside the target, in dbt's transaction (prediction_changes_sql). When the model
    had to compute everything (a var changed, last night's table has another shape, ...) its result has no marker
    and becomes the whole table, with its columns. --full-refresh rebuilds the table without this strategy. The
    temp relation is dropped here: for a Python model dbt-duckdb (1.11) writes it as a table of the model's schema
    but, taking it for a temporary one, never drops it. -#}
    {%- set target, temp = arg_dict["target_relation"], arg_dict["temp_relation"] -%}
    {%- set marked = run_query("select count(*) from " ~ temp ~ " where model_name = '__changes'") -%}
    {%- if marked.columns[0].values()[0] > 0 -%}
    {{ prediction_changes_sql(target, temp) }};
    {%- else -%}
    create or replace table {{ target }} as select * from {{ temp }};
    {%- endif %}
    drop table if exists {{ temp }}
{%- endmacro %}

{% macro prediction_changes_sql(target, changes) -%}
{#- Apply the change set ``changes`` to ``target`` (contact_warehouse/predictions/incremental.py writes it; the bench
    and tests/test_predictions_incremental.py render this macro): the rows of the customers and times it deletes
    go, a row of the set replaces the row of the same key (a relabelled one) or is new, and the kept customers
    whose inputs grew get their new fingerprint. Instructions are the rows whose model_name starts with '__'. -#}
    delete from {{ target }}
    where customer_key in (select customer_key from {{ changes }} where model_name = '__delete_customer')
        or snapshot_at in (select snapshot_at from {{ changes }} where model_name = '__delete_time');
    delete from {{ target }} as t using {{ changes }} as c
    where left(c.model_name, 2) <> '__'
        and t.model_name = c.model_name
        and t.snapshot_at = c.snapshot_at
        and t.customer_key = c.customer_key
        and t.engagement_id is not distinct from c.engagement_id;
    update {{ target }} as t set _input_fingerprint = c._input_fingerprint
    from {{ changes }} as c
    where c.model_name = '__set_fingerprint' and t.customer_key = c.customer_key;
    insert into {{ target }} by name select * from {{ changes }} where left(model_name, 2) <> '__'
{%- endmacro %}
