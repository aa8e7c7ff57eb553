with

source as (
    select * from {{ source('landing', 'account_changes') }}
),

renamed as (
    select
        change_id,
        account_id,
        change_type,
        changed_at
    from source
    qualify row_number() over (partition by change_id order by _landed_at desc, _line desc) = 1
)

select * from renamed
