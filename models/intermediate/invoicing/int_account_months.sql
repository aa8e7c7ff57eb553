{{ config(materialized='view') }}
-- One row per account and invoice month it is billed in (R-CAL-1), with its billing calendar:
-- billing start (R-START-1), the cancellation's effective end (R-CANCEL-1) and the invoice id. For
-- the months being built (every account billed: int_account_invoices) and for the published months
-- (the invoices they published, rebuilt from today's inputs: int_open_corrections compares them
-- with what was published, R-INV-2), so both are billed by one definition.
with

plans as (
    select * from {{ ref('plans') }}
),

months_built as (
    select * from {{ ref('int_invoice_months') }}
),

published_months as (
    select
        invoice_date,
        cast(invoice_date - interval 1 month as date) as usage_month_start,
        cast(invoice_date - interval 1 day as date) as usage_month_end,
        last_day(invoice_date) as service_month_end,
        cast(null as string) as usf_quarter,
        cast(null as decimal(18, 6)) as usf_factor
    from {{ source('published', 'invoice_months') }}
    -- a published month closed again is one of the months being built
    where invoice_date not in (select invoice_date from months_built)
),

invoice_months as (
    select * from months_built
    union all
    select * from published_months
),

published_invoices as (
    select invoice_id from {{ source('published', 'invoices') }}
),

calendar as (
    select * from {{ ref('int_account_calendar') }}
),

account_months as (
    select
        'INV-' || {{ format_date('invoice_months.invoice_date', '%Y%m') }} || '-' || calendar.account_id as invoice_id,
        calendar.account_id,
        calendar.account_name,
        invoice_months.invoice_date,
        invoice_months.usage_month_start,
        invoice_months.usage_month_end,
        invoice_months.service_month_end,
        invoice_months.usf_quarter,
        invoice_months.usf_factor,
        calendar.plan_id,
        plans.included_minutes,
        plans.overage_rate_per_minute,
        calendar.billing_country,
        calendar.billing_state,
        calendar.tax_exempt_certificate_id,
        calendar.autopay,
        calendar.service_start_date,
        calendar.billing_start_date,
        calendar.service_end_date,
        calendar.low_usage_allowance,
        calendar.contract_term_months,
        {{ add_months('calendar.billing_start_date', 'coalesce(calendar.contract_term_months, 0)') }}
            as contract_end_date,
        -- In advance (R-CAL-2): recurring charges while service runs through the invoice month.
        (calendar.service_end_date is null or calendar.service_end_date >= invoice_months.service_month_end)
            as bills_recurring
    from calendar
    inner join invoice_months
        -- First invoice: the month of billing start if it starts on the 1st, else the next (R-PRORATE-1).
        on calendar.billing_start_date <= invoice_months.invoice_date
        -- Last invoice: the one after service ends, carrying the final month's usage (R-CAL-3).
        and (
            calendar.service_end_date is null
            or calendar.service_end_date >= invoice_months.usage_month_start
        )
    left join plans
        on calendar.plan_id = plans.plan_id
),

final as (
    select *
    from account_months
    -- of a published month, only the invoices it published: one it did not bill is not corrected
    where invoice_date in (select invoice_date from months_built)
        or invoice_id in (select invoice_id from published_invoices)
)

select * from final
