-- Cross-channel duplicates per period and intent: form submissions followed by a chat, a call or a ticket that the
-- same customer started, on the same intent by the contact's own codes, within var('duplicate_window_hours') (48) /
-- form submissions. A company callback after a form is the answer to it, not a duplicate; a call that has no
-- code of its own and only inherits the form's intent through its interaction proves nothing.
-- A form's intent is its own topic (unknown when it has none).
with transactions as (
    select * from {{ ref('fct_transactions') }}
),

forms as (
    select * from transactions where transaction_type = 'form'
),

followups as (
    select * from transactions
    where channel in ('chat', 'ivr', 'voice', 'email') and is_customer_initiated and intent is not null
),

duplicated as (
    select forms.transaction_id
    from forms
    inner join followups
        on forms.customer_key = followups.customer_key
        and coalesce(forms.intent, 'unknown') = followups.intent
        and followups.intent not in ('unknown', 'unmapped')
        and followups.started_at > forms.started_at
        and followups.started_at < {{ dbt.dateadd('hour', var('duplicate_window_hours'), 'forms.started_at') }}
    group by forms.transaction_id
),

daily as (
    select
        {{ reporting_date('forms.started_at') }} as activity_date,
        coalesce(forms.intent, 'unknown') as intent,
        count(*) as form_submissions,
        count(duplicated.transaction_id) as duplicated_submissions
    from forms
    left join duplicated on forms.transaction_id = duplicated.transaction_id
    group by 1, 2
),

rolled_up as (
    {{ period_rollup('daily', ['intent'], ['form_submissions', 'duplicated_submissions']) }}
)

select
    {{ dbt.hash("period_grain || '|' || cast(period_start as " ~ dbt.type_string() ~ ") || '|'
            || intent") }} as duplicates_key,
    rolled_up.*,
    {{ safe_ratio('duplicated_submissions', 'form_submissions') }} as cross_channel_duplicate_rate
from rolled_up
