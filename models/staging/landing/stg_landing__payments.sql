with

source as (
    select * from {{ source('landing', 'payments') }}
),

renamed as (
    select
        payment_id,
        account_id,
        invoice_id,
        received_at,
        amount,
        method,
        lower(card_brand) as card_brand,
        last4,
        coalesce(is_autopay, false) as is_autopay,
        status
    from source
    qualify row_number() over (partition by payment_id order by _landed_at desc, _line desc) = 1
)

select * from renamed
