-- The rows of the invoices_balance suite (expectations/invoices_balance.json): one row per draft
-- invoice of the months being closed; money as integer cents (pandas reads DECIMAL as float).
with

invoices as (
    select * from {{ ref('fct_invoices') }}
    where {{ in_invoice_months() }}
),

invoice_lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where {{ in_invoice_months() }}
),

line_types as (
    select * from {{ ref('line_types') }}
),

products as (
    select * from {{ ref('products') }}
),

months as (
    select invoice_date, usf_factor from {{ ref('int_invoice_months') }}
),

lines as (
    select
        invoice_lines.invoice_id,
        sum(invoice_lines.amount) as line_sum,
        sum(invoice_lines.amount) filter (where invoice_lines.line_type = 'usf') as usf,
        coalesce(sum(invoice_lines.amount) filter (where invoice_lines.line_type = 'adjustment'), 0) as adjustments,
        -- R-USF-1 (amended 2026-12-06): a prorated line or a low-usage discount is in the base only
        -- where its product's full month is (macros/categories.sql full_month_line_type), written out
        -- on the seeds here so the check does not share the macro it checks
        sum(invoice_lines.amount) filter (where full_month_types.in_usf_base) as usf_base
    from invoice_lines
    left join line_types
        on invoice_lines.line_type = line_types.line_type
    left join products
        on invoice_lines.product_code = products.product_code
    left join line_types as full_month_types
        on full_month_types.line_type = case
            when line_types.bills_as_product_month then products.line_type
            else invoice_lines.line_type
        end
    group by invoice_lines.invoice_id
),

final as (
    select
        invoices.invoice_id,
        cast(invoices.total * 100 as bigint) as total_cents,
        cast(coalesce(lines.line_sum, 0) * 100 as bigint) as line_sum_cents,
        cast((invoices.subtotal + invoices.tax_total) * 100 as bigint) as subtotal_plus_tax_cents,
        -- before tax: a credit lowers the sales tax too (R-TAX-1), so a credit on an invoice with
        -- nothing else to bill leaves a negative tax line, not a negative charge
        cast((invoices.subtotal - coalesce(lines.adjustments, 0)) * 100 as bigint) as subtotal_before_adjustments_cents,
        cast(coalesce(lines.usf, 0) * 100 as bigint) as usf_cents,
        -- rounded to whole cents before the cast: Spark truncates a double cast to bigint (68.10 * 100
        -- is 6809.99...), DuckDB rounds it
        cast(
            round(
                round(
                    months.usf_factor * cast({{ var('usf_interstate_share') }} as double) * coalesce(lines.usf_base, 0),
                    2
                ) * 100
            ) as bigint
        ) as usf_cap_cents
    from invoices
    left join lines
        on invoices.invoice_id = lines.invoice_id
    left join months
        on invoices.invoice_date = months.invoice_date
)

select * from final
order by invoice_id
