-- One row per call_id (R-RATE-7): a call landed twice is one call; the first landing wins.
with

source as (
    select * from {{ source('landing', 'cdrs') }}
),

renamed as (
    select
        call_id,
        account_id,
        direction,
        source_number,
        destination_number,
        start_time_utc,
        coalesce(end_time_utc, {{ add_seconds('start_time_utc', 'duration_sec') }}) as end_time_utc,
        duration_sec,
        _landed_at as landed_at
    from source
    qualify row_number() over (partition by call_id order by _landed_at, _file, _line) = 1
)

select * from renamed
