-- Recurring lines, billed in advance (R-CAL-2): each item's full invoice month, and the partial
-- month before it when the item's (or the account's) billing starts after the 1st
-- (R-PRORATE-1..3: prorated_days = days_in_month - day(start)).
{{ recurring_lines_sql(ref('int_account_invoices')) }}
