{#- Sentiment helpers (docs/domain.md section 5): the class of a VADER compound score (the score is
    computed by the loader, contact_warehouse/enrichment). -#}

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
