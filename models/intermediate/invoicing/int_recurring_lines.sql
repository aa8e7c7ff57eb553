-- Recurring lines, billed in advance (R-CAL-2): each item's full invoice month, and the partial
-- month before it when the item's (or the account's) billing starts after the 1st
-- (R-PRORATE-1..3: prorated_days = days_in_month - day(start)). For every invoice of
-- int_account_months: those being built (int_invoice_lines_recurring) and the published ones rebuilt
-- from today's inputs (int_open_corrections, R-INV-2). A table: both read it, and it is computed once.
with

account_invoices as (
    select * from {{ ref('int_account_months') }}
),

items as (
    select * from {{ ref('stg_landing__subscription_items') }}
),

products as (
    select * from {{ ref('products') }}
),

item_months as (
    select
        account_invoices.invoice_id,
        account_invoices.account_id,
        account_invoices.invoice_date,
        account_invoices.service_month_end,
        account_invoices.usage_month_start,
        account_invoices.usage_month_end,
        items.item_id,
        items.product_code,
        items.quantity,
        products.line_type,
        products.description as product_description,
        products.monthly_price,
        products.low_usage_price,
        items.is_low_usage,
        account_invoices.low_usage_allowance,
        greatest(items.start_date, account_invoices.billing_start_date) as charge_start_date,
        items.end_date,
        account_invoices.service_end_date,
        account_invoices.bills_recurring
    from account_invoices
    inner join items
        on account_invoices.account_id = items.account_id
    inner join products
        on items.product_code = products.product_code
),

full_month_items as (
    select *
    from item_months
    where bills_recurring
        and charge_start_date <= invoice_date
        and (end_date is null or end_date >= invoice_date)
),

full_months as (
    select
        invoice_id,
        account_id,
        invoice_date,
        line_type,
        product_code,
        product_description,
        monthly_price,
        invoice_date as service_period_start,
        service_month_end as service_period_end,
        sum(quantity) as quantity,
        {{ sorted_text_array('item_id') }} as item_ids
    from full_month_items
    group by all
),

-- R-LOWUSE-1: only accounts with at least 20 phones may declare low-usage devices; at most
-- their allowance is honoured, lowest item ids first; the rest bill at full price.
phones as (
    select invoice_id, sum(quantity) as phones
    from full_month_items
    where product_code = '{{ var("low_usage_phone_product", "PHONE_DESK") }}'
    group by invoice_id
),

-- The allowance counts devices: an item of 5 declared phones is 5, and the item that crosses the
-- allowance is honoured for the devices left.
low_usage_declared as (
    select
        full_month_items.*,
        coalesce(sum(full_month_items.quantity) over (
            partition by full_month_items.invoice_id
            order by full_month_items.item_id
            rows between unbounded preceding and 1 preceding
        ), 0) as declared_before
    from full_month_items
    inner join phones
        on full_month_items.invoice_id = phones.invoice_id
    where full_month_items.is_low_usage
        and full_month_items.low_usage_price is not null
        and phones.phones >= {{ var("low_usage_min_phones", 20) }}
),

low_usage_honoured as (
    select
        *,
        least(quantity, low_usage_allowance - declared_before) as honoured_quantity
    from low_usage_declared
    where declared_before < low_usage_allowance
),

low_usage as (
    select
        invoice_id,
        account_id,
        invoice_date,
        service_month_end,
        product_code,
        product_description,
        low_usage_price - monthly_price as unit_discount,
        sum(honoured_quantity) as quantity,
        {{ sorted_text_array('item_id') }} as item_ids
    from low_usage_honoured
    group by all
),

prorated_items as (
    select
        *,
        {{ days_in_month('usage_month_start') }} as days_in_month,
        {{ days_in_month('usage_month_start') }} - day(charge_start_date) as prorated_days
    from item_months
    where charge_start_date > usage_month_start
        and charge_start_date <= usage_month_end
        and (end_date is null or end_date >= charge_start_date)
        -- the partial month was served even when service ends with it: the last invoice bills it
        and (service_end_date is null or service_end_date >= charge_start_date)
),

-- Each partial month before the invoice month, prorated: the items' charge and, for a device
-- honoured as low usage for the invoice month, its discount (billed at the low-usage price too).
prorated_charges as (
    select
        invoice_id,
        account_id,
        invoice_date,
        'prorated_charges' as line_type,
        '' as description_prefix,
        product_code || '|' as line_group_prefix,
        product_code,
        product_description,
        monthly_price as monthly_amount,
        days_in_month,
        prorated_days,
        usage_month_start,
        usage_month_end,
        sum(quantity) as quantity,
        {{ sorted_text_array('item_id') }} as item_ids
    from prorated_items
    where prorated_days > 0
    group by all

    union all

    select
        prorated_items.invoice_id,
        prorated_items.account_id,
        prorated_items.invoice_date,
        'low_usage_discount' as line_type,
        'Low-usage discount: ' as description_prefix,
        prorated_items.product_code || '|low_usage|' as line_group_prefix,
        prorated_items.product_code,
        prorated_items.product_description,
        prorated_items.low_usage_price - prorated_items.monthly_price as monthly_amount,
        prorated_items.days_in_month,
        prorated_items.prorated_days,
        prorated_items.usage_month_start,
        prorated_items.usage_month_end,
        sum(low_usage_honoured.honoured_quantity) as quantity,
        {{ sorted_text_array('prorated_items.item_id') }} as item_ids
    from prorated_items
    inner join low_usage_honoured
        on prorated_items.invoice_id = low_usage_honoured.invoice_id
        and prorated_items.item_id = low_usage_honoured.item_id
    where prorated_items.prorated_days > 0
    group by all
),

prorated as (
    select
        *,
        {{ add_days('usage_month_end', '1 - prorated_days') }} as service_period_start,
        usage_month_end as service_period_end
    from prorated_charges
),

final as (
    select
        invoice_id,
        account_id,
        invoice_date,
        line_type,
        product_code,
        product_description || ' × ' || cast(quantity as string) || ', ' || {{ month_label('invoice_date') }}
            as description,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(monthly_price as decimal(18, 6)) as unit_price,
        {{ to_cents('quantity * monthly_price') }} as amount,
        service_period_start,
        service_period_end,
        product_code || '|' || cast(service_period_start as string) as line_group,
        item_ids
    from full_months

    union all

    select
        invoice_id,
        account_id,
        invoice_date,
        line_type,
        product_code,
        description_prefix || product_description || ' × ' || cast(quantity as string) || ', '
            || cast(prorated_days as string) || ' days of ' || {{ month_label('usage_month_start') }} as description,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(round(monthly_amount * prorated_days / days_in_month, 6) as decimal(18, 6)) as unit_price,
        {{ divide_to_cents('quantity * monthly_amount * prorated_days', 'days_in_month') }} as amount,
        service_period_start,
        service_period_end,
        line_group_prefix || cast(service_period_start as string) as line_group,
        item_ids
    from prorated

    union all

    select
        invoice_id,
        account_id,
        invoice_date,
        'low_usage_discount' as line_type,
        product_code,
        'Low-usage discount: ' || product_description || ' × ' || cast(quantity as string) || ', '
            || {{ month_label('invoice_date') }} as description,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(unit_discount as decimal(18, 6)) as unit_price,
        {{ to_cents('quantity * unit_discount') }} as amount,
        invoice_date as service_period_start,
        service_month_end as service_period_end,
        product_code || '|low_usage' as line_group,
        item_ids
    from low_usage
)

select * from final
