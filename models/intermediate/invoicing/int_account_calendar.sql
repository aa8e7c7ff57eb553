{{ config(materialized='view') }}
-- Each account with its billing start (R-START-1), the effective end of its service after a
-- cancellation (R-CANCEL-1), and the dates of its first and last invoices (as int_account_months
-- bills them: the first 1st on or after billing start; the one after service end). One calendar for
-- the invoices being built, the published ones rebuilt for corrections, adjustments' routing and the
-- unbilled calls' reasons.
with

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

service_dates as (
    select
        accounts.*,
        coalesce(
            accounts.quoted_billing_start_date,
            {{ add_months('accounts.service_start_date', 'accounts.free_months') }}
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
        *,
        case
            when day(billing_start_date) = 1 then billing_start_date
            else {{ first_of_next_month('billing_start_date') }}
        end as first_invoice_date,
        {{ first_of_next_month('service_end_date') }} as last_invoice_date
    from service_dates
)

select * from final
