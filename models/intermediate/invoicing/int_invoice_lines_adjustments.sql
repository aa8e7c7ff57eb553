-- Approved credits and corrections as `adjustment` lines (R-CAL-6, R-INV-2), routed by
-- int_adjustments_routed: where a published invoice already carries it; else the invoice of the month
-- after approval (or the account's first, if billing starts later), or, if that one is published
-- without it, the account's next unpublished invoice. One routed after the account's last invoice
-- is listed in fct_unapplied_adjustments. Disputes outside the 15-day window never land
-- (quarantined by the loader).
with

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

routed as (
    select * from {{ ref('int_adjustments_routed') }}
),

final as (
    select
        account_invoices.invoice_id,
        account_invoices.account_id,
        account_invoices.invoice_date,
        'adjustment' as line_type,
        cast(null as string) as product_code,
        coalesce(routed.reason, 'Adjustment') || ' (' || routed.adjustment_id
            || coalesce(', re ' || routed.disputed_invoice_id, '') || ')' as description,
        cast(1 as decimal(18, 4)) as quantity,
        cast(routed.amount as decimal(18, 6)) as unit_price,
        cast(routed.amount as decimal(18, 2)) as amount,
        cast(routed.approved_at as date) as service_period_start,
        cast(routed.approved_at as date) as service_period_end,
        routed.adjustment_id as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from routed
    inner join account_invoices
        on routed.account_id = account_invoices.account_id
        and routed.billed_invoice_date = account_invoices.invoice_date
)

select * from final
