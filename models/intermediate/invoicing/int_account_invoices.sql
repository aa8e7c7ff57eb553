-- One row per account and invoice month it is billed in (R-CAL-1), with its billing calendar:
-- billing start (R-START-1), the cancellation's effective end (R-CANCEL-1) and the invoice id.
with

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

plans as (
    select * from {{ ref('plans') }}
),

invoice_months as (
    select * from {{ ref('int_invoice_months') }}
),

calendar as (
    select
        accounts.*,
        coalesce(
            accounts.quoted_billing_start_date,
            cast(accounts.service_start_date + to_months(accounts.free_months) as date)
        ) as billing_start_date,
        case
            when accounts.cancel_requested_date is null then null
            when day(last_day(accounts.cancel_requested_date)) - day(accounts.cancel_requested_date)
                >= {{ var('cancel_notice_days', 10) }}
                then last_day(accounts.cancel_requested_date)
            else last_day(cast(accounts.cancel_requested_date + interval 1 month as date))
        end as service_end_date
    from accounts
),

final as (
    select
        'INV-' || strftime(invoice_months.invoice_date, '%Y%m') || '-' || calendar.account_id as invoice_id,
        calendar.account_id,
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
        cast(calendar.billing_start_date + to_months(coalesce(calendar.contract_term_months, 0)) as date)
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
)

select * from final
