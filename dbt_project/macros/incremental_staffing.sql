{% macro get_incremental_staffing_interval_changes_sql(arg_dict) -%}
{#- Incremental strategy 'staffing_interval_changes', for int_staffing_actuals (DECISIONS.md "int_staffing_actuals
    incremental by interval"): the Python model returns the intervals whose inputs are new or changed
    (contact_warehouse/staffing/actuals.py) and staffing_interval_changes_sql applies them. The temp relation is
    dropped here: for a Python model dbt-duckdb (1.11) writes it as a table of the model's schema but, taking it
    for a temporary one, never drops it. -#}
    {{ staffing_interval_changes_sql(
        arg_dict["target_relation"], arg_dict["temp_relation"], ref('mart_staffing_queue_intervals')
    ) }};
    drop table if exists {{ arg_dict["temp_relation"] }}
{%- endmacro %}

{% macro staffing_interval_changes_sql(target, changes, intervals) -%}
{#- The computed intervals ``changes`` replace the rows of the same key in ``target``, and the rows of intervals no
    longer in ``intervals`` (a corrected call moved to another queue or interval) go. Plain Jinja: the tests render
    it too (tests/test_staffing_actuals_incremental.py). -#}
    delete from {{ target }}
    where staffing_queue_interval_key in (select staffing_queue_interval_key from {{ changes }})
        or staffing_queue_interval_key not in (select staffing_queue_interval_key from {{ intervals }});
    insert into {{ target }} by name select * from {{ changes }}
{%- endmacro %}
