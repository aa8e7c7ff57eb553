{{ config(materialized='view') }}
-- Rated calls of the invoices being built: each call on the invoice of the month after it
-- started (R-CAL-3), or, if it landed after that invoice was published, on the account's next
-- unpublished invoice (R-LATE-1; a late call already published stays where it was published,
-- R-INV-2); nothing before billing start (R-START-2/3) or without an invoice of the account that
-- month (fct_unbilled_calls lists those); the bundle drawn in call-start order with
-- the crossing call split (R-RATE-5); out-of-plan calls at their deck rate (R-RATE-4); and the
-- invoice line each call lands on (call_types: the bundle, the deck rate and the line type).
with

classified as (
    select * from {{ ref('int_calls_classified') }}
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

rate_deck as (
    select * from {{ ref('rate_deck') }}
),

call_types as (
    select * from {{ ref('call_types') }}
),

-- Each call on the invoice of the month it routes to (int_calls_to_bill).
calls as (
    select
        classified.*,
        account_invoices.invoice_date
    from classified
    inner join account_invoices
        on {{ call_on_its_invoice('classified', 'account_invoices') }}
),

minutes as (
    select
        *,
        cast(billable_seconds as decimal(18, 4)) / 60 as billable_minutes_double,
        call_type in {{ call_types_where('draws_on_bundle') }} as draws_on_bundle
    from calls
),

drawn as (
    select
        *,
        cast(round(billable_minutes_double, 4) as decimal(18, 4)) as billable_minutes,
        -- a kept account-month's new calls draw from where its kept calls ended (int_rating_inputs)
        coalesce(kept_bundle_minutes, 0) + sum(
            case when draws_on_bundle then cast(round(billable_minutes_double, 4) as decimal(18, 4)) end
        ) over (
            partition by account_id, invoice_date, draws_on_bundle
            order by start_time_utc, call_id
            rows between unbounded preceding and current row
        ) as bundle_minutes_to_date
    from minutes
),

-- What the draw does not need joins after it: the sort carries fewer columns.
drawn_with_rates as (
    select
        drawn.*,
        account_invoices.invoice_id,
        account_invoices.included_minutes,
        account_invoices.overage_rate_per_minute,
        rate_deck.destination as deck_destination,
        rate_deck.rate_per_minute as deck_rate,
        call_types.rated_at_deck_rate,
        -- an empty cell of the seed is no line; a dbt unit test reads the seed's empty cells as ''
        nullif(call_types.billed_line_type, '') as billed_line_type,
        nullif(call_types.overage_line_type, '') as overage_line_type
    from drawn
    inner join account_invoices
        on drawn.account_id = account_invoices.account_id
        and drawn.invoice_date = account_invoices.invoice_date
    left join rate_deck
        on drawn.deck_prefix = rate_deck.prefix
        and drawn.deck_effective_from = rate_deck.effective_from
    left join call_types
        on drawn.call_type = call_types.call_type
),

split as (
    select
        *,
        case
            when not draws_on_bundle then cast(0 as decimal(18, 4))
            when included_minutes is null then billable_minutes
            else greatest(
                cast(0 as decimal(18, 4)),
                least(billable_minutes, included_minutes - (bundle_minutes_to_date - billable_minutes))
            )
        end as included_minutes_used
    from drawn_with_rates
),

priced as (
    select
        *,
        case when draws_on_bundle then billable_minutes - included_minutes_used else 0 end as overage_minutes,
        case
            when draws_on_bundle then overage_rate_per_minute
            when rated_at_deck_rate then deck_rate
            else cast(0 as decimal(18, 6))
        end as rate_per_minute
    from split
),

final as (
    select
        call_id,
        account_id,
        invoice_id,
        invoice_date,
        call_type,
        direction,
        source_number,
        destination_number,
        deck_destination as destination,
        deck_prefix,
        start_time_utc,
        end_time_utc,
        duration_sec,
        is_late,
        switch_id,
        source_file,
        source_line,
        billable_seconds,
        billable_minutes,
        cast(included_minutes_used as decimal(18, 4)) as included_minutes_used,
        cast(overage_minutes as decimal(18, 4)) as overage_minutes,
        cast(rate_per_minute as decimal(18, 6)) as rate_per_minute,
        cast(
            case
                when draws_on_bundle then overage_minutes * rate_per_minute
                when rated_at_deck_rate then billable_minutes * rate_per_minute
                else 0
            end as decimal(18, 8)
        ) as total_cost,
        case
            when billable_seconds = 0 then null
            when overage_minutes > 0 then overage_line_type
            else billed_line_type
        end as line_type,
        {{ usage_line_group('call_type', 'deck_destination', 'rate_per_minute') }} as line_group
    from priced
)

select * from final
