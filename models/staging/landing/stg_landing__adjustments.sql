with

source as (
    select * from {{ source('landing', 'adjustments') }}
),

renamed as (
    select
        adjustment_id,
        account_id,
        amount,
        reason,
        approved_at,
        disputed_invoice_id
    from source
    qualify row_number() over (partition by adjustment_id order by _landed_at desc, _line desc) = 1
)

select * from renamed
