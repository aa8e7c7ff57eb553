{{ config(materialized='view') }}
-- Every line of the invoices being built but tax and account credit, in one place: tax is computed
-- on their sum (R-TAX-1), the account credit on the total with tax (R-PAY-2), and fct_invoice_lines
-- adds both to them.
select * from {{ ref('int_invoice_lines_recurring') }}
union all
select * from {{ ref('int_invoice_lines_usage') }}
union all
select * from {{ ref('int_invoice_lines_regulatory') }}
union all
select * from {{ ref('int_invoice_lines_one_time') }}
union all
select * from {{ ref('int_invoice_lines_adjustments') }}
union all
select * from {{ ref('int_invoice_lines_corrections') }}
