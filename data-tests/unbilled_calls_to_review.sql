-- Usage delivered and billed on no invoice: calls after the account's service end (R-CANCEL-1) and
-- late calls with no invoice of the account left to carry them (R-LATE-1). Reported, not blocking:
-- the rules bill them nowhere, and the rest of the month's invoices are right; the list is for the
-- billing team (a line not disconnected at cancellation, a mediation feed running late). Calls
-- before billing start are free months (R-START-2/3) and expected. One row per account and reason.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_unbilled_calls'}}}) }}

with

unbilled as (
    select * from {{ ref('fct_unbilled_calls') }}
    where {{ in_unpublished_invoice_months() }}
        and reason <> 'before_billing_start'
)

select
    account_id,
    invoice_date,
    reason,
    -- a switch's customer key not yet mapped to an account (R-CDR-4): which switch, which key
    switch_id,
    tenant_key,
    count(*) as calls,
    min(call_id) as first_call_id,
    min(start_time_utc) as first_call_start
from unbilled
group by account_id, invoice_date, reason, switch_id, tenant_key
