with source as (
    {{ deduplicate_latest(source('forms', 'form_answers'), ['response_id', 'answer_index']) }}
),

renamed as (
    select
        response_id || '-' || cast(answer_index as varchar) as answer_id,
        response_id,
        cast(answer_index as integer) as answer_index,
        lower(field) as field,
        type as answer_type,
        value as answer_value
    from source
)

select * from renamed
