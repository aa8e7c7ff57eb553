{{
    config(
        materialized='incremental',
        incremental_strategy=invoice_months_strategy(),
        partition_by=('invoice_date' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_invoice_months(keep_published=true) }}",
    )
}}
-- Every landed call that a close of the months being built bills on no invoice, with the reason:
-- before the account's billing start (R-START-2/3), after its service end (R-CANCEL-1), or late
-- with no invoice of the account left to carry it (R-LATE-1). With marts.fct_rated_calls and
-- raw.quarantine, every landed call is accounted for. invoice_date is the close that listed it: a
-- call's natural month, or, for a late call, the first month closed after it landed, so a call is
-- listed once and a published month's list stays as it was.
with

routed as (
    select * from {{ ref('int_calls_to_bill') }}
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

accounts as (
    select * from {{ ref('int_account_calendar') }}
),

published_months as (
    select * from {{ source('published', 'invoice_months') }}
),

-- The calls fct_rated_calls does not rate and never will: no invoice of the account in the month
-- they route to (or one whose billing starts after the call), when that month is being built; or
-- late calls routed to a month already published without them (the account has no invoice after
-- it: the next unpublished invoice stays the month after its last).
unbilled as (
    select routed.*
    from routed
    left join account_invoices
        on {{ call_on_its_invoice('routed', 'account_invoices') }}
    where account_invoices.account_id is null
        and (
            routed.billed_invoice_date is null
            or {{ in_invoice_months('routed.billed_invoice_date') }}
            or (
                routed.is_late
                and not routed.is_published_late
                and routed.billed_invoice_date in (select invoice_date from published_months)
            )
        )
),

-- A month a late call can be listed in: one being built and not published, or a published one
-- whose close saw the call (it landed by that close's landing time).
listing_months as (
    select invoice_date, cast(null as timestamp) as calls_landed_through
    from {{ ref('int_invoice_months') }}
    where invoice_date not in (select invoice_date from published_months)
    union all
    select invoice_date, calls_landed_through
    from published_months
),

late_listed as (
    select unbilled.call_id, min(listing_months.invoice_date) as invoice_date
    from unbilled
    inner join listing_months
        on listing_months.invoice_date > unbilled.natural_invoice_date
        and (
            listing_months.calls_landed_through is null
            or listing_months.calls_landed_through >= unbilled.landed_at
        )
    where unbilled.is_late
    group by unbilled.call_id
),

final as (
    select
        unbilled.call_id,
        unbilled.account_id,
        case when unbilled.is_late then late_listed.invoice_date else unbilled.natural_invoice_date end
            as invoice_date,
        case
            when unbilled.switch_id is not null and unbilled.account_id is null then 'unknown_tenant'
            when accounts.account_id is null then 'unknown_account'
            when accounts.billing_start_date is null then 'no_billing_start'
            when unbilled.start_time_utc < accounts.billing_start_date then 'before_billing_start'
            when unbilled.start_time_utc >= {{ add_days('accounts.service_end_date', 1) }} then 'after_service_end'
            else 'late_after_last_invoice'
        end as reason,
        unbilled.direction,
        unbilled.source_number,
        unbilled.destination_number,
        unbilled.start_time_utc,
        unbilled.end_time_utc,
        unbilled.duration_sec,
        unbilled.is_late,
        unbilled.landed_at,
        unbilled.switch_id,
        unbilled.tenant_key,
        unbilled.source_file,
        unbilled.source_line,
        accounts.billing_start_date,
        accounts.service_end_date
    from unbilled
    left join late_listed
        on unbilled.call_id = late_listed.call_id
    left join accounts
        on unbilled.account_id = accounts.account_id
)

select * from final
where {{ in_unpublished_invoice_months() }}
