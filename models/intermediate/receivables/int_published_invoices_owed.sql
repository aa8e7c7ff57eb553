{{ config(materialized='view') }}
-- Published invoices with what they owe: the total plus the account credit the invoice consumed
-- (its `account_credit` line), which the payment surplus pays (R-PAY-2). What payments apply to
-- (int_payment_allocations), receivables, aging and the autopay run read.
with

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

credit_lines as (
    select * from {{ source('published', 'invoice_lines') }}
    where line_key = 'account_credit'
),

final as (
    select
        published_invoices.*,
        published_invoices.total - coalesce(credit_lines.amount, 0) as amount_due
    from published_invoices
    left join credit_lines
        on published_invoices.invoice_id = credit_lines.invoice_id
)

select * from final
