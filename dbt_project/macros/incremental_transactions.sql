{#- int_transactions_enriched incremental by unit (DECISIONS.md "int_transactions_enriched incremental (issue 22,
    enriched2, 4 December, eighth session)"). A transaction's row depends only on its unit's staging rows and codes,
    its record's customer and the global inputs (transactions_global_inputs). The units: a call by its root leg (the
    record_id of its ivr and call_leg transactions), a chat by conversation, a text thread, a FAQ visitor (visits are
    numbered per visitor), a form, a ticket. The pre-hook deletes the stored rows of every unit a night can change;
    the model then builds the current units that have no stored row (which also repairs a run that failed between
    the delete and the append). -#}

{% macro transactions_global_inputs() -%}
{#- What every transaction depends on besides its unit: the settings the union and the chains read, whether the
    exports report resolution at all, and the intent mapping. Stored on every row (_global_inputs); a change
    rebuilds every row. -#}
    {{ dbt.concat([
        "'max_transfer_depth=" ~ var('max_transfer_depth') ~ ";session_gap_minutes=" ~ var('session_gap_minutes')
            ~ ";reporting_timezone=" ~ var('reporting_timezone') ~ ";calls_resolution='",
        "case when (select count(is_resolved) from " ~ ref('stg_phone_system__calls') ~ ") > 0"
            ~ " then 'yes' else 'no' end",
        "';chats_resolution='",
        "case when (select count(is_resolved) from " ~ ref('stg_chat__conversations') ~ ") > 0"
            ~ " then 'yes' else 'no' end",
        "';intent_codes='",
        "(select " ~ fingerprint_agg(row_fingerprint(ref('int_intent_codes'))) ~ " from "
            ~ ref('int_intent_codes') ~ ")",
        "';non_intent_codes='",
        "(select " ~ fingerprint_agg(row_fingerprint(ref('non_intent_codes'))) ~ " from "
            ~ ref('non_intent_codes') ~ ")",
    ]) }}
{%- endmacro %}

{% macro transactions_run_state() -%}
{#- The columns of int_transactions_enriched that are its incremental state, not a transaction's data. -#}
    {{ return(['_newest_load_seq', '_records_computed_at', '_global_inputs']) }}
{%- endmacro %}

{% macro transactions_newest_load() -%}
{#- The newest load of the staging rows the transactions are built from (_newest_load_seq): the next night's
    watermark. -#}
    (select max(load_seq) from (
        {%- for model in transaction_staging_models() %}
        {% if not loop.first %}union all {% endif -%}
        select max(_load_seq) as load_seq from {{ ref(model) }}
        {%- endfor %}
    ) as loads)
{%- endmacro %}

{% macro transaction_staging_models() -%}
    {{ return([
        'stg_phone_system__calls', 'stg_phone_system__ivr_events', 'stg_phone_system__sms_messages',
        'stg_chat__conversations', 'stg_chat__messages', 'stg_chat__tags', 'stg_help_center__faq_views',
        'stg_forms__submissions', 'stg_tickets__tickets', 'stg_tickets__messages', 'stg_tickets__tags',
        'stg_tickets__status_changes',
    ]) }}
{%- endmacro %}

{% macro transactions_unit_filter(column, unit) -%}
{#- In the nightly run's union, a source restricted to the units being built (the CTEs of
    transaction_units_without_rows); nothing in the view. -#}
    {%- if unit is not none %} where {{ column }} in (select unit_id from {{ unit }}){% endif -%}
{%- endmacro %}

{% macro transaction_units_without_rows() -%}
{#- The model's CTEs on a nightly run: the current units that have no stored row (the pre-hook deleted those a
    night can change; a new unit has none yet). Every unit has at least one transaction: a conversation a bot or an
    agent part, a call an IVR or a leg transaction with its root as record_id. -#}
legs_now as (
    select call_id, root_call_id from {{ ref('int_call_legs_chained') }}
),

units_roots as (
    select root_call_id as unit_id from legs_now
    union
    select call_id from {{ ref('stg_phone_system__ivr_events') }}
    where call_id not in (select call_id from legs_now)
    except
    select record_id from {{ this }} where record_type = 'call_leg'
),

units_ivr_calls as (
    select call_id as unit_id from legs_now where root_call_id in (select unit_id from units_roots)
    union
    select unit_id from units_roots
),

units_conversations as (
    select conversation_id as unit_id from {{ ref('stg_chat__conversations') }}
    except
    select source_id from {{ this }} where transaction_type in ('chat_bot', 'chat_agent')
),

units_threads as (
    select thread_id as unit_id from {{ ref('stg_phone_system__sms_messages') }}
    except
    select source_id from {{ this }} where transaction_type = 'sms_thread_day'
),

units_visitors as (
    select visitor_key as unit_id from {{ ref('int_faq_visits_sessionized') }}
    where visit_id not in (select source_id from {{ this }} where transaction_type = 'faq_visit')
),

units_visits as (
    select visit_id as unit_id from {{ ref('int_faq_visits_sessionized') }}
    where visitor_key in (select unit_id from units_visitors)
),

units_forms as (
    select response_id as unit_id from {{ ref('stg_forms__submissions') }}
    except
    select source_id from {{ this }} where transaction_type = 'form'
),

units_tickets as (
    select ticket_id as unit_id from {{ ref('int_ticket_requests_segmented') }}
    except
    select source_id from {{ this }} where transaction_type = 'ticket_request'
),
{%- endmacro %}

{% macro delete_changed_transaction_units() -%}
{#- Pre-hook of int_transactions_enriched: deletes the stored rows of every unit a night can change. The watermark is
    the newest staging load the stored rows were built from (_newest_load_seq); a re-delivered row's earlier version,
    and so the parent it had, is read from the raw table (source) at or below it. A run that failed after this
    delete leaves an older watermark, so the next one deletes at least as much. -#}
    {%- if is_incremental() %}
        {{ require_built_with('_newest_load_seq', 'it became incremental by unit') }}
        {%- set watermark = '(select coalesce(max(_newest_load_seq), 0) from ' ~ this ~ ')' %}
        {%- set depth = var('max_transfer_depth') %}
    delete from {{ this }}
    where _global_inputs <> {{ transactions_global_inputs() }}
    or (record_type = 'call_leg' and record_id in (
        with new_legs as (
            select call_id, parent_call_id from {{ ref('stg_phone_system__calls') }} where _load_seq > {{ watermark }}
        ),

        -- The legs of the new loads, their parents (transfers_out), the parents they had, the IVR calls of the new
        -- loads.
        touched as (
            select call_id from new_legs
            union
            select parent_call_id from new_legs where parent_call_id is not null
            union
            select earlier.parent_call_id
            from {{ source('phone_system', 'calls') }} as earlier
            where earlier._load_seq <= {{ watermark }} and earlier.parent_call_id is not null
                and earlier.call_id in (select call_id from new_legs)
            union
            select call_id from {{ ref('stg_phone_system__ivr_events') }} where _load_seq > {{ watermark }}
        ),

        -- With the legs below them up to the depth the chains follow: their root can change with them.
        below as (
            select call_id from touched
            {%- for level in range(1, depth + 1) %}
            union
            select leg_{{ level }}.call_id
            from touched
            {%- for step in range(1, level + 1) %}
            {%- set above = 'touched.call_id' if step == 1 else 'leg_' ~ (step - 1) ~ '.call_id' %}
            inner join {{ ref('stg_phone_system__calls') }} as leg_{{ step }}
                on leg_{{ step }}.parent_call_id = {{ above }}
            {%- endfor %}
            {%- endfor %}
        )

        select coalesce(legs.root_call_id, below.call_id)
        from below
        left join {{ ref('int_call_legs_chained') }} as legs on below.call_id = legs.call_id
        union
        select stored.record_id
        from {{ this }} as stored
        where stored.transaction_type in ('ivr', 'call_leg') and stored.source_id in (select call_id from below)
    ))
    or (transaction_type in ('chat_bot', 'chat_agent') and source_id in (
        select conversation_id from {{ ref('stg_chat__conversations') }} where _load_seq > {{ watermark }}
        union
        select conversation_id from {{ ref('stg_chat__messages') }} where _load_seq > {{ watermark }}
        union
        select conversation_id from {{ ref('stg_chat__tags') }} where _load_seq > {{ watermark }}
        union
        select earlier.conversation_id
        from {{ source('chat', 'chat_messages') }} as earlier
        where earlier._load_seq <= {{ watermark }} and earlier.message_id in (
            select message_id from {{ ref('stg_chat__messages') }} where _load_seq > {{ watermark }}
        )
    ))
    or (transaction_type = 'sms_thread_day' and source_id in (
        select thread_id from {{ ref('stg_phone_system__sms_messages') }} where _load_seq > {{ watermark }}
        union
        select earlier.thread_id
        from {{ source('phone_system', 'sms') }} as earlier
        where earlier._load_seq <= {{ watermark }} and earlier.message_id in (
            select message_id from {{ ref('stg_phone_system__sms_messages') }} where _load_seq > {{ watermark }}
        )
    ))
    -- A visit's id is its first view: the visits of a touched visitor are those whose first view is still the
    -- visitor's, and the re-delivered views.
    or (transaction_type = 'faq_visit' and source_id in (
        with new_views as (
            select view_id from {{ ref('stg_help_center__faq_views') }} where _load_seq > {{ watermark }}
        ),

        visitors as (
            select visitor_key from {{ ref('int_faq_visits_sessionized') }}
            where view_id in (select view_id from new_views)
            union
            select coalesce(earlier.visitor_id, 'ref:' || earlier.customer_ref, 'view:' || earlier.view_id)
            from {{ source('help_center', 'faq_views') }} as earlier
            where earlier._load_seq <= {{ watermark }} and earlier.view_id in (select view_id from new_views)
        )

        select view_id from {{ ref('int_faq_visits_sessionized') }}
        where visitor_key in (select visitor_key from visitors)
        union
        select view_id from new_views
    ))
    or (transaction_type = 'form' and source_id in (
        select response_id from {{ ref('stg_forms__submissions') }} where _load_seq > {{ watermark }}
        union
        select response_id from {{ ref('stg_forms__answers') }} where _load_seq > {{ watermark }}
    ))
    -- A ticket's requests also carry its tags (their intent), which the help desk's own models do not read.
    or (transaction_type = 'ticket_request' and source_id in (
        {{ tickets_changed_since(watermark) }}
        union
        select ticket_id from {{ ref('stg_tickets__tags') }} where _load_seq > {{ watermark }}
    ))
    -- The transactions of records whose customer int_records_customers computed again since the stored rows were
    -- built and found different (a merge, a split, an identifier blocked or unblocked). A record it dropped was
    -- re-delivered, so its unit is deleted above.
    or exists (
        select 1
        from {{ ref('int_records_customers') }} as records
        where records.record_type = {{ this }}.record_type and records.record_id = {{ this }}.record_id
            and records._components_computed_at > (
                select coalesce(max(_records_computed_at), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
            )
            and (records.customer_key <> {{ this }}.customer_key
                or records.is_ambiguous <> {{ this }}.is_customer_ambiguous)
    )
    {%- endif %}
{%- endmacro %}
