-- Calls billed on the invoices being built, classified (R-RATE-1) by the longest matching
-- prefix of the rate deck in force at the call's start (R-RATE-4), with billable seconds
-- from that row's initial/increment (R-RATE-2, R-RATE-3). Calls before billing start are not
-- rated (R-START-2, R-START-3).
-- Each call goes on the invoice of the month after it started (R-CAL-3); if that invoice is
-- already published without it, on the account's next unpublished invoice (R-LATE-1); a call
-- already published stays on the invoice it was published on (R-INV-2).
with

landed_calls as (
    select * from {{ ref('stg_landing__cdrs') }}
),

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

published_calls as (
    select call_id, invoice_date from {{ source('published', 'rated_calls') }}
),

last_published as (
    select account_id, max(invoice_date) as invoice_date
    from published_invoices
    group by account_id
),

calls as (
    select
        landed_calls.*,
        coalesce(
            published_calls.invoice_date,
            case
                when natural_invoice.invoice_id is null
                    then cast(date_trunc('month', landed_calls.start_time_utc) + interval 1 month as date)
                else cast(last_published.invoice_date + interval 1 month as date)
            end
        ) as billed_invoice_date,
        published_calls.call_id is null and natural_invoice.invoice_id is not null as is_late
    from landed_calls
    left join published_calls
        on landed_calls.call_id = published_calls.call_id
    left join published_invoices as natural_invoice
        on landed_calls.account_id = natural_invoice.account_id
        and natural_invoice.invoice_date
        = cast(date_trunc('month', landed_calls.start_time_utc) + interval 1 month as date)
    left join last_published
        on landed_calls.account_id = last_published.account_id
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

rate_deck as (
    select * from {{ ref('rate_deck') }}
),

billed_calls as (
    select
        calls.*,
        account_invoices.invoice_id,
        account_invoices.invoice_date,
        account_invoices.billing_country,
        account_invoices.plan_id,
        account_invoices.included_minutes,
        account_invoices.overage_rate_per_minute,
        case when calls.destination_number like '+%' then substr(calls.destination_number, 2) end
            as destination_digits
    from calls
    inner join account_invoices
        on calls.account_id = account_invoices.account_id
        and calls.billed_invoice_date = account_invoices.invoice_date
        and calls.start_time_utc >= account_invoices.billing_start_date
),

-- Longest prefix as an equi-join: every leading substring of the number against the deck.
prefix_candidates as (
    select
        billed_calls.call_id,
        billed_calls.start_time_utc,
        substr(billed_calls.destination_digits, 1, prefix_length) as prefix
    from billed_calls
    cross join range(1, (select max(length(prefix)) from rate_deck) + 1) as lengths(prefix_length)
    where billed_calls.direction <> 'internal'
        and billed_calls.destination_digits is not null
        and prefix_length <= length(billed_calls.destination_digits)
),

deck_matches as (
    select
        prefix_candidates.call_id,
        rate_deck.prefix as deck_prefix,
        rate_deck.destination,
        rate_deck.country_code as destination_country,
        rate_deck.number_type,
        rate_deck.rate_per_minute as deck_rate_per_minute,
        rate_deck.initial_seconds,
        rate_deck.increment_seconds
    from prefix_candidates
    inner join rate_deck
        on prefix_candidates.prefix = rate_deck.prefix
        and cast(prefix_candidates.start_time_utc as date) >= rate_deck.effective_from
        and cast(prefix_candidates.start_time_utc as date) <= coalesce(rate_deck.effective_to, date '9999-12-31')
    qualify row_number() over (partition by prefix_candidates.call_id order by length(rate_deck.prefix) desc) = 1
),

classified as (
    select
        billed_calls.*,
        deck_matches.deck_prefix,
        deck_matches.destination,
        deck_matches.destination_country,
        deck_matches.number_type,
        deck_matches.deck_rate_per_minute,
        coalesce(deck_matches.initial_seconds, {{ var('default_initial_seconds', 60) }}) as initial_seconds,
        coalesce(deck_matches.increment_seconds, {{ var('default_increment_seconds', 60) }}) as increment_seconds,
        case
            when billed_calls.direction = 'internal' or billed_calls.destination_digits is null then 'internal'
            when billed_calls.direction = 'inbound' and deck_matches.number_type = 'toll_free'
                then 'toll_free_inbound'
            when billed_calls.direction = 'inbound' then 'inbound'
            when deck_matches.deck_prefix is null then 'unrated'
            when deck_matches.number_type = 'premium' then 'premium'
            when deck_matches.destination_country <> billed_calls.billing_country then 'international'
            -- Same NANP area code as the calling number: local; other domestic: long distance.
            when substr(billed_calls.destination_number, 1, 5) = substr(billed_calls.source_number, 1, 5)
                then 'local'
            else 'long_distance'
        end as call_type
    from billed_calls
    left join deck_matches
        on billed_calls.call_id = deck_matches.call_id
),

final as (
    select
        *,
        case
            when duration_sec <= 0 then 0
            when duration_sec <= initial_seconds then initial_seconds
            else initial_seconds
                + ((duration_sec - initial_seconds + increment_seconds - 1) // increment_seconds) * increment_seconds
        end as billable_seconds
    from classified
)

select * from final
