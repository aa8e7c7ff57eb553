-- Which settled payment paid which published invoice, and how much (R-PAY-2). A payment that names
-- an invoice pays it first, in the order received, up to what it owes; the rest of every payment
-- pays the account's invoices oldest first (running sums matched as intervals, no row loop). What
-- is left over is account credit, which the next invoice consumes (int_invoice_lines_account_credit),
-- so an invoice owes its total plus the credit it consumed.
with

invoices as (
    select invoice_id, account_id, invoice_date, amount_due from ({{ published_invoices_owed() }})
),

payments as (
    {{ applicable_payments(ref('stg_landing__payments'), 'invoices') }}
),

named_invoice_payments as (
    select
        payments.payment_id,
        payments.account_id,
        payments.invoice_id,
        payments.received_at,
        payments.amount,
        invoices.amount_due,
        coalesce(sum(payments.amount) over (
            partition by payments.invoice_id order by payments.received_at, payments.payment_id
            rows between unbounded preceding and 1 preceding
        ), 0) as paid_before
    from payments
    inner join invoices
        on payments.invoice_id = invoices.invoice_id
),

named_invoice_applied as (
    select
        payment_id,
        account_id,
        invoice_id,
        received_at,
        greatest(least(amount, amount_due - paid_before), 0) as amount
    from named_invoice_payments
),

payments_left as (
    select
        payments.payment_id,
        payments.account_id,
        payments.received_at,
        payments.amount - coalesce(named_invoice_applied.amount, 0) as amount
    from payments
    left join named_invoice_applied
        on payments.payment_id = named_invoice_applied.payment_id
),

invoices_left as (
    select
        invoices.invoice_id,
        invoices.account_id,
        invoices.invoice_date,
        invoices.amount_due - coalesce(sum(named_invoice_applied.amount), 0) as amount
    from invoices
    left join named_invoice_applied
        on invoices.invoice_id = named_invoice_applied.invoice_id
    group by invoices.invoice_id, invoices.account_id, invoices.invoice_date, invoices.amount_due
),

payment_spans as (
    select
        *,
        sum(amount) over (partition by account_id order by received_at, payment_id) as span_end
    from payments_left
    where amount > 0
),

invoice_spans as (
    select
        *,
        sum(amount) over (partition by account_id order by invoice_date, invoice_id) as span_end
    from invoices_left
    where amount > 0
),

oldest_first_applied as (
    select
        payment_spans.payment_id,
        payment_spans.account_id,
        invoice_spans.invoice_id,
        payment_spans.received_at,
        least(payment_spans.span_end, invoice_spans.span_end)
        - greatest(payment_spans.span_end - payment_spans.amount, invoice_spans.span_end - invoice_spans.amount)
            as amount
    from payment_spans
    inner join invoice_spans
        on payment_spans.account_id = invoice_spans.account_id
        and payment_spans.span_end - payment_spans.amount < invoice_spans.span_end
        and invoice_spans.span_end - invoice_spans.amount < payment_spans.span_end
),

final as (
    select *, 'named invoice' as applied_by from named_invoice_applied where amount > 0
    union all
    select *, 'oldest first' as applied_by from oldest_first_applied
)

select
    payment_id,
    account_id,
    invoice_id,
    received_at,
    cast(amount as decimal(18, 2)) as amount,
    applied_by
from final
