-- Current version of each subscription item.
with

source as (
    select * from {{ source('landing', 'subscription_items') }}
),

renamed as (
    select
        item_id,
        account_id,
        product_code,
        quantity,
        phone_number,
        extension,
        coalesce(low_usage, false) as is_low_usage,
        start_date,
        end_date,
        updated_at
    from source
    qualify row_number() over (
        partition by item_id order by updated_at desc, _landed_at desc, _line desc
    ) = 1
)

select * from renamed
