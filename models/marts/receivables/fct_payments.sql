-- Every landed payment, its latest status, and what it paid (R-PAY-1, R-PAY-2). Card and bank
-- numbers never get here: the loader quarantines anything but a brand and the last four digits.
with

payments as (
    select * from {{ ref('stg_landing__payments') }}
),

published_invoices as (
    select account_id, invoice_id, invoice_date from {{ source('published', 'invoices') }}
),

first_invoice as (
    select account_id, min(invoice_date) as first_invoice_date from published_invoices group by account_id
),

allocations as (
    select payment_id, sum(amount) as applied_amount
    from {{ ref('int_payment_allocations') }}
    group by payment_id
),

final as (
    select
        payments.payment_id,
        payments.account_id,
        payments.invoice_id,
        payments.received_at,
        payments.amount,
        payments.method,
        payments.card_brand,
        payments.last4,
        payments.status,
        payments.is_autopay,
        cast(coalesce(allocations.applied_amount, 0) as decimal(18, 2)) as applied_amount,
        cast(
            case when allocations.payment_id is not null or payments.status = 'settled'
                then payments.amount - coalesce(allocations.applied_amount, 0) else 0 end
            as decimal(18, 2)
        ) as unapplied_amount,
        case
            when payments.status <> 'settled' then 'pays nothing: ' || payments.status
            when payments.invoice_id is not null and named.invoice_id is null
                then 'not applied: invoice ' || payments.invoice_id || ' is not a published invoice of the account'
            when payments.invoice_id is null
                and (first_invoice.first_invoice_date is null or payments.received_at < first_invoice.first_invoice_date)
                then 'not applied: received before the account''s first invoice'
            when coalesce(allocations.applied_amount, 0) < payments.amount then 'applied; the rest is account credit'
            else 'applied'
        end as application
    from payments
    left join allocations
        on payments.payment_id = allocations.payment_id
    left join published_invoices as named
        on payments.invoice_id = named.invoice_id
        and payments.account_id = named.account_id
    left join first_invoice
        on payments.account_id = first_invoice.account_id
)

select * from final
