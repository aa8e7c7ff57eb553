-- Approved credits and corrections as `adjustment` lines (R-CAL-6, R-INV-2): on the invoice of the
-- month after approval; if that invoice is already published without it, on the account's next
-- unpublished invoice. Disputes outside the 15-day window never land (quarantined by the loader).
with

adjustments as (
    select * from {{ ref('stg_landing__adjustments') }}
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

published_lines as (
    select invoice_line_id from {{ source('published', 'invoice_lines') }} where line_type = 'adjustment'
),

account_publication as (
    select * from {{ ref('int_account_publication') }}
),

first_choice as (
    select
        adjustments.*,
        cast(date_trunc('month', adjustments.approved_at) + interval 1 month as date) as natural_invoice_date,
        natural_invoice.invoice_id as natural_invoice_id
    from adjustments
    left join published_invoices as natural_invoice
        on adjustments.account_id = natural_invoice.account_id
        and natural_invoice.invoice_date = cast(date_trunc('month', adjustments.approved_at) + interval 1 month as date)
),

routed as (
    select
        first_choice.*,
        case
            when first_choice.natural_invoice_id is null then first_choice.natural_invoice_date
            when published_lines.invoice_line_id is not null then first_choice.natural_invoice_date
            else account_publication.next_unpublished_invoice_date
        end as billed_invoice_date
    from first_choice
    left join published_lines
        on published_lines.invoice_line_id
        = {{ invoice_line_id('first_choice.natural_invoice_id', "'adjustment'", 'first_choice.adjustment_id') }}
    left join account_publication
        on first_choice.account_id = account_publication.account_id
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
