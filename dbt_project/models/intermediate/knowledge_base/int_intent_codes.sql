-- Every tool code the knowledge base maps to an intent, with the intent's value weight.
with codes as (
    select
        lower(trim(code_type)) as code_type,
        lower(trim(code)) as code,
        lower(trim(intent)) as intent
    from {{ ref('intent_codes') }}
),

intents as (
    select
        lower(trim(intent)) as intent,
        cast(value_weight as {{ type_double() }}) as value_weight
    from {{ ref('intents') }}
)

select
    codes.code_type || ':' || codes.code as intent_code_id,
    codes.code_type,
    codes.code,
    codes.intent,
    intents.value_weight
from codes
inner join intents on codes.intent = intents.intent
