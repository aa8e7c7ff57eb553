{{ config(materialized='view') }}
-- The landed calls a close bills, each with the invoice month it is billed in: those of the
-- unpublished months being built (R-CAL-3) and those that landed after their month was published
-- (late, R-LATE-1), all landed by the close's landing time. A call is billed on its natural month's
-- invoice (the month after it started); a late call on the month it was published on (R-INV-2), or
-- else on the account's next unpublished invoice (R-LATE-1). int_calls_classified rates them;
-- fct_unbilled_calls lists those no invoice bills: one routing, so the two cannot disagree.
with

-- Only the calls a close can still bill (macros/calendar.sql, calls_settled_through): those that
-- started in the usage months of the invoices being built, and those landed after the newest
-- landing a published close saw. Two ranges of stored columns, so the storage skips the rest.
{%- set started_in_the_usage_months -%}
    start_time_utc >= cast({{ add_months(invoice_month_start(), -1) }} as timestamp)
        and start_time_utc < cast({{ invoice_month_end() }} as timestamp)
{%- endset %}
calls_of_the_months as (
    select * from {{ ref('int_calls_landed') }}
    where {{ started_in_the_usage_months }}
),

calls_landed_since as (
    select * from {{ ref('int_calls_landed') }}
    where landed_at > {{ calls_settled_through() }}
        and not ({{ started_in_the_usage_months }})
),

calls as (
    select * from calls_of_the_months
    union all
    select * from calls_landed_since
),

landed_through as (
    select * from {{ ref('int_calls_landed_through') }}
),

published_months as (
    select * from {{ source('published', 'invoice_months') }}
),

published_late_calls as (
    select call_id, invoice_date from {{ source('published', 'rated_calls') }} where is_late
),

account_publication as (
    select * from {{ ref('int_account_publication') }}
),

candidates as (
    select
        calls.*,
        -- R-CAL-3: a call is billed on the invoice of the month after it started.
        {{ first_of_next_month('calls.start_time_utc') }} as natural_invoice_date
    from calls
    -- Every call the build sees landed by this time (publication records it, R-LATE-1): a landing
    -- that runs during the close waits for the next one.
    cross join landed_through
    where calls.landed_at <= landed_through.calls_landed_through
),

to_bill as (
    select
        candidates.*,
        published_months.calls_landed_through is not null
            and candidates.landed_at > published_months.calls_landed_through as is_late
    from candidates
    left join published_months
        on candidates.natural_invoice_date = published_months.invoice_date
    -- a published month's calls were rated when it was published and never change (R-INV-2)
    where (
            candidates.natural_invoice_date between {{ invoice_month_start() }} and {{ invoice_month_end() }}
            and published_months.invoice_date is null
        )
        or candidates.landed_at > published_months.calls_landed_through
),

final as (
    select
        to_bill.*,
        published_late_calls.call_id is not null as is_published_late,
        case
            when not to_bill.is_late then to_bill.natural_invoice_date
            when published_late_calls.call_id is not null then published_late_calls.invoice_date
            else account_publication.next_unpublished_invoice_date
        end as billed_invoice_date
    from to_bill
    left join published_late_calls
        on to_bill.is_late and to_bill.call_id = published_late_calls.call_id
    left join account_publication
        on to_bill.account_id = account_publication.account_id
)

select * from final
