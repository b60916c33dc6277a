{#- Sentiment helpers (docs/domain.md section 5): the VADER compound score of a text and its class. -#}

{% macro sentiment_compound(column) -%}
    {{ return(adapter.dispatch('sentiment_compound', 'contact_warehouse')(column)) }}
{%- endmacro %}

{% macro default__sentiment_compound(column) -%}
    {#- A UDF of the same name is registered by contact_warehouse/engine/dbt_udfs.py (DuckDB: VADER's compound in -1..1,
        NULL for an empty text) and must be registered as a Spark UDF on other adapters. -#}
    sentiment_compound({{ column }})
{%- endmacro %}

{% macro sentiment_class(compound, count=none) -%}
    {#- The VADER paper's thresholds (Hutto and Gilbert, ICWSM 2014): positive >= 0.05, negative <= -0.05, else
        neutral; NULL when there is no score. With `count`, `compound` is an exact decimal sum of `count` scores
        and the class is that of their mean, decided without dividing (no rounding). -#}
    {%- set times = '' if count is none else ' * ' ~ count %}
    case
        when {{ compound }} >= 0.05{{ times }} then 'positive'
        when {{ compound }} <= -0.05{{ times }} then 'negative'
        when {{ compound }} is not null then 'neutral'
    end
{%- endmacro %}
