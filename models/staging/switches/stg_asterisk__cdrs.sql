-- Asterisk cdr_csv records as calls in the shape of stg_landing__cdrs (rules R-CDR-1..6). One row
-- per answered record; unanswered ones are landed and counted, not rated (R-CDR-1). The billed
-- call is the talk time: from `answer`, `billsec` long (never `duration`, which counts ringing).
-- reject_reason names what cannot be normalised (a time the zone skips, a number of no known form).
with

source as (
    select * from {{ source('landing', 'asterisk_cdrs') }}
    where answered
),

switches as (
    select * from {{ ref('stg_landing__switches') }}
),

renamed as (
    select
        source.switch_id || ':' || source.record_id as call_id,
        source.switch_id,
        source.accountcode as tenant_key,
        source.dcontext as context,
        source.src as dialled_source,
        source.dst as dialled_destination,
        {{ parse_switch_time('source.answer_time') }} as answer_local,
        {{ parse_switch_time('source.end_time') }} as end_local,
        cast(source.billsec as bigint) as billsec,
        switches.timezone,
        switches.inbound_contexts,
        false as is_b_leg,
        source._file as source_file,
        source._line as source_line,
        source._landed_at as landed_at
    from source
    inner join switches
        on source.switch_id = switches.switch_id
)

select * from renamed
