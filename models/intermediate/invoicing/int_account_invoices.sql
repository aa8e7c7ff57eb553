-- One row per account and invoice month being built (R-CAL-1), with its billing calendar: billing
-- start (R-START-1), the cancellation's effective end (R-CANCEL-1) and the invoice id
-- (int_account_months, for the months being built).
select * from {{ ref('int_account_months') }}
where {{ in_invoice_months() }}
