{%- set natural_key = ['response_id', 'answer_index'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('forms', 'form_answers'), natural_key) }}
),

renamed as (
    select
        response_id || '-' || cast(answer_index as {{ dbt.type_string() }}) as answer_id,
        response_id,
        cast(answer_index as integer) as answer_index,
        lower(field) as field,
        type as answer_type,
        value as answer_value,
        -- Computed by the loader for e-mail and phone answers (contact_warehouse/enrichment).
        value_e164 as answer_e164,
        value_node as answer_node,
        _load_seq
    from source
)

select * from renamed
