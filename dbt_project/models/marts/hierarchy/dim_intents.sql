-- The intent knowledge base: one row per intent with its value weight and how many codes map to it.
with intents as (
    select lower(trim(intent)) as intent, description, cast(value_weight as {{ type_double() }}) as value_weight
    from {{ ref('intents') }}
),

codes as (
    select intent, count(*) as mapped_codes
    from {{ ref('int_intent_codes') }}
    group by intent
)

select
    intents.intent,
    intents.description,
    intents.value_weight,
    coalesce(codes.mapped_codes, 0) as mapped_codes
from intents
left join codes on intents.intent = codes.intent
