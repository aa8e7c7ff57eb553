-- Rated calls: bundle draw in call-start order with the crossing call split (R-RATE-5),
-- out-of-plan calls at their deck rate (R-RATE-4), and the invoice line each call lands on.
with

calls as (
    select * from {{ ref('int_calls_classified') }}
),

minutes as (
    select
        *,
        cast(billable_seconds as decimal(18, 4)) / 60 as billable_minutes_double,
        call_type in ('internal', 'local', 'long_distance') as draws_on_bundle
    from calls
),

drawn as (
    select
        *,
        cast(round(billable_minutes_double, 4) as decimal(18, 4)) as billable_minutes,
        sum(case when draws_on_bundle then cast(round(billable_minutes_double, 4) as decimal(18, 4)) end) over (
            partition by account_id, invoice_date, draws_on_bundle
            order by start_time_utc, call_id
            rows between unbounded preceding and current row
        ) as bundle_minutes_to_date
    from minutes
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
    from drawn
),

priced as (
    select
        *,
        case when draws_on_bundle then billable_minutes - included_minutes_used else 0 end as overage_minutes,
        case
            when draws_on_bundle then overage_rate_per_minute
            when call_type in ('toll_free_inbound', 'international', 'premium') then deck_rate_per_minute
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
        destination,
        destination_country,
        deck_prefix,
        start_time_utc,
        end_time_utc,
        duration_sec,
        is_late,
        billable_seconds,
        billable_minutes,
        cast(included_minutes_used as decimal(18, 4)) as included_minutes_used,
        cast(overage_minutes as decimal(18, 4)) as overage_minutes,
        cast(rate_per_minute as decimal(18, 6)) as rate_per_minute,
        cast(
            case
                when draws_on_bundle then overage_minutes * rate_per_minute
                when call_type in ('toll_free_inbound', 'international', 'premium')
                    then billable_minutes * rate_per_minute
                else 0
            end as decimal(18, 8)
        ) as total_cost,
        case
            when billable_seconds = 0 then null
            else case call_type
            when 'toll_free_inbound' then 'toll_free_minutes'
            when 'international' then 'international_minutes'
            when 'premium' then 'domestic_premium_minutes'
            when 'inbound' then null
            when 'unrated' then null
            else case when overage_minutes > 0 then 'additional_outbound_minutes' else 'included_minutes' end
            end
        end as line_type,
        -- Calls of one line share its group: a destination and rate, or the plan's bundle.
        case
            when call_type in ('international', 'premium')
                then destination || '|' || cast(rate_per_minute as varchar)
            when call_type = 'toll_free_inbound' then cast(rate_per_minute as varchar)
            else 'plan'
        end as line_group
    from priced
)

select * from final
