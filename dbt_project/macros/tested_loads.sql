{#- Data tests of the incremental staging models read only the rows they have not yet passed on (issue 22).

    A staging model of an export is incremental: a nightly run inserts the rows of new loads, and a row once written
    is never changed, only deleted when a later load re-delivers its key (macros/staging.sql). A row-local test
    (each failing row fails on its own: not_null, accepted_values, accepted_range, expression_is_true,
    phone_normalized) that passed on every row up to a load therefore still holds for those rows: it need only read
    the rows of later loads. dbt_project.yml gives the staging tests `where: "__untested_loads__"`; the placeholder
    becomes `_load_seq > <the test's watermark>` here, or `1 = 1` (every row) whenever that argument fails:
    - a test that is not row-local (unique, relationships, singular tests) or counts against a threshold
      (error_if / warn_if other than dbt's `!= 0`), or an expression with a subquery;
    - a model that is not incremental in this build (a full refresh, Spark's plain tables);
    - no watermark yet: a new test, a changed one (its arguments are part of its key), the first build.
    on-run-end (record_tested_loads) sets a test's watermark to the newest load of its model only when the test
    passed; a failing or warning test keeps reading those rows until it passes. A full refresh rebuilds the rows
    from raw, possibly with changed SQL: it drops the watermarks of every test of the models it rebuilt (a test
    that passes in the same run sets its watermark again). Uniqueness and relationships stay whole: a new row can
    collide with an old one. DECISIONS.md "Staging tests read only untested loads". -#}

{% macro get_where_subquery(relation) -%}
    {#- dbt's own macro (global_project tests/where_subquery.sql), plus the placeholder. -#}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__untested_loads__' in where -%}
        {%- set where = where | replace('__untested_loads__', untested_loads_condition(model)) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro test_watermarks_relation() -%}
    {%- do return(api.Relation.create(database=target.database, schema='staging', identifier='_test_watermarks')) -%}
{%- endmacro %}

{% macro row_local_test(test_node) -%}
    {#- True when the test's failing rows fail one by one and any failing row fails it: reading fewer rows cannot
        hide a failure among the rows it reads. ``test_node`` is a graph node (a dict) while compiling and a result's
        node (an object) in on-run-end: attribute access reads both. -#}
    {%- set metadata = test_node.test_metadata -%}
    {%- if not metadata -%}{%- do return(false) -%}{%- endif -%}
    {%- set config = test_node.config -%}
    {%- set row_local = metadata.name in ['not_null', 'accepted_values', 'accepted_range', 'expression_is_true',
            'phone_normalized']
        and 'select' not in ((metadata.kwargs or {}).get('expression') or '') | lower
        and (config.error_if or '!= 0') | replace(' ', '') == '!=0'
        and (config.warn_if or '!= 0') | replace(' ', '') == '!=0' -%}
    {%- do return(row_local) -%}
{%- endmacro %}

{% macro test_watermark_key(test_node) -%}
    {#- A changed test (other arguments) is another key, so it reads every row again. -#}
    {%- set metadata = test_node.test_metadata -%}
    {%- do return(test_node.unique_id ~ ':' ~ local_md5(metadata.name ~ tojson(metadata.kwargs, sort_keys=true))) -%}
{%- endmacro %}

{% macro tested_model_node(test_node) -%}
    {%- set attached = test_node.attached_node or (test_node.depends_on.nodes | first) -%}
    {%- do return(graph.nodes.get(attached)) -%}
{%- endmacro %}

{% macro untested_loads_condition(test_node) -%}
    {%- set tested = tested_model_node(test_node) if execute else none -%}
    {%- set watermarks = test_watermarks_relation() -%}
    {%- if not execute or tested is none or flags.FULL_REFRESH or not row_local_test(test_node)
        or tested.config.materialized != 'incremental' or target.type not in ['duckdb', 'postgres']
        or adapter.get_relation(watermarks.database, watermarks.schema, watermarks.identifier) is none -%}
        {%- do return('1 = 1') -%}
    {%- endif -%}
    {%- do return("_load_seq > (select coalesce(max(tested_through), 0) from " ~ watermarks
        ~ " where test_key = '" ~ test_watermark_key(test_node) ~ "')") -%}
{%- endmacro %}

{% macro record_tested_loads(results) -%}
    {#- on-run-end: the watermark of each row-local staging test that passed is its model's newest load; a full
        refresh first drops the watermarks of the tests of every model it rebuilt. -#}
    {%- if not execute or target.type not in ['duckdb', 'postgres'] -%}{%- do return('') -%}{%- endif -%}
    {%- set refreshed = [] -%}
    {%- set passed = [] -%}
    {%- for result in results -%}
        {%- set node = result.node -%}
        {%- if node.resource_type == 'model' and flags.FULL_REFRESH -%}
            {%- do refreshed.append(node.unique_id) -%}
        {%- elif node.resource_type == 'test' and result.status == 'pass'
            and '__untested_loads__' in (node.config.where or '') and row_local_test(node) -%}
            {%- set tested = tested_model_node(node) -%}
            {%- if tested is not none and tested.config.materialized == 'incremental' -%}
                {%- do passed.append((test_watermark_key(node), tested)) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set dropped = [] -%}
    {%- for test_node in graph.nodes.values() if test_node.resource_type == 'test' and refreshed -%}
        {%- set tested = tested_model_node(test_node) -%}
        {%- if tested is not none and tested.unique_id in refreshed and row_local_test(test_node) -%}
            {%- do dropped.append(test_watermark_key(test_node)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not passed and not dropped -%}{%- do return('') -%}{%- endif -%}
    {%- set watermarks = test_watermarks_relation() -%}
    {#- Returned as the hook's SQL: dbt runs it and commits, as any hook. -#}
    {%- set sql -%}
        create schema if not exists {{ watermarks.schema }};
        create table if not exists {{ watermarks }} (test_key varchar(200) not null, tested_through bigint not null);
        {%- for key in dropped %}
        delete from {{ watermarks }} where test_key = '{{ key }}';
        {%- endfor %}
        {%- for key, tested in passed %}
        delete from {{ watermarks }} where test_key = '{{ key }}';
        insert into {{ watermarks }}
        select '{{ key }}', coalesce(max(_load_seq), 0)
        from {{ api.Relation.create(database=tested.database, schema=tested.schema, identifier=tested.alias) }};
        {%- endfor %}
        {%- if target.type == 'postgres' %}
        commit;
        {%- endif %}
    {%- endset -%}
    {%- do return(sql) -%}
{%- endmacro %}
