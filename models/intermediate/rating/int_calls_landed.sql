{{ config(materialized='view') }}
-- Every landed call a close can rate, whatever carried it: the canonical cdrs/ files and the
-- switches' own records (R-CDR), one call shape. A switch record that could not be normalised
-- (fct_quarantined_switch_calls) and a FreeSWITCH b-leg of a call whose a-leg is here (R-CDR-6)
-- are not calls to rate.
with

canonical_calls as (
    select * from {{ ref('stg_landing__cdrs') }}
),

switch_calls as (
    select * from {{ ref('int_switch_calls') }}
    where reject_reason is null
        and not is_b_leg
),

final as (
    select
        call_id, account_id, direction, source_number, destination_number, start_time_utc, end_time_utc,
        duration_sec, landed_at, cast(null as string) as switch_id, cast(null as string) as tenant_key,
        source_file, source_line
    from canonical_calls
    union all
    select
        call_id, account_id, direction, source_number, destination_number, start_time_utc, end_time_utc,
        duration_sec, landed_at, switch_id, tenant_key, source_file, source_line
    from switch_calls
)

select * from final
