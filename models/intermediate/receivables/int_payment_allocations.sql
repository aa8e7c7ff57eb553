-- Which settled payment paid which published invoice, and how much (R-PAY-2). A payment that names
-- an invoice pays it first, in the order received, up to what it owes; the rest of every payment
-- pays the account's invoices oldest first (running sums matched as intervals, no row loop). What
-- is left over is account credit, which the next invoice consumes (int_invoice_lines_account_credit),
-- so an invoice owes its total plus the credit it consumed. An invoice with a negative total (a
-- credit larger than what it billed) is credit too: it pays, oldest first as a payment does, what
-- the next invoices owe for consuming it, and each amount it pays is taken off its own balance, so
-- the account's open amounts add up to what it owes (or, negative, to its credit).
with

invoices as (
    select invoice_id, account_id, invoice_date, amount_due from {{ ref('int_published_invoices_owed') }}
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

credit_of_invoices as (
    select
        'credit of ' || invoice_id as payment_id,
        account_id,
        invoice_id as source_invoice_id,
        cast(invoice_date as timestamp) as received_at,
        -amount_due as amount
    from invoices
    where amount_due < 0
),

payment_spans as (
    select
        *,
        sum(amount) over (partition by account_id order by received_at, payment_id) as span_end
    from (
        select * from payments_left
        union all
        select payment_id, account_id, received_at, amount from credit_of_invoices
    ) as sources
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
    select
        oldest_first_applied.*,
        case when credit_of_invoices.payment_id is null then 'oldest first' else 'credit of an invoice' end
            as applied_by
    from oldest_first_applied
    left join credit_of_invoices
        on oldest_first_applied.payment_id = credit_of_invoices.payment_id
    union all
    select
        credit_of_invoices.payment_id,
        credit_of_invoices.account_id,
        credit_of_invoices.source_invoice_id as invoice_id,
        oldest_first_applied.received_at,
        -oldest_first_applied.amount as amount,
        'credit used' as applied_by
    from oldest_first_applied
    inner join credit_of_invoices
        on oldest_first_applied.payment_id = credit_of_invoices.payment_id
)

select
    payment_id,
    account_id,
    invoice_id,
    received_at,
    cast(amount as decimal(18, 2)) as amount,
    applied_by
from final
