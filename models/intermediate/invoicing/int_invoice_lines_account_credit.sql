-- Account credit from overpayment (R-PAY-2): settled payments beyond everything invoiced before the
-- month are consumed by the account's next invoice as an `adjustment` line, at most its total. The
-- sums are cumulative, so a backfill of several months needs no recursion. A published month keeps
-- the credit line it was published with (R-INV-2).
with

invoices_in_build as (
    select * from {{ ref('int_account_invoices') }}
),

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

published_credit_lines as (
    select * from {{ source('published', 'invoice_lines') }}
    where line_key = 'account_credit'
),

lines_before_credit as (
    select * from {{ ref('int_invoice_lines_before_tax') }}
    union all
    select * from {{ ref('int_invoice_lines_tax') }}
),

draft_totals as (
    select
        invoices_in_build.invoice_id,
        invoices_in_build.account_id,
        invoices_in_build.invoice_date,
        coalesce(sum(lines_before_credit.amount), 0) as pre_credit_total
    from invoices_in_build
    left join lines_before_credit
        on invoices_in_build.invoice_id = lines_before_credit.invoice_id
    where invoices_in_build.invoice_id not in (select invoice_id from published_invoices)
    group by all
),

published_totals as (
    select
        published_invoices.invoice_id,
        published_invoices.account_id,
        published_invoices.invoice_date,
        published_invoices.total - coalesce(published_credit_lines.amount, 0) as pre_credit_total
    from published_invoices
    left join published_credit_lines
        on published_invoices.invoice_id = published_credit_lines.invoice_id
),

invoices as (
    select * from draft_totals
    union all
    select * from published_totals
),

payments as (
    {{ applicable_payments(ref('stg_landing__payments'), 'invoices') }}
),

credit as (
    select
        draft_totals.*,
        greatest(
            coalesce((
                select sum(payments.amount) from payments
                where payments.account_id = draft_totals.account_id
                    and payments.received_at < draft_totals.invoice_date
            ), 0)
            - coalesce((
                select sum(earlier.pre_credit_total) from invoices as earlier
                where earlier.account_id = draft_totals.account_id
                    and earlier.invoice_date < draft_totals.invoice_date
            ), 0),
            0
        ) as available_credit
    from draft_totals
),

new_credit_lines as (
    select
        invoice_id,
        account_id,
        invoice_date,
        'adjustment' as line_type,
        cast(null as string) as product_code,
        'Account credit from earlier payments' as description,
        cast(1 as decimal(18, 4)) as quantity,
        cast(-least(available_credit, pre_credit_total) as decimal(18, 6)) as unit_price,
        cast(-least(available_credit, pre_credit_total) as decimal(18, 2)) as amount,
        invoice_date as service_period_start,
        invoice_date as service_period_end,
        'account_credit' as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from credit
    where available_credit > 0 and pre_credit_total > 0
),

republished_credit_lines as (
    select
        published_credit_lines.invoice_id,
        published_credit_lines.account_id,
        published_credit_lines.invoice_date,
        published_credit_lines.line_type,
        published_credit_lines.product_code,
        published_credit_lines.description,
        published_credit_lines.quantity,
        published_credit_lines.unit_price,
        published_credit_lines.amount,
        published_credit_lines.service_period_start,
        published_credit_lines.service_period_end,
        published_credit_lines.line_key as line_group,
        published_credit_lines.item_ids
    from published_credit_lines
    inner join invoices_in_build
        on published_credit_lines.invoice_id = invoices_in_build.invoice_id
)

select * from new_credit_lines
union all
select * from republished_credit_lines
