with source as (
    {{ deduplicate_latest(source('crm', 'customers'), ['customer_ref']) }}
),

renamed as (
    select
        customer_ref,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        phone as phone_raw,
        lower(value_tier) as value_tier,
        timezone,
        cast(created_at as timestamp) as created_at,
        cast(churned_at as timestamp) as churned_at
    from source
)

select * from renamed
