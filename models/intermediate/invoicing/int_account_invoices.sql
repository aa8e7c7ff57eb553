-- One row per account and invoice month it is billed in (R-CAL-1), with its billing calendar:
-- billing start (R-START-1), the cancellation's effective end (R-CANCEL-1) and the invoice id.
{{ account_invoices_sql(ref('int_invoice_months')) }}
