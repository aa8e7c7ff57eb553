-- Monthly recurring revenue per account and published month, and how it moved from the month
-- before: new, expansion, contraction, churn, unchanged ('opening' in the first published month).
-- MRR is the full-month recurring lines (line_types.in_mrr: devices, numbers, contact center, rentals,
-- low-usage discounts); proration, usage, one-time fees, regulatory fees, taxes and adjustments are not.
with

lines as (
    select * from {{ source('published', 'invoice_lines') }}
),

invoices as (
    select invoice_id, account_id, invoice_date, plan_id from {{ ref('fct_invoices') }}
),

published_months as (
    select distinct invoice_date from {{ source('published', 'invoices') }}
),

recurring as (
    select
        lines.account_id,
        lines.invoice_date,
        sum(lines.amount) filter (
            where lines.line_type in {{ line_types_where('in_mrr') }}
        ) as mrr
    from lines
    group by all
),

account_months as (
    select account_id, invoice_date from recurring where mrr is not null
    union
    -- the month after an account's last recurring month, where it churned
    select recurring.account_id, published_months.invoice_date
    from recurring
    inner join published_months
        on published_months.invoice_date = cast(recurring.invoice_date + interval 1 month as date)
    where recurring.mrr is not null
),

final as (
    select
        account_months.account_id,
        account_months.invoice_date,
        {{ format_date('account_months.invoice_date', '%Y-%m') }} as invoice_month,
        coalesce(current_plan.plan_id, previous_plan.plan_id) as plan_id,
        cast(coalesce(current_month.mrr, 0) as decimal(18, 2)) as mrr,
        cast(coalesce(previous_month.mrr, 0) as decimal(18, 2)) as previous_mrr,
        case
            when cast(account_months.invoice_date - interval 1 month as date)
                not in (select invoice_date from published_months) then 'opening'
            when coalesce(previous_month.mrr, 0) = 0 and coalesce(current_month.mrr, 0) > 0 then 'new'
            when coalesce(current_month.mrr, 0) = 0 then 'churn'
            when current_month.mrr > previous_month.mrr then 'expansion'
            when current_month.mrr < previous_month.mrr then 'contraction'
            else 'unchanged'
        end as movement
    from account_months
    left join recurring as current_month
        on account_months.account_id = current_month.account_id
        and account_months.invoice_date = current_month.invoice_date
    left join recurring as previous_month
        on account_months.account_id = previous_month.account_id
        and previous_month.invoice_date = cast(account_months.invoice_date - interval 1 month as date)
    left join invoices as current_plan
        on account_months.account_id = current_plan.account_id
        and account_months.invoice_date = current_plan.invoice_date
    left join invoices as previous_plan
        on account_months.account_id = previous_plan.account_id
        and previous_plan.invoice_date = cast(account_months.invoice_date - interval 1 month as date)
)

select * from final
