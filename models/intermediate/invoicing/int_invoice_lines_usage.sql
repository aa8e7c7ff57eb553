-- Usage lines of each invoice (R-CAL-3: last month's calls), one per line type and group:
-- the bundle (included_minutes, additional_outbound_minutes) and one per destination and rate.
-- Amounts are rounded once, at the line, from the unrounded call costs. Reads the month's calls
-- from fct_rated_calls, where the close writes them once, rather than rating them a second time.
-- A published month's usage lines are the published ones (R-INV-2), as its calls are: a re-close
-- does not sum its calls again.
with

calls as (
    select
        *,
        {{ usage_line_group('call_type', 'destination', 'rate_per_minute') }} as line_group
    from {{ ref('fct_rated_calls') }}
    where {{ in_unpublished_invoice_months() }}
),

published_lines as (
    select * from {{ source('published', 'invoice_lines') }}
    where {{ in_invoice_months() }}
        and invoice_date in (select invoice_date from {{ source('published', 'invoice_months') }})
        and line_type in {{ line_types_where('is_usage') }}
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

bundle as (
    select
        calls.invoice_id,
        calls.account_id,
        calls.invoice_date,
        account_invoices.usage_month_start,
        account_invoices.usage_month_end,
        account_invoices.overage_rate_per_minute,
        sum(calls.included_minutes_used) as included_minutes,
        sum(calls.overage_minutes) as overage_minutes,
        sum(calls.total_cost) as overage_cost
    from calls
    inner join account_invoices
        on calls.invoice_id = account_invoices.invoice_id
    where calls.call_type in {{ call_types_where('draws_on_bundle') }}
    group by all
),

out_of_plan as (
    select
        calls.invoice_id,
        calls.account_id,
        calls.invoice_date,
        account_invoices.usage_month_start,
        account_invoices.usage_month_end,
        calls.line_type,
        calls.line_group,
        case calls.line_type
            when 'toll_free_minutes' then 'Toll-free inbound minutes'
            when 'international_minutes' then 'International minutes to ' || any_value(calls.destination)
            else 'Premium-rate minutes to ' || any_value(calls.destination)
        end as label,
        calls.rate_per_minute,
        sum(calls.billable_minutes) as minutes,
        sum(calls.total_cost) as cost
    from calls
    inner join account_invoices
        on calls.invoice_id = account_invoices.invoice_id
    where calls.call_type in {{ call_types_where('rated_at_deck_rate') }}
    group by calls.invoice_id, calls.account_id, calls.invoice_date, account_invoices.usage_month_start,
        account_invoices.usage_month_end, calls.line_type, calls.line_group, calls.rate_per_minute
),

final as (
    select
        invoice_id,
        account_id,
        invoice_date,
        'included_minutes' as line_type,
        cast(null as string) as product_code,
        'Plan minutes used, ' || {{ month_label('usage_month_start') }} as description,
        cast(included_minutes as decimal(18, 4)) as quantity,
        cast(0 as decimal(18, 6)) as unit_price,
        cast(0 as decimal(18, 2)) as amount,
        usage_month_start as service_period_start,
        usage_month_end as service_period_end,
        'plan' as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from bundle
    where included_minutes > 0

    union all

    select
        invoice_id,
        account_id,
        invoice_date,
        'additional_outbound_minutes' as line_type,
        null as product_code,
        'Outbound minutes beyond the plan, ' || {{ month_label('usage_month_start') }} as description,
        cast(overage_minutes as decimal(18, 4)) as quantity,
        cast(overage_rate_per_minute as decimal(18, 6)) as unit_price,
        {{ to_cents('overage_cost') }} as amount,
        usage_month_start as service_period_start,
        usage_month_end as service_period_end,
        'plan' as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from bundle
    where overage_minutes > 0

    union all

    select
        invoice_id,
        account_id,
        invoice_date,
        line_type,
        null as product_code,
        label || ', ' || {{ month_label('usage_month_start') }} as description,
        cast(minutes as decimal(18, 4)) as quantity,
        cast(rate_per_minute as decimal(18, 6)) as unit_price,
        {{ to_cents('cost') }} as amount,
        usage_month_start as service_period_start,
        usage_month_end as service_period_end,
        line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from out_of_plan
    where minutes > 0

    union all

    select
        invoice_id,
        account_id,
        invoice_date,
        line_type,
        product_code,
        description,
        quantity,
        unit_price,
        amount,
        service_period_start,
        service_period_end,
        line_key as line_group,
        item_ids
    from published_lines
)

select * from final
