with source as (
    {{ deduplicate_latest(source('forms', 'form_submissions'), ['response_id']) }}
),

answers as (
    select * from {{ ref('stg_forms__answers') }}
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

renamed as (
    select
        source.response_id,
        source.form_id,
        cast(source.submitted_at as timestamp) as submitted_at,
        source.visitor_id,
        {{ normalize_email('pivoted.email_raw') }} as email,
        {{ normalize_phone('pivoted.phone_raw') }} as phone,
        pivoted.phone_raw,
        pivoted.topic,
        pivoted.message,
        source._source_file,
        source._load_id
    from source
    left join pivoted on source.response_id = pivoted.response_id
)

select * from renamed
