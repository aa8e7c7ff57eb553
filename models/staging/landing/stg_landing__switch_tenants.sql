-- Current account of each customer key of a switch (R-CDR-4): the latest row per (switch, key).
-- first_mapped_at is when the key first became known: a call that waited for it counts as landed
-- then (R-LATE-1), and a later change of the key's account does not make its calls late again.
with

source as (
    select * from {{ source('landing', 'switch_tenants') }}
),

renamed as (
    select
        switch_id,
        tenant_key,
        account_id,
        updated_at,
        min(_landed_at) over (partition by switch_id, tenant_key) as first_mapped_at
    from source
    qualify row_number() over (
        partition by switch_id, tenant_key order by updated_at desc, _landed_at desc, _line desc
    ) = 1
)

select * from renamed
