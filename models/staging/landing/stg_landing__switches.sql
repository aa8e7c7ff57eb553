-- Current registration of each switch (R-CDR-2, R-CDR-5): the row with the latest updated_at.
with

source as (
    select * from {{ source('landing', 'switches') }}
),

renamed as (
    select
        switch_id,
        platform,
        timezone,
        country_code,
        inbound_contexts,
        updated_at
    from source
    qualify row_number() over (
        partition by switch_id order by updated_at desc, _landed_at desc, _line desc
    ) = 1
)

select * from renamed
