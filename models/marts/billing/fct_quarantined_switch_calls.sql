{{ config(materialized='view') }}
-- Answered switch records that cannot be billed as they are, with the reason (R-CDR-2: a time the
-- switch's zone skips; R-CDR-3: a number of no known form). With raw.quarantine (records that did
-- not parse) and marts.fct_unbilled_calls, every answered record a switch wrote is accounted for.
select
    switch_id,
    call_id,
    tenant_key,
    account_id,
    source_file,
    source_line,
    reject_reason as reason,
    landed_at
from {{ ref('int_switch_calls') }}
where reject_reason is not null
