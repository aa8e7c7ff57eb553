{{ config(materialized='view') }}
-- Recurring lines of the invoices being built (int_recurring_lines, which also holds the published
-- invoices' lines rebuilt for corrections): in advance (R-CAL-2), and the prorated partial month
-- before (R-PRORATE-1..3).
select * from {{ ref('int_recurring_lines') }}
where {{ in_invoice_months() }}
