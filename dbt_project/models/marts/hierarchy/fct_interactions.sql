-- Level 3: one row per interaction (a session of one customer), pointing to its engagement.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_stale_customers() }}",
    post_hook=["{{ forget_stale_customers() }}", "{{ record_rebuilt_customers() }}"],
) }}
select
    interaction_id,
    engagement_id,
    customer_key,
    started_at,
    ended_at,
    intent,
    intent_code_id,
    channel_path,
    first_channel,
    last_channel,
    channels_count,
    transactions_count,
    effort_minutes,
    is_assisted,
    not is_assisted as is_self_service_only,
    is_ivr_contained,
    is_bot_only_chat,
    has_faq_visit,
    is_outbound_only,
    is_customer_initiated,
    is_resolved,
    is_resolution_known,
    resolution_method,
    resolved_at,
    last_agent_id,
    last_queue,
    interaction_sequence as sequence_in_engagement,
    _input_fingerprint
from {{ ref('int_engagements_windowed') }}
{{ customers_to_rebuild('customer_key') }}
