-- USF by quarter (R-USF-1), what FCC Form 499-Q/A reporting needs: the contribution factor, the
-- assessable voice base billed, its interstate part (safe-harbor share), the USF billed to
-- customers and the contribution to remit (factor x interstate revenue). Billed never exceeds the
-- liability by more than per-invoice rounding (47 CFR 54.712).
with

lines as (
    select * from {{ source('published', 'invoice_lines') }}
),

factors as (
    select * from {{ ref('usf_contribution_factors') }}
),

products as (
    select * from {{ ref('products') }}
),

by_quarter as (
    select
        cast(date_trunc('quarter', lines.invoice_date) as date) as quarter_start,
        count(distinct lines.invoice_id) as invoices,
        -- the base as int_invoice_lines_regulatory computes it (R-USF-1 as amended 2026-12-06)
        coalesce(sum(lines.amount) filter (
            where {{ full_month_line_type('lines.line_type', 'products.line_type') }} in {{ line_types_where('in_usf_base') }}
        ), 0) as usf_base,
        coalesce(sum(lines.amount) filter (where lines.line_type = 'usf'), 0) as usf_billed
    from lines
    left join products
        on lines.product_code = products.product_code
    group by 1
),

final as (
    select
        factors.quarter,
        by_quarter.quarter_start,
        factors.factor,
        cast({{ var('usf_interstate_share') }} as decimal(18, 6)) as interstate_share,
        cast(by_quarter.usf_base as decimal(18, 2)) as usf_base,
        cast(round(by_quarter.usf_base * {{ var('usf_interstate_share') }}, 2) as decimal(18, 2))
            as interstate_revenue,
        cast(by_quarter.usf_billed as decimal(18, 2)) as usf_billed,
        cast(round(factors.factor * {{ var('usf_interstate_share') }} * by_quarter.usf_base, 2) as decimal(18, 2))
            as usf_liability,
        cast(
            by_quarter.usf_billed
            - round(factors.factor * {{ var('usf_interstate_share') }} * by_quarter.usf_base, 2)
            as decimal(18, 2)
        ) as billed_minus_liability,
        by_quarter.invoices
    from by_quarter
    inner join factors
        on by_quarter.quarter_start = factors.quarter_start
)

select * from final
