-- Per account, its last published invoice month and the next unpublished one: where late calls
-- (R-LATE-1), late adjustments and corrections of published months (R-INV-2) are billed.
with

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

final as (
    select
        account_id,
        max(invoice_date) as last_published_invoice_date,
        cast(max(invoice_date) + interval 1 month as date) as next_unpublished_invoice_date
    from published_invoices
    group by account_id
)

select * from final
