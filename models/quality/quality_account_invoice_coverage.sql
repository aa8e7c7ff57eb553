-- The rows of the account_invoice_coverage suite (expectations/account_invoice_coverage.json):
-- accounts active in each month being closed, from the landed accounts on their own (not from the
-- invoice models' calendar, which the suite checks), with the number of draft invoices each has.
with

months as (
    select cast(month_start as date) as invoice_date
    from {{ month_starts(invoice_month_start(), invoice_month_end()) }} as month_starts
),

landed_accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

plans as (
    select * from {{ ref('plans') }}
),

invoices as (
    select * from {{ ref('fct_invoices') }}
),

accounts as (
    select
        account_id,
        coalesce(quoted_billing_start_date, {{ add_months('service_start_date', 'free_months') }}) as billing_start
    from landed_accounts
    where cancel_requested_date is null
),

active as (
    select
        accounts.account_id,
        months.invoice_date
    from accounts
    cross join months
    where accounts.billing_start <= months.invoice_date
),

final as (
    select
        active.account_id,
        active.invoice_date,
        count(invoices.invoice_id) as invoice_count,
        any_value(plans.plan_id) as plan_id
    from active
    left join invoices
        on active.account_id = invoices.account_id
        and active.invoice_date = invoices.invoice_date
    left join landed_accounts as current_accounts
        on active.account_id = current_accounts.account_id
    left join plans
        on current_accounts.plan_id = plans.plan_id
    group by active.account_id, active.invoice_date
)

select * from final
order by account_id, invoice_date
