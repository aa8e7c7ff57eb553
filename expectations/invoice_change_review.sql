-- Each draft invoice against the account's previous published invoice; totals in cents.
select
    drafts.invoice_id,
    cast(drafts.total * 100 as bigint) as total_cents,
    cast(previous.total * 100 as bigint) as previous_total_cents,
    case
        when previous.total > 0 and abs(drafts.total - previous.total) > $invoice_change_review_share * previous.total
            then 1
        else 0
    end as over_review_threshold
from marts.fct_invoices as drafts
left join published.invoices as previous
    on drafts.account_id = previous.account_id
    and previous.invoice_date = cast(drafts.invoice_date - interval 1 month as date)
where drafts.invoice_date between $invoice_month_start and $invoice_month_end
order by drafts.invoice_id
