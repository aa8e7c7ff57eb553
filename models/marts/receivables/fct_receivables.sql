-- Every published invoice as of a date (var receivables_as_of, default today): what it owes, what
-- payments received by then paid, and its age from the due date (R-PAY-3).
with

as_of as (
    select cast('{{ var("receivables_as_of", run_started_at.strftime("%Y-%m-%d")) }}' as date) as as_of_date
),

published_invoices as (
    select * from {{ ref('int_published_invoices_owed') }}
),

allocations as (
    select * from {{ ref('int_payment_allocations') }}
),

paid as (
    select allocations.invoice_id, sum(allocations.amount) as paid_amount
    from allocations
    cross join as_of
    where cast(allocations.received_at as date) <= as_of.as_of_date
    group by allocations.invoice_id
),

balances as (
    select
        published_invoices.invoice_id,
        published_invoices.account_id,
        published_invoices.invoice_date,
        published_invoices.due_date,
        published_invoices.total,
        published_invoices.amount_due - coalesce(paid.paid_amount, 0) as open_amount,
        greatest({{ days_between('published_invoices.due_date', 'as_of.as_of_date') }}, 0) as days_past_due,
        as_of.as_of_date
    from published_invoices
    cross join as_of
    left join paid
        on published_invoices.invoice_id = paid.invoice_id
    where published_invoices.invoice_date <= as_of.as_of_date
),

final as (
    select
        invoice_id,
        account_id,
        invoice_date,
        due_date,
        total,
        cast(total - open_amount as decimal(18, 2)) as amount_paid,
        cast(open_amount as decimal(18, 2)) as open_amount,
        cast(days_past_due as integer) as days_past_due,
        {{ aging_bucket('open_amount', 'days_past_due') }} as aging_bucket,
        as_of_date
    from balances
)

select * from final
