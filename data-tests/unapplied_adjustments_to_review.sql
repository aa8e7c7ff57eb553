-- Approved adjustments that route past the account's last invoice (R-CANCEL-1): a credit is owed
-- back as a refund, a charge is billed nowhere. Reported, not blocking: the month's invoices are
-- right without them, and no landing could clear the check.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_unapplied_adjustments'}}}) }}

select *
from {{ ref('fct_unapplied_adjustments') }}
where {{ in_unpublished_invoice_months() }}
