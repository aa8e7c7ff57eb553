-- Receivables over time (R-PAY-3): at each month end up to the receivables date, what published
-- invoices still owe by aging bucket, from the payments received by then.
with

as_of as (
    select cast('{{ var("receivables_as_of", run_started_at.strftime("%Y-%m-%d")) }}' as date) as as_of_date
),

invoices as (
    select invoice_id, invoice_date, due_date, amount_due from {{ ref('int_published_invoices_owed') }}
),

allocations as (
    select * from {{ ref('int_payment_allocations') }}
),

month_ends as (
    select least(cast(month_start + interval 1 month - interval 1 day as date), as_of.as_of_date) as month_end
    from as_of,
        {{ month_starts(
            '(select min(invoice_date) from invoices)',
            "(select cast(date_trunc('month', as_of_date) as date) from as_of)"
        ) }} as months
),

balances as (
    select
        month_ends.month_end,
        invoices.invoice_id,
        invoices.amount_due - coalesce(sum(allocations.amount), 0) as open_amount,
        greatest({{ days_between('invoices.due_date', 'month_ends.month_end') }}, 0) as days_past_due
    from month_ends
    inner join invoices
        on invoices.invoice_date <= month_ends.month_end
    left join allocations
        on allocations.invoice_id = invoices.invoice_id
        and cast(allocations.received_at as date) <= month_ends.month_end
    group by month_ends.month_end, invoices.invoice_id, invoices.amount_due, invoices.due_date
),

final as (
    select
        month_end,
        {{ aging_bucket('open_amount', 'days_past_due') }} as aging_bucket,
        count(*) as invoices,
        cast(sum(open_amount) as decimal(18, 2)) as open_amount
    from balances
    where open_amount > 0
    group by all
)

select * from final
