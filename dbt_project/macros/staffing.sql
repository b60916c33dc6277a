{#- Building blocks of the staffing marts: reporting-zone intervals of a UTC timestamp. -#}

{% macro reporting_timestamp(timestamp_expression) -%}
    {#- A UTC timestamp on the reporting zone's wall clock (var('reporting_timezone')), without zone. -#}
    {%- if var('reporting_timezone') | upper == 'UTC' -%}
        cast({{ timestamp_expression }} as timestamp)
    {%- else -%}
        cast({{ convert_from_utc(timestamp_expression, "'" ~ var('reporting_timezone') ~ "'") }} as timestamp)
    {%- endif -%}
{%- endmacro %}

{% macro reporting_interval_start_utc(timestamp_expression, minutes) -%}
    {#- The UTC start of the reporting-zone interval of `minutes` (15, 30, 60) holding a UTC timestamp: the
        timestamp minus the seconds its local wall clock is into its local interval. Keyed in UTC, the two
        01:00-01:30 intervals of a night when the clocks go back stay two intervals; every zone whose offset is a
        multiple of `minutes` has its local intervals on the same UTC grid. -#}
    {%- set seconds = minutes * 60 -%}
    {%- set truncated = dbt.date_trunc('second', timestamp_expression) -%}
    {%- set local_seconds = dbt.datediff(
        "cast('1970-01-01' as timestamp)", reporting_timestamp(truncated), 'second'
    ) -%}
    {{ dbt.dateadd(
        'second',
        '-1 * (' ~ local_seconds ~ ' - floor(' ~ local_seconds ~ ' / ' ~ seconds ~ '.0) * ' ~ seconds ~ ')',
        'cast(' ~ truncated ~ ' as timestamp)'
    ) }}
{%- endmacro %}

{% macro contract_columns(expressions={}) -%}
    {#- Every column of the model's contract (its entry in _<folder>__models.yml), in the contract's order, cast to
        its data_type: the column list of a mart over a dbt Python model is written once, in the contract, not
        again in SQL. `expressions` gives a column's value when it is not the upstream column of the same name. -#}
    {%- set casts = [] -%}
    {%- for column in model.columns.values() -%}
        {%- set expression = expressions.get(column.name, column.name) -%}
        {%- do casts.append('cast(' ~ expression ~ ' as ' ~ engine_type(column.data_type) ~ ') as ' ~ column.name) -%}
    {%- endfor -%}
    {{ casts | join(',\n    ') }}
{%- endmacro %}

{% macro engine_type(data_type) -%}
    {#- A contract's data_type (DuckDB's spelling, the YAML's) in the target's spelling: string and double have
        none that every engine takes (varchar fails on Spark, double on PostgreSQL); the others are shared. -#}
    {%- if data_type | lower == 'varchar' -%}
        {{ dbt.type_string() }}
    {%- elif data_type | lower == 'double' -%}
        {{ type_double() }}
    {%- else -%}
        {{ data_type }}
    {%- endif -%}
{%- endmacro %}

{% macro python_model_ref(name) -%}
    {#- A dbt Python model's table: ref() on DuckDB, where dbt runs the model; elsewhere the table the Python step
        wrote (source python_models, contact_warehouse/engine/python_steps.py), built between two dbt runs. -#}
    {%- if target.type == 'duckdb' -%}
        {{ ref(name) }}
    {%- else -%}
        {{ source('python_models', name) }}
    {%- endif -%}
{%- endmacro %}

{% macro staffing_metric_columns(relation=none) -%}
    {#- The staffing marts' names for the queue metrics' counts (macro metric_sql): a call leg offered to the queue in
        the interval is the cockpit's call that entered the queue, and an answered leg is both the ASA's answered call
        and the AHT's handled contact (the staffing marts count voice only). -#}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ return({
        'calls_entered_queue': prefix ~ 'offered_contacts',
        'abandoned_calls': prefix ~ 'abandoned_contacts',
        'answered_calls': prefix ~ 'answered_contacts',
        'handled_contacts': prefix ~ 'answered_contacts',
    }) }}
{%- endmacro %}
