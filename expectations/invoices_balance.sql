-- One row per draft invoice of the months being closed; money as integer cents (pandas reads DECIMAL as float).
with lines as (
    select
        lines.invoice_id,
        sum(lines.amount) as line_sum,
        sum(lines.amount) filter (where lines.line_type = 'usf') as usf,
        coalesce(sum(lines.amount) filter (where lines.line_type = 'adjustment'), 0) as adjustments,
        -- R-USF-1 (amended 2026-12-06): a prorated line or a low-usage discount is in the base only
        -- where its product's full month is (macros/categories.sql full_month_line_type)
        sum(lines.amount) filter (where full_month_types.in_usf_base) as usf_base
    from marts.fct_invoice_lines as lines
    left join reference.line_types as line_types on lines.line_type = line_types.line_type
    left join reference.products as products on lines.product_code = products.product_code
    left join reference.line_types as full_month_types
        on full_month_types.line_type = case
            when line_types.bills_as_product_month then products.line_type
            else lines.line_type
        end
    where lines.invoice_date between $invoice_month_start and $invoice_month_end
    group by lines.invoice_id
),
months as (
    select invoice_date, usf_factor from intermediate.int_invoice_months
)
select
    invoices.invoice_id,
    cast(invoices.total * 100 as bigint) as total_cents,
    cast(coalesce(lines.line_sum, 0) * 100 as bigint) as line_sum_cents,
    cast((invoices.subtotal + invoices.tax_total) * 100 as bigint) as subtotal_plus_tax_cents,
    -- before tax: a credit lowers the sales tax too (R-TAX-1), so a credit on an invoice with nothing
    -- else to bill leaves a negative tax line, not a negative charge
    cast((invoices.subtotal - coalesce(lines.adjustments, 0)) * 100 as bigint) as subtotal_before_adjustments_cents,
    cast(coalesce(lines.usf, 0) * 100 as bigint) as usf_cents,
    cast(round(months.usf_factor * $usf_interstate_share * coalesce(lines.usf_base, 0), 2) * 100 as bigint)
        as usf_cap_cents
from marts.fct_invoices as invoices
left join lines on invoices.invoice_id = lines.invoice_id
left join months on invoices.invoice_date = months.invoice_date
where invoices.invoice_date between $invoice_month_start and $invoice_month_end
order by invoices.invoice_id
