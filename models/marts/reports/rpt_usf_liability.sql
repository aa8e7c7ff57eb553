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

by_quarter as (
    select
        cast(date_trunc('quarter', invoice_date) as date) as quarter_start,
        count(distinct invoice_id) as invoices,
        coalesce(sum(amount) filter (where line_type in (
            'service_fee', 'phone_numbers', 'prorated_charges', 'low_usage_discount',
            'additional_outbound_minutes', 'domestic_premium_minutes', 'toll_free_minutes', 'international_minutes'
        )), 0) as usf_base,
        coalesce(sum(amount) filter (where line_type = 'usf'), 0) as usf_billed
    from lines
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
