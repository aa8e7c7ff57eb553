-- R-INV-3, in the style of billing packages' cross-layer integrity tests: every usage line of the
-- unpublished months being built equals, to the cent and the minute, the rated calls that point at
-- it; the bundle lines equal the minutes drawn from and beyond the plan. Failing rows are lines.
-- (A published month's usage lines and calls are the published ones, R-INV-2.)
-- It reads two models: Dagster shows it as a check of the lines.
{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_lines'}}}) }}

with

calls as (
    select * from {{ ref('fct_rated_calls') }}
    where {{ in_unpublished_invoice_months() }}
),

lines as (
    select * from {{ ref('fct_invoice_lines') }}
    where {{ in_unpublished_invoice_months() }}
        and line_type in {{ line_types_where('is_usage') }}
),

per_line as (
    select
        invoice_line_id,
        sum(billable_minutes) as minutes,
        {{ to_cents('sum(total_cost)') }} as amount
    from calls
    -- the lines of the calls billed at their deck rate, one line per destination and rate
    where line_type in (select billed_line_type from {{ ref('call_types') }} where rated_at_deck_rate)
    group by invoice_line_id
),

per_bundle as (
    select
        invoice_id,
        sum(included_minutes_used) as included_minutes,
        sum(overage_minutes) as overage_minutes,
        {{ to_cents('sum(total_cost)') }} as overage_amount
    from calls
    where call_type in {{ call_types_where('draws_on_bundle') }}
    group by invoice_id
),

compared as (
    select
        lines.invoice_line_id,
        lines.line_type,
        lines.quantity,
        lines.amount,
        case lines.line_type
            when 'included_minutes' then per_bundle.included_minutes
            when 'additional_outbound_minutes' then per_bundle.overage_minutes
            else per_line.minutes
        end as call_minutes,
        case lines.line_type
            when 'included_minutes' then 0
            when 'additional_outbound_minutes' then per_bundle.overage_amount
            else per_line.amount
        end as call_amount
    from lines
    left join per_line
        on lines.invoice_line_id = per_line.invoice_line_id
    left join per_bundle
        on lines.invoice_id = per_bundle.invoice_id
)

select *
from compared
where quantity is distinct from call_minutes
    or amount is distinct from call_amount
