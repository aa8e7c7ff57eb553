-- The invoice months being closed, with their usage month (R-CAL-3) and USF factor (R-USF-1).
-- A month whose quarter has no factor stops the build and names the quarter (R-USF-2).
with

usf_factors as (
    select * from {{ ref('usf_contribution_factors') }}
),

months as (
    select cast(month_start as date) as invoice_date
    from {{ month_starts(invoice_month_start(), invoice_month_end()) }} as t
    {#- `dbt build --empty` (the fast tests' warehouse) reads every ref as empty: no month either #}
    {%- if flags.EMPTY %}
    where false
    {%- endif %}
),

final as (
    select
        months.invoice_date,
        cast(months.invoice_date - interval 1 month as date) as usage_month_start,
        cast(months.invoice_date - interval 1 day as date) as usage_month_end,
        last_day(months.invoice_date) as service_month_end,
        cast(year(months.invoice_date) as string) || '-Q' || cast(quarter(months.invoice_date) as string)
            as usf_quarter,
        case
            when usf_factors.factor is null
                then {{ raise_error(
                    "'No USF contribution factor for ' || cast(year(months.invoice_date) as string) || '-Q'
                    || cast(quarter(months.invoice_date) as string) || ' (invoice month '
                    || " ~ format_date('months.invoice_date', '%Y-%m') ~ "
                    || '): add the FCC factor to seeds/usf_contribution_factors.csv (R-USF-2)'"
                ) }}
            else usf_factors.factor
        end as usf_factor
    from months
    left join usf_factors
        on usf_factors.quarter_start = date_trunc('quarter', months.invoice_date)
)

select * from final
