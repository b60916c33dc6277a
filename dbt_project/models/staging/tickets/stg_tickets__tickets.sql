{%- set natural_key = ['ticket_id'] -%}
{{ config(materialized=incremental_or_table(), unique_key=natural_key) }}

-- The latest delivery of each ticket: the help desk's incremental export repeats a ticket on every day it
-- changed, and the last delivery is its state.
with source as (
    {{ deduplicate_latest(source('tickets', 'tickets'), natural_key) }}
),

renamed as (
    select
        ticket_id,
        subject,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        cast(solved_at as timestamp) as solved_at,
        cast(closed_at as timestamp) as closed_at,
        -- A ticket made from a call says `phone` in the help desk; a call is `voice` in every channel column here.
        case lower(via_channel) when 'phone' then 'voice' else lower(via_channel) end as via_channel,
        lower(status) as status,
        lower(priority) as priority,
        {{ normalize_email('requester_email') }} as requester_email,
        -- E.164 form and identifier hashes computed by the loader (contact_warehouse/enrichment).
        requester_phone_e164 as requester_phone,
        requester_phone as requester_phone_raw,
        requester_customer_ref,
        requester_email_node,
        requester_phone_node,
        requester_customer_ref_node,
        assignee_id,
        group_name,
        lower(satisfaction_score) as satisfaction_score,
        cast(satisfaction_rated_at as timestamp) as satisfaction_rated_at,
        -- Only an export that says so lacks the messages and status history (a one-row-per-ticket report).
        coalesce(history_exported, true) as history_exported,
        _source_file,
        _load_id,
        _load_seq
    from source
)

select * from renamed
