{#- The semantic layer's metric definitions (models/marts/semantic/_semantic__models.yml) compiled into SQL, so that a
    mart's rate column is the metric itself, not a second copy of its formula. -#}

{% macro _semantic_measure(name) -%}
    {#- A measure's SQL expression over the rows of its semantic model (its `expr`, else its name). -#}
    {%- for semantic_model in graph.semantic_models.values() -%}
        {%- for measure in semantic_model.measures if measure.name == name -%}
            {{ return(measure.expr or measure.name) }}
        {%- endfor -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("semantic layer: no measure named '" ~ name ~ "'") }}
{%- endmacro %}

{% macro _semantic_metric(name) -%}
    {%- for metric in graph.metrics.values() if metric.name == name -%}
        {{ return(metric) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("semantic layer: no metric named '" ~ name ~ "'") }}
{%- endmacro %}

{% macro metric_sql(name, aggregate=false, relation=none, columns={}) -%}
    {#- The SQL of a simple or ratio metric over a relation whose rows carry its measures' columns: a simple
        metric is its measure, a ratio is safe_ratio(numerator, denominator) (NULL when the denominator is 0).
        aggregate=true sums each measure first (a roll-up). relation qualifies the measures' columns (a join's
        alias); columns maps a measure's column to this model's own name for the same count (e.g. the staffing
        marts' offered_contacts for calls_entered_queue), so a mart at another grain still divides by the metric's
        definition instead of restating it. Before execution (parsing) the graph is empty: NULL. -#}
    {%- if not execute -%}
        {{ return('cast(null as ' ~ type_double() ~ ')') }}
    {%- endif -%}
    {%- if model.resource_type == 'unit_test' -%}
        {#- dbt gives unit tests a graph without metrics: read the same definitions from the macro written from the
            semantic YAML (contact_warehouse/report/metrics_macro.py), so unit tests check the marts' rates too. -#}
        {%- set definition = semantic_metrics_generated().get(name) -%}
        {%- if definition is none -%}
            {{ exceptions.raise_compiler_error("semantic layer: no metric named '" ~ name ~ "'") }}
        {%- endif -%}
        {%- set numerator = _metric_operand(definition.numerator, aggregate, relation, columns) -%}
        {%- if definition.denominator is none -%}
            {{ return(numerator) }}
        {%- endif -%}
        {%- set denominator = _metric_operand(definition.denominator, aggregate, relation, columns) -%}
        {{ return(safe_ratio('(' ~ numerator ~ ')', '(' ~ denominator ~ ')')) }}
    {%- endif -%}
    {%- set metric = _semantic_metric(name) -%}
    {%- if metric.type == 'simple' -%}
        {{ return(_metric_operand(_semantic_measure(metric.type_params.measure.name), aggregate, relation, columns)) }}
    {%- elif metric.type == 'ratio' -%}
        {%- set numerator = metric_sql(metric.type_params.numerator.name, aggregate, relation, columns) -%}
        {%- set denominator = metric_sql(metric.type_params.denominator.name, aggregate, relation, columns) -%}
        {{ return(safe_ratio('(' ~ numerator ~ ')', '(' ~ denominator ~ ')')) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "metric_sql: metric '" ~ name ~ "' is " ~ metric.type ~ "; write it as a ratio"
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro _metric_operand(expression, aggregate, relation, columns) -%}
    {#- A measure's expression in the calling model: renamed by columns, else qualified by relation when it is a
        bare column (an expression such as 100 * (promoters - detractors) is left as written), then summed when
        aggregating. -#}
    {%- if expression in columns -%}
        {%- set expression = columns[expression] -%}
    {%- elif relation is not none and expression.isidentifier() -%}
        {%- set expression = relation ~ '.' ~ expression -%}
    {%- endif -%}
    {{ return('sum(' ~ expression ~ ')' if aggregate else expression) }}
{%- endmacro %}
