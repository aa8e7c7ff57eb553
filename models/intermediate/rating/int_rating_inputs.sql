{{ config(materialized=('view' if target.type == 'spark' else 'table')) }}
-- What each account's calls of an unpublished month being built are rated from (R-RATE), and
-- whether the calls an earlier build of the month rated can be kept: a draft re-close after one
-- more day lands rates only the new day's calls (issue #27). An account-month is kept when, since
-- the build recorded in rated_account_months (written with fct_rated_calls, macros/rating_reuse.sql):
--   - the dbt project is the same (its sources' digest: the rating SQL, the rate deck, the call types);
--   - its invoice is the same (invoice id, billing start, included minutes, overage rate) and so is
--     the account's billing country;
--   - the calls landed by then are the same calls with the same fields (count and sum of row hashes:
--     a call mapped to another account, moved in time or dropped since changes them);
--   - every call landed since starts after the last call it rated, so the bundle draw in start order
--     (R-RATE-5) of the kept calls stands and the new calls draw from where they ended.
-- Otherwise (and on Spark, whose months are partitions overwritten whole) the account-month is
-- rated afresh. fct_rated_calls keeps a kept account-month's rows and appends its new calls.
with

calls_to_bill as (
    select * from {{ ref('int_calls_to_bill') }}
    where {{ in_unpublished_invoice_months('billed_invoice_date') }}
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
    where {{ in_unpublished_invoice_months() }}
),

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

landed_through as (
    select * from {{ ref('int_calls_landed_through') }}
),

{% if target.type == 'spark' %}

final as (
    select
        cast(null as string) as account_id,
        cast(null as date) as invoice_date,
        cast(null as bigint) as call_count,
        cast(null as decimal(38, 0)) as calls_hash,
        cast(null as timestamp) as last_call_start,
        cast(null as bigint) as invoice_hash,
        cast(null as string) as project_version,
        cast(null as timestamp) as rated_through,
        cast(null as timestamp) as kept_through,
        cast(null as decimal(18, 4)) as kept_bundle_minutes
    from landed_through
    where 1 = 0
)

{% else %}

previous as (
    select * from {{ rated_account_months_relation() }}
    -- a build without the project's digest (a hand-run dbt build) keeps nothing
    where project_version = '{{ project_version() }}' and project_version <> ''
),

-- The calls int_calls_rated rates: routed to the account's invoice of the month, from billing start.
calls_to_rate as (
    select
        calls.account_id,
        calls.billed_invoice_date as invoice_date,
        calls.start_time_utc,
        calls.landed_at,
        hash(
            calls.call_id, calls.direction, calls.source_number, calls.destination_number, calls.start_time_utc,
            calls.end_time_utc, calls.duration_sec, calls.is_late, calls.switch_id, calls.source_file,
            calls.source_line
        ) as call_hash
    from calls_to_bill as calls
    inner join account_invoices
        on {{ call_on_its_invoice('calls', 'account_invoices') }}
),

invoices as (
    select
        account_invoices.account_id,
        account_invoices.invoice_date,
        hash(
            account_invoices.invoice_id, account_invoices.billing_start_date, account_invoices.included_minutes,
            account_invoices.overage_rate_per_minute, accounts.billing_country
        ) as invoice_hash
    from account_invoices
    left join accounts
        on account_invoices.account_id = accounts.account_id
),

by_account_month as (
    select
        calls.account_id,
        calls.invoice_date,
        count(*) as call_count,
        sum(cast(calls.call_hash as hugeint)) as calls_hash,
        max(calls.start_time_utc) as last_call_start,
        count(*) filter (where calls.landed_at <= previous.rated_through) as earlier_call_count,
        coalesce(sum(cast(calls.call_hash as hugeint)) filter (where calls.landed_at <= previous.rated_through), 0)
            as earlier_calls_hash,
        min(calls.start_time_utc) filter (where calls.landed_at > previous.rated_through) as first_new_call_start,
        -- at most one record per account-month: its columns carried through the aggregate
        any_value(previous.call_count) as previous_call_count,
        any_value(previous.calls_hash) as previous_calls_hash,
        any_value(previous.last_call_start) as previous_last_call_start,
        any_value(previous.invoice_hash) as previous_invoice_hash,
        any_value(previous.rated_through) as previous_rated_through,
        any_value(previous.bundle_minutes) as previous_bundle_minutes
    from calls_to_rate as calls
    left join previous
        on calls.account_id = previous.account_id
        and calls.invoice_date = previous.invoice_date
    group by calls.account_id, calls.invoice_date
),

compared as (
    select
        by_account_month.*,
        invoices.invoice_hash,
        coalesce(
            by_account_month.previous_invoice_hash = invoices.invoice_hash
            and by_account_month.previous_call_count = by_account_month.earlier_call_count
            and by_account_month.previous_calls_hash = by_account_month.earlier_calls_hash
            and coalesce(by_account_month.first_new_call_start > by_account_month.previous_last_call_start, true),
            false
        ) as is_kept
    from by_account_month
    inner join invoices
        on by_account_month.account_id = invoices.account_id
        and by_account_month.invoice_date = invoices.invoice_date
),

final as (
    select
        compared.account_id,
        compared.invoice_date,
        compared.call_count,
        compared.calls_hash,
        compared.last_call_start,
        compared.invoice_hash,
        '{{ project_version() }}' as project_version,
        landed_through.calls_landed_through as rated_through,
        case when compared.is_kept then compared.previous_rated_through end as kept_through,
        case when compared.is_kept then compared.previous_bundle_minutes end as kept_bundle_minutes
    from compared
    cross join landed_through
)

{% endif %}

select * from final
