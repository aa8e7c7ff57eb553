-- FreeSWITCH mod_cdr_csv records (`example` template) as calls in the shape of stg_landing__cdrs
-- (rules R-CDR-1..6). One row per answered record; the billed call is the talk time from
-- `answer_stamp`, `billsec` long (R-CDR-1). With legs=ab a bridged call is written twice: a b-leg
-- that its a-leg names (bleg_uuid) is the same call and is not billed again (R-CDR-6).
with

source as (
    select * from {{ source('landing', 'freeswitch_cdrs') }}
    where answered
),

switches as (
    select * from {{ ref('stg_landing__switches') }}
),

b_legs as (
    select distinct switch_id, bleg_uuid as uuid
    from {{ source('landing', 'freeswitch_cdrs') }}
    where bleg_uuid is not null
),

renamed as (
    select
        source.switch_id || ':' || source.record_id as call_id,
        source.switch_id,
        source.accountcode as tenant_key,
        source.context,
        source.caller_id_number as dialled_source,
        source.destination_number as dialled_destination,
        {{ parse_switch_time('source.answer_stamp') }} as answer_local,
        {{ parse_switch_time('source.end_stamp') }} as end_local,
        cast(source.billsec as bigint) as billsec,
        switches.timezone,
        switches.inbound_contexts,
        b_legs.uuid is not null as is_b_leg,
        source._file as source_file,
        source._line as source_line,
        source._landed_at as landed_at
    from source
    inner join switches
        on source.switch_id = switches.switch_id
    left join b_legs
        on source.switch_id = b_legs.switch_id
        and source.uuid = b_legs.uuid
)

select * from renamed
