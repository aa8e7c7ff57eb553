{{ config(materialized='view') }}
-- One row per published invoice: what its statement prints above and beside the lines (R-INV-4).
-- The account summary (R-PAY-2): the previous balance is what the account owed after its previous
-- invoice (the invoices up to it, each at what it owes, less the payments received before its
-- date); payments received are those from the previous invoice's date to this one's; the credit
-- applied is the account credit this invoice consumed (its `account_credit` line, already in its
-- total), which the balance forward no longer owes the customer; new charges are the invoice's
-- total; total due = balance forward + new charges, the account's balance on the invoice date.
-- Payments are the settled ones that pay callbill invoices (applicable_payments), in their current
-- state. A view: a payment landed after the close shows on the next statement printed.
-- The final invoice is the account's last, after its service ended on cancellation (R-CANCEL-1).
with

invoices as (
    select invoice_id, account_id, invoice_date, total, amount_due from {{ ref('int_published_invoices_owed') }}
),

payments as (
    {{ applicable_payments(ref('stg_landing__payments'), 'invoices') }}
),

calendar as (
    select * from {{ ref('int_account_calendar') }}
),

sequenced as (
    select
        invoice_id,
        account_id,
        invoice_date,
        total,
        amount_due,
        lag(invoice_id) over (partition by account_id order by invoice_date) as previous_invoice_id,
        lag(invoice_date) over (partition by account_id order by invoice_date) as previous_invoice_date,
        coalesce(sum(amount_due) over (
            partition by account_id order by invoice_date
            rows between unbounded preceding and 1 preceding
        ), 0) as owed_before
    from invoices
),

paid as (
    select
        sequenced.invoice_id,
        coalesce(sum(
            case when payments.received_at < sequenced.previous_invoice_date then payments.amount end
        ), 0) as paid_before_previous,
        coalesce(sum(
            case
                when payments.received_at < sequenced.invoice_date
                    and (
                        sequenced.previous_invoice_date is null
                        or payments.received_at >= sequenced.previous_invoice_date
                    )
                    then payments.amount
            end
        ), 0) as payments_received
    from sequenced
    left join payments
        on sequenced.account_id = payments.account_id
    group by sequenced.invoice_id
),

balances as (
    select
        sequenced.*,
        sequenced.owed_before - paid.paid_before_previous as previous_balance,
        paid.payments_received,
        sequenced.amount_due - sequenced.total as credit_applied
    from sequenced
    inner join paid
        on sequenced.invoice_id = paid.invoice_id
),

final as (
    select
        balances.invoice_id,
        balances.account_id,
        balances.invoice_date,
        balances.previous_invoice_id,
        balances.previous_invoice_date,
        cast(balances.previous_balance as decimal(18, 2)) as previous_balance,
        cast(balances.payments_received as decimal(18, 2)) as payments_received,
        cast(balances.credit_applied as decimal(18, 2)) as credit_applied,
        cast(balances.previous_balance - balances.payments_received + balances.credit_applied as decimal(18, 2))
            as balance_forward,
        cast(balances.total as decimal(18, 2)) as new_charges,
        cast(
            balances.previous_balance - balances.payments_received + balances.credit_applied + balances.total
            as decimal(18, 2)
        ) as total_due,
        coalesce(balances.invoice_date = calendar.last_invoice_date, false) as is_final_invoice,
        calendar.service_end_date,
        calendar.cancel_requested_date,
        calendar.account_name,
        calendar.billing_street,
        calendar.billing_city,
        calendar.billing_state,
        calendar.billing_postal_code,
        calendar.tax_exempt_certificate_id
    from balances
    left join calendar
        on balances.account_id = calendar.account_id
)

select * from final
