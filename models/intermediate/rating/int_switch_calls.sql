{{ config(materialized='table') }}
-- Every answered record of every registered switch as a call in the shape of stg_landing__cdrs,
-- normalised once per close by the rules R-CDR-2..5 (macros/switches.sql). A table: rating and the
-- unbilled list read it several times.
-- account_id is null for a customer key not yet mapped (R-CDR-4): such calls wait in
-- fct_unbilled_calls (unknown_tenant) and count as landed when the key's mapping first landed, so
-- the first close after it bills them (on the next unpublished invoice if their month is published).
with

records as (
    select * from {{ ref('stg_asterisk__cdrs') }}
    union all
    select * from {{ ref('stg_freeswitch__cdrs') }}
),

tenants as (
    select * from {{ ref('stg_landing__switch_tenants') }}
),

-- R-CDR-2, per distinct local hour of each zone: a few thousand time-zone conversions, not several
-- per record.
local_hours as (
    select
        timezone,
        hour_local,
        {{ hour_first_utc('hour_local', 'timezone') }} as hour_first_utc
    from (select distinct timezone, date_trunc('hour', answer_local) as hour_local from records) as hours
),

local_hours_settled as (
    select
        *,
        {{ hour_is_repeated('hour_first_utc', 'hour_local', 'timezone') }} as is_repeated_hour
    from local_hours
),

timed as (
    select
        records.*,
        {{ add_seconds(
            'local_hours_settled.hour_first_utc',
            'minute(records.answer_local) * 60 + second(records.answer_local)'
        ) }} as first_utc,
        local_hours_settled.is_repeated_hour
    from records
    left join local_hours_settled
        on records.timezone = local_hours_settled.timezone
        and date_trunc('hour', records.answer_local) = local_hours_settled.hour_local
),

dialled as (
    select
        timed.*,
        {{ dialled_is_digits('timed.dialled_source') }} as source_is_digits,
        {{ dialled_is_digits('timed.dialled_destination') }} as destination_is_digits
    from timed
),

normalised as (
    select
        dialled.*,
        {{ e164_from_dialled('dialled.dialled_source', 'dialled.source_is_digits') }} as source_number,
        {{ e164_from_dialled('dialled.dialled_destination', 'dialled.destination_is_digits') }}
            as destination_number,
        case
            when dialled.is_repeated_hour
                then {{ repeated_hour_utc('dialled.first_utc', 'dialled.end_local', 'dialled.billsec', 'dialled.timezone') }}
            else dialled.first_utc
        end as start_time_utc,
        {{ switch_call_direction(
            'dialled.context',
            'dialled.inbound_contexts',
            is_extension('dialled.dialled_source', 'dialled.source_is_digits'),
            is_extension('dialled.dialled_destination', 'dialled.destination_is_digits'),
        ) }} as direction
    from dialled
),

final as (
    select
        normalised.call_id,
        tenants.account_id,
        normalised.direction,
        normalised.source_number,
        normalised.destination_number,
        normalised.start_time_utc,
        {{ add_seconds('normalised.start_time_utc', 'normalised.billsec') }} as end_time_utc,
        normalised.billsec as duration_sec,
        case
            when tenants.first_mapped_at > normalised.landed_at then tenants.first_mapped_at
            else normalised.landed_at
        end as landed_at,
        normalised.switch_id,
        normalised.tenant_key,
        normalised.source_file,
        normalised.source_line,
        normalised.is_b_leg,
        nullif(concat_ws(
            '; ',
            case
                when normalised.start_time_utc is null
                    then 'answer time ' || cast(normalised.answer_local as string) || ' does not exist in '
                        || normalised.timezone || ' (the hour skipped when daylight time starts)'
            end,
            case when normalised.dialled_destination is null then 'no destination number' end,
            {{ number_problem('normalised.dialled_destination', 'normalised.destination_number', 'destination') }},
            {{ number_problem('normalised.dialled_source', 'normalised.source_number', 'source') }}
        ), '') as reject_reason
    from normalised
    left join tenants
        on normalised.switch_id = tenants.switch_id
        and normalised.tenant_key = tenants.tenant_key
)

select * from final
