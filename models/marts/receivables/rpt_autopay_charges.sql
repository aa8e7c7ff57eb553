-- The autopay run of each published month (R-CAL-5): on the invoice's autopay date (the 10th), an
-- account with autopay on is charged what it owes on its published invoices, less the payments
-- received before that day. One row per invoice charged; the method on file is shown masked.
with

published_invoices as (
    select * from {{ ref('int_published_invoices_owed') }}
),

allocations as (
    select * from {{ ref('int_payment_allocations') }}
),

payments as (
    select * from {{ ref('stg_landing__payments') }}
),

autopay_runs as (
    select account_id, invoice_date as invoice_month, autopay_date
    from published_invoices
    where autopay_date is not null
),

owed as (
    select
        autopay_runs.autopay_date,
        autopay_runs.invoice_month,
        autopay_runs.account_id,
        invoices.invoice_id,
        invoices.amount_due - coalesce((
            select sum(allocations.amount) from allocations
            where allocations.invoice_id = invoices.invoice_id
                and allocations.received_at < autopay_runs.autopay_date
        ), 0) as amount
    from autopay_runs
    inner join published_invoices as invoices
        on autopay_runs.account_id = invoices.account_id
        and invoices.invoice_date <= autopay_runs.invoice_month
),

method_on_file as (
    select
        autopay_runs.autopay_date,
        autopay_runs.account_id,
        (
            select
                case payments.method
                    when 'card' then coalesce(payments.card_brand, 'card') || ' ****' || payments.last4
                    else 'ach ****' || payments.last4
                end
            from payments
            where payments.account_id = autopay_runs.account_id
                and payments.method in ('card', 'ach')
                and payments.last4 is not null
                and payments.received_at < autopay_runs.autopay_date
            order by payments.received_at desc, payments.payment_id desc
            limit 1
        ) as payment_method
    from autopay_runs
),

final as (
    select
        owed.autopay_date,
        owed.invoice_month,
        owed.account_id,
        owed.invoice_id,
        cast(owed.amount as decimal(18, 2)) as amount,
        coalesce(method_on_file.payment_method, 'none on file') as payment_method
    from owed
    left join method_on_file
        on owed.autopay_date = method_on_file.autopay_date
        and owed.account_id = method_on_file.account_id
    where owed.amount > 0
)

select * from final
