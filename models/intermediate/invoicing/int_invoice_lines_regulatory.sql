-- Regulatory fees on each invoice's service lines (the bases' line types: seeds/line_types.csv):
--   usf   = round(factor(quarter) × interstate_share × usf_base, 2)   (R-USF-1; a prorated line or a
--           low-usage discount is in usf_base only where its product's full month is, as amended
--           2026-12-06: not a prorated rental phone or contact-center seat)
--   rrf   = round(rrf_rate × recurring_base, 2)                       (R-RRF-1)
--   slrrf = round(slrrf_rate(state) × recurring_base, 2)              (R-SLRRF-1)
with

service_lines as (
    select * from {{ ref('int_invoice_lines_recurring') }}
    union all
    select * from {{ ref('int_invoice_lines_usage') }}
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

products as (
    select * from {{ ref('products') }}
),

fee_rates as (
    select * from {{ ref('fee_rates') }}
),

slrrf_rates as (
    select * from {{ ref('slrrf_rates') }}
),

bases as (
    select
        account_invoices.invoice_id,
        account_invoices.account_id,
        account_invoices.invoice_date,
        account_invoices.service_month_end,
        account_invoices.usf_quarter,
        account_invoices.usf_factor,
        account_invoices.billing_state,
        coalesce(sum(service_lines.amount) filter (
            where {{ full_month_line_type('service_lines.line_type', 'products.line_type') }}
                in {{ line_types_where('in_usf_base') }}
        ), 0) as usf_base,
        coalesce(sum(service_lines.amount) filter (
            where service_lines.line_type in {{ line_types_where('in_recurring_base') }}
        ), 0) as recurring_base
    from account_invoices
    left join service_lines
        on account_invoices.invoice_id = service_lines.invoice_id
    left join products
        on service_lines.product_code = products.product_code
    group by all
),

rated as (
    select
        bases.*,
        cast({{ var('usf_interstate_share') }} as decimal(18, 6)) as interstate_share,
        (select rate from fee_rates where fee_code = 'rrf') as rrf_rate,
        coalesce(slrrf_rates.slrrf_rate, 0) as slrrf_rate
    from bases
    left join slrrf_rates
        on bases.billing_state = slrrf_rates.state
),

fees as (
    select
        invoice_id, account_id, invoice_date, invoice_date as service_period_start,
        service_month_end as service_period_end,
        'usf' as line_type,
        'Universal Service Fund fee (' || usf_quarter || ' factor ' || cast(usf_factor as string)
            || ' × ' || cast(interstate_share as string) || ' interstate)' as description,
        usf_base as quantity,
        usf_factor * interstate_share as unit_price,
        {{ to_cents('usf_factor * interstate_share * usf_base') }} as amount
    from rated

    union all

    select
        invoice_id, account_id, invoice_date, invoice_date, service_month_end,
        'rrf',
        'Regulatory recovery fee',
        recurring_base,
        rrf_rate,
        {{ to_cents('rrf_rate * recurring_base') }}
    from rated

    union all

    select
        invoice_id, account_id, invoice_date, invoice_date, service_month_end,
        'slrrf',
        'State and local regulatory recovery fee (' || billing_state || ')',
        recurring_base,
        slrrf_rate,
        {{ to_cents('slrrf_rate * recurring_base') }}
    from rated
),

final as (
    select
        invoice_id,
        account_id,
        invoice_date,
        line_type,
        cast(null as string) as product_code,
        description,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(unit_price as decimal(18, 6)) as unit_price,
        amount,
        service_period_start,
        service_period_end,
        line_type as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from fees
    where amount <> 0
)

select * from final
