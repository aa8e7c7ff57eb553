{{
    config(
        materialized='incremental',
        incremental_strategy=invoice_months_strategy(),
        partition_by=('invoice_date' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_invoice_months() }}",
    )
}}
-- One invoice per billed account and month (R-CAL-1): dates (R-CAL-4, R-CAL-5), totals as sums of
-- rounded lines (R-INV-3), and whether it has been published (R-INV-1).
with

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where invoice_date between {{ invoice_month_start() }} and {{ invoice_month_end() }}
),

published as (
    select * from {{ source('published', 'invoices') }}
),

totals as (
    select
        invoice_id,
        coalesce(sum(amount) filter (where line_type <> 'tax'), 0) as subtotal,
        coalesce(sum(amount) filter (where line_type = 'tax'), 0) as tax_total
    from lines
    group by invoice_id
),

final as (
    select
        account_invoices.invoice_id,
        account_invoices.account_id,
        account_invoices.invoice_date,
        {{ add_days('account_invoices.invoice_date', var('due_days')) }} as due_date,
        case
            when account_invoices.autopay
                then {{ add_days('account_invoices.invoice_date', var('autopay_day') - 1) }}
        end as autopay_date,
        cast(coalesce(totals.subtotal, 0) as decimal(18, 2)) as subtotal,
        cast(coalesce(totals.tax_total, 0) as decimal(18, 2)) as tax_total,
        cast(coalesce(totals.subtotal, 0) + coalesce(totals.tax_total, 0) as decimal(18, 2)) as total,
        case when published.invoice_id is not null then 'published' else 'draft' end as status,
        published.published_at,
        account_invoices.plan_id,
        account_invoices.billing_state,
        account_invoices.tax_exempt_certificate_id,
        -- the account's name when the invoice was built, published with it for finance (issue #25.8)
        account_invoices.account_name
    from account_invoices
    left join totals
        on account_invoices.invoice_id = totals.invoice_id
    left join published
        on account_invoices.invoice_id = published.invoice_id
)

select * from final
