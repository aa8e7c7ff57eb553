-- The rows of the invoice_change_review suite (expectations/invoice_change_review.json): each draft
-- invoice of the months being closed against the account's previous published invoice; totals in
-- cents.
with

drafts as (
    select * from {{ ref('fct_invoices') }}
    where {{ in_invoice_months() }}
),

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

final as (
    select
        drafts.invoice_id,
        cast(drafts.total * 100 as bigint) as total_cents,
        cast(previous.total * 100 as bigint) as previous_total_cents,
        case
            when previous.total > 0
                and abs(drafts.total - previous.total)
                > cast({{ var('invoice_change_review_share') }} as double) * previous.total
                then 1
            else 0
        end as over_review_threshold
    from drafts
    left join published_invoices as previous
        on drafts.account_id = previous.account_id
        and previous.invoice_date = cast(drafts.invoice_date - interval 1 month as date)
)

select * from final
order by invoice_id
