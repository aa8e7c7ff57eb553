-- Accounts active in each month being closed (from the landed accounts, not from the invoice models),
-- with the number of draft invoices each has.
with months as (
    select cast(m as date) as invoice_date
    from range(cast($invoice_month_start as timestamp), cast($invoice_month_end as timestamp) + interval 1 month,
               interval 1 month) as t(m)
),
accounts as (
    select
        account_id,
        coalesce(quoted_billing_start_date, cast(service_start_date + to_months(free_months) as date)) as billing_start
    from staging.stg_landing__accounts
    where cancel_requested_date is null
),
active as (
    select accounts.account_id, months.invoice_date
    from accounts
    cross join months
    where accounts.billing_start <= months.invoice_date
)
select
    active.account_id,
    active.invoice_date,
    count(invoices.invoice_id) as invoice_count,
    any_value(plans.plan_id) as plan_id
from active
left join marts.fct_invoices as invoices
    on active.account_id = invoices.account_id and active.invoice_date = invoices.invoice_date
left join staging.stg_landing__accounts as current_accounts
    on active.account_id = current_accounts.account_id
left join reference.plans as plans
    on current_accounts.plan_id = plans.plan_id
group by active.account_id, active.invoice_date
order by active.account_id, active.invoice_date
