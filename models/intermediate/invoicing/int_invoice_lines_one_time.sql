-- One-time fees: changes of caller ID, E911 address or a number to bidirectional in the usage
-- month, on the next invoice (R-FEE-1); the early-termination fee on the final invoice of an
-- account cancelled inside its contract term (R-CANCEL-1): remaining full months × the monthly
-- recurring charge at service end × a configurable share.
with

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

changes as (
    select * from {{ ref('stg_landing__account_changes') }}
),

items as (
    select * from {{ ref('stg_landing__subscription_items') }}
),

products as (
    select * from {{ ref('products') }}
),

fee_rates as (
    select * from {{ ref('fee_rates') }}
),

change_fees as (
    select
        account_invoices.invoice_id,
        account_invoices.account_id,
        account_invoices.invoice_date,
        account_invoices.usage_month_start,
        account_invoices.usage_month_end,
        changes.change_type,
        count(*) as changes,
        (select amount from fee_rates where fee_code = 'change_fee') as fee
    from changes
    inner join account_invoices
        on changes.account_id = account_invoices.account_id
        and changes.changed_at >= account_invoices.usage_month_start
        and changes.changed_at < account_invoices.invoice_date
    group by all
),

final_invoices as (
    select *
    from account_invoices
    where service_end_date is not null
        and service_end_date >= usage_month_start
        and service_end_date <= usage_month_end
        and contract_end_date > service_end_date + interval 1 day
),

monthly_recurring as (
    select
        final_invoices.invoice_id,
        sum(items.quantity * products.monthly_price) as monthly_recurring_charge
    from final_invoices
    inner join items
        on final_invoices.account_id = items.account_id
        and items.start_date <= final_invoices.service_end_date
        and (items.end_date is null or items.end_date >= final_invoices.service_end_date)
    inner join products
        on items.product_code = products.product_code
    where products.line_type in {{ line_types_where('in_mrr') }}
    group by final_invoices.invoice_id
),

termination as (
    select
        final_invoices.invoice_id,
        final_invoices.account_id,
        final_invoices.invoice_date,
        final_invoices.service_end_date,
        final_invoices.contract_end_date,
        -- Whole months from the day after service end to the contract's end.
        {{ months_between_boundaries('cast(final_invoices.service_end_date + interval 1 day as date)', 'final_invoices.contract_end_date') }}
            as remaining_months,
        monthly_recurring.monthly_recurring_charge
    from final_invoices
    inner join monthly_recurring
        on final_invoices.invoice_id = monthly_recurring.invoice_id
),

final as (
    select
        invoice_id,
        account_id,
        invoice_date,
        'one_time_fee' as line_type,
        cast(null as string) as product_code,
        case change_type
            when 'caller_id' then 'Caller ID change'
            when 'e911' then 'E911 address change'
            else 'Change of a number to bidirectional'
        end || ' × ' || cast(changes as string) || ', ' || {{ month_label('usage_month_start') }} as description,
        cast(changes as decimal(18, 4)) as quantity,
        cast(fee as decimal(18, 6)) as unit_price,
        {{ to_cents('changes * fee') }} as amount,
        usage_month_start as service_period_start,
        usage_month_end as service_period_end,
        'change|' || change_type as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from change_fees

    union all

    select
        invoice_id,
        account_id,
        invoice_date,
        'one_time_fee' as line_type,
        cast(null as string) as product_code,
        'Early termination fee: ' || cast(remaining_months as string) || ' remaining months of the contract'
            as description,
        cast(remaining_months as decimal(18, 4)) as quantity,
        cast(monthly_recurring_charge * {{ var('early_termination_share', 1) }} as decimal(18, 6)) as unit_price,
        {{ to_cents('remaining_months * monthly_recurring_charge * ' ~ var('early_termination_share', 1)) }}
            as amount,
        cast(service_end_date + interval 1 day as date) as service_period_start,
        cast(contract_end_date - interval 1 day as date) as service_period_end,
        'early_termination' as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from termination
    where remaining_months > 0
)

select * from final
