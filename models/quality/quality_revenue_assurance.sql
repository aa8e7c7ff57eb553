-- The rows of the revenue_assurance suite (expectations/revenue_assurance.json): one row per
-- account billed in the unpublished months being closed: outbound calls whose calling number is no
-- account's number, calls no rate deck row priced, and whether its billed minutes jumped past the
-- spike factor. A published month's calls passed this suite when it was published and never change
-- (R-INV-2): a re-close does not judge them again, against numbers that may have changed since, nor
-- read them all again.
with

items as (
    select * from {{ ref('stg_landing__subscription_items') }}
),

numbers as (
    select distinct phone_number from items where phone_number is not null
),

-- A switch writes an outbound call's caller as the extension that dialled (R-CDR): known when it is
-- one of the account's own extensions.
extensions as (
    select distinct account_id, extension from items where extension is not null
),

call_types as (
    select * from {{ ref('call_types') }}
),

calls as (
    select
        rated.account_id,
        rated.invoice_date,
        rated.source_number,
        rated.billable_minutes,
        rated.call_type,
        rated.rate_per_minute,
        extensions.extension is not null as from_own_extension,
        coalesce(call_types.placed_from_account_number, false) as placed_from_account_number
    from {{ ref('fct_rated_calls') }} as rated
    left join extensions
        on rated.account_id = extensions.account_id
        and rated.source_number = extensions.extension
    left join call_types
        on rated.call_type = call_types.call_type
    where {{ in_unpublished_invoice_months('rated.invoice_date') }}
),

this_month as (
    select
        account_id,
        invoice_date,
        count(*) filter (
            where placed_from_account_number
                and source_number not in (select phone_number from numbers)
                and not from_own_extension
        ) as calls_from_unknown_numbers,
        any_value(source_number) filter (
            where placed_from_account_number
                and source_number not in (select phone_number from numbers)
                and not from_own_extension
        ) as example_unknown_number,
        count(*) filter (where call_type = 'unrated' or rate_per_minute is null) as unrated_calls,
        sum(billable_minutes) as minutes
    from calls
    group by account_id, invoice_date
),

previous_month as (
    select account_id, invoice_date, sum(billable_minutes) as minutes
    from {{ source('published', 'rated_calls') }}
    -- Only the months before the ones being closed: the rest of the history is never joined.
    where invoice_date between cast({{ invoice_month_start() }} - interval 1 month as date)
        and cast({{ invoice_month_end() }} - interval 1 month as date)
    group by account_id, invoice_date
),

final as (
    select
        this_month.account_id,
        {{ format_date('this_month.invoice_date', '%Y-%m') }} as invoice_month,
        this_month.calls_from_unknown_numbers,
        this_month.example_unknown_number,
        this_month.unrated_calls,
        cast(this_month.minutes as double) as minutes,
        cast(previous_month.minutes as double) as previous_minutes,
        case
            when previous_month.minutes >= {{ var('usage_spike_min_minutes') }}
                and this_month.minutes > {{ var('usage_spike_factor') }} * previous_month.minutes
                then 1
            else 0
        end as usage_ratio_over_limit
    from this_month
    left join previous_month
        on this_month.account_id = previous_month.account_id
        and previous_month.invoice_date = cast(this_month.invoice_date - interval 1 month as date)
)

select * from final
order by account_id, invoice_month
