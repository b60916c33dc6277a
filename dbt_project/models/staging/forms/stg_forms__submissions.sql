{%- set natural_key = ['response_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('forms', 'form_submissions'), natural_key) }}
),

answers as (
    -- Only the answers of the submissions read (on an incremental run, those of the new loads).
    select * from {{ ref('stg_forms__answers') }}
    where response_id in (select response_id from source)
),

-- The answers array holds the contact fields; pivoting them onto the submission is a rename, not logic.
pivoted as (
    select
        response_id,
        max(case when field = 'email' then answer_value end) as email_raw,
        max(case when field = 'phone' then answer_value end) as phone_raw,
        max(case when field = 'topic' then answer_value end) as topic,
        max(case when field = 'message' then answer_value end) as message
    from answers
    group by response_id
),

-- The loader's E.164 form and identifier hash of each distinct contact answer (contact_warehouse/enrichment),
-- joined to the answer the pivot kept.
contact_answers as (
    select response_id, field, answer_value, max(answer_e164) as answer_e164, max(answer_node) as answer_node
    from answers
    where field in ('email', 'phone')
    group by response_id, field, answer_value
),

renamed as (
    select
        source.response_id,
        source.form_id,
        cast(source.submitted_at as timestamp) as submitted_at,
        source.visitor_id,
        {{ normalize_email('pivoted.email_raw') }} as email,
        phone_answer.answer_e164 as phone,
        pivoted.phone_raw,
        source.visitor_id_node,
        email_answer.answer_node as email_node,
        phone_answer.answer_node as phone_node,
        pivoted.topic,
        pivoted.message,
        source._source_file,
        source._load_id,
        source._load_seq
    from source
    left join pivoted on source.response_id = pivoted.response_id
    left join contact_answers as email_answer
        on
            pivoted.response_id = email_answer.response_id
            and email_answer.field = 'email'
            and pivoted.email_raw = email_answer.answer_value
    left join contact_answers as phone_answer
        on
            pivoted.response_id = phone_answer.response_id
            and phone_answer.field = 'phone'
            and pivoted.phone_raw = phone_answer.answer_value
)

select * from renamed
