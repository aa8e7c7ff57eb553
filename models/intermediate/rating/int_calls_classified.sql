{{ config(materialized='view') }}
-- The calls of the invoices being built, classified (R-RATE-1) by the longest matching prefix of
-- the rate deck in force at the call's start (R-RATE-4), with billable seconds from that row's
-- initial and increment seconds (R-RATE-2, R-RATE-3). A view: the close writes each call once, in
-- fct_rated_calls, and classifies only the calls it rates (int_calls_to_bill): those of the
-- unpublished months being built (R-CAL-3) and those that landed after their month was published
-- (R-LATE-1).
{#- E.164: a number has at most 15 digits, so no deck prefix is longer. -#}
{%- set max_prefix_length = 15 %}
with

-- An account-month whose earlier rating is kept (int_rating_inputs) has only its new calls rated.
billed_calls as (
    select
        to_bill.*,
        kept.kept_bundle_minutes
    from {{ ref('int_calls_to_bill') }} as to_bill
    left join {{ ref('int_rating_inputs') }} as kept
        on to_bill.account_id = kept.account_id
        and to_bill.billed_invoice_date = kept.invoice_date
        and kept.kept_through is not null
    where kept.kept_through is null
        or to_bill.landed_at > kept.kept_through
),

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

rate_deck as (
    select * from {{ ref('rate_deck') }}
),

landed_calls as (
    select
        billed_calls.*,
        accounts.billing_country,
        case when billed_calls.destination_number like '+%' then substr(billed_calls.destination_number, 2) end
            as destination_digits
    from billed_calls
    left join accounts
        on billed_calls.account_id = accounts.account_id
),

-- Longest prefix in force: one hash join per prefix length against the deck rows of that length
-- (E.164 numbers have at most 15 digits); the longest match wins and its deck row classifies and
-- rates the call. Every call is probed once per length against a small table, instead of
-- exploding into a row per leading substring and ranking them.
{% for length in range(1, max_prefix_length + 1) %}
deck_length_{{ length }} as (
    select prefix, effective_from, effective_to
    from rate_deck
    where length(prefix) = {{ length }}
),
{% endfor %}
classified as (
    select
        landed_calls.*,
        -- the deck row (its destination and rate join after the bundle draw, int_calls_rated)
        deck.prefix as deck_prefix,
        deck.effective_from as deck_effective_from,
        deck.number_type,
        coalesce(deck.initial_seconds, {{ var('default_initial_seconds', 60) }}) as initial_seconds,
        coalesce(deck.increment_seconds, {{ var('default_increment_seconds', 60) }}) as increment_seconds,
        case
            when landed_calls.direction = 'internal' or landed_calls.destination_digits is null then 'internal'
            when landed_calls.direction = 'inbound' and deck.number_type = 'toll_free'
                then 'toll_free_inbound'
            when landed_calls.direction = 'inbound' then 'inbound'
            when deck.prefix is null then 'unrated'
            when deck.number_type = 'premium' then 'premium'
            when deck.country_code <> landed_calls.billing_country then 'international'
            -- Same NANP area code as the calling number: local; other domestic: long distance.
            when substr(landed_calls.destination_number, 1, 5) = substr(landed_calls.source_number, 1, 5)
                then 'local'
            else 'long_distance'
        end as call_type
    from landed_calls
    {%- for length in range(1, max_prefix_length + 1) %}
    left join deck_length_{{ length }}
        on landed_calls.direction <> 'internal'
        and substr(landed_calls.destination_digits, 1, {{ length }}) = deck_length_{{ length }}.prefix
        and cast(landed_calls.start_time_utc as date) >= deck_length_{{ length }}.effective_from
        and cast(landed_calls.start_time_utc as date)
            <= coalesce(deck_length_{{ length }}.effective_to, date '9999-12-31')
    {%- endfor %}
    left join rate_deck as deck
        on deck.prefix = coalesce(
            {%- for length in range(max_prefix_length, 0, -1) %}
            deck_length_{{ length }}.prefix{{ ',' if not loop.last }}
            {%- endfor %}
        )
        and deck.effective_from = coalesce(
            {%- for length in range(max_prefix_length, 0, -1) %}
            deck_length_{{ length }}.effective_from{{ ',' if not loop.last }}
            {%- endfor %}
        )
),

final as (
    select
        *,
        {{ billable_seconds('duration_sec', 'initial_seconds', 'increment_seconds') }} as billable_seconds
    from classified
)

select * from final
