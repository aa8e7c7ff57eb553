-- One row per call_id (R-RATE-7): landing quarantines a repeated call id (within a file and across
-- files), so raw.cdrs holds each call once and this view does not de-duplicate on every read. The
-- month's rated calls are tested unique and publication refuses a call published before: checks
-- whose cost stays that of one month, where a unique test here would read every call ever landed.
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
        _landed_at as landed_at,
        _file as source_file,
        _line as source_line
    from source
)

select * from renamed
