-- Current version of each partner (R-COMM-4).
with

source as (
    select * from {{ source('landing', 'partners') }}
),

renamed as (
    select
        partner_id,
        partner_name,
        residual_rate,
        spiff_amount,
        updated_at
    from source
    qualify row_number() over (
        partition by partner_id order by updated_at desc, _landed_at desc, _line desc
    ) = 1
)

select * from renamed
