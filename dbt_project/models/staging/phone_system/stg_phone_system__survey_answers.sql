{%- set natural_key = ['response_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

with source as (
    {{ deduplicate_latest(source('phone_system', 'surveys'), natural_key) }}
),

renamed as (
    select
        response_id,
        lower(survey_type) as survey_type,
        lower(channel) as channel,
        contact_id,
        respondent as respondent_raw,
        -- The respondent is an e-mail (has @), a phone number (no letters) or else a CRM customer_ref.
        case when respondent like '%@%' then {{ normalize_email('respondent') }} end as respondent_email,
        -- E.164 form computed by the loader when the respondent has no letters (contact_warehouse/enrichment).
        respondent_e164 as respondent_phone,
        case
            when respondent not like '%@%' and not {{ has_no_letters('respondent') }} then trim(respondent)
        end as respondent_customer_ref,
        cast(responded_at as timestamp) as responded_at,
        cast(score as integer) as score,
        comment,
        comment_sentiment,
        respondent_email_node,
        respondent_phone_node,
        respondent_customer_ref_node,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
