{#-
    The account calendar and the recurring lines, as macros: the close builds them for the
    months being closed (int_account_invoices, int_invoice_lines_recurring) and rebuilds them for
    published months to find corrections (int_invoice_lines_corrections), with one definition.
-#}

{#- Each account with its billing start (R-START-1), the effective end of its service after a
    cancellation (R-CANCEL-1), and the dates of its first and last invoices (as account_invoices_sql
    bills them: the first 1st on or after billing start; the one after service end). -#}
{% macro account_calendar() -%}
    select
        *,
        case
            when day(billing_start_date) = 1 then billing_start_date
            else {{ first_of_next_month('billing_start_date') }}
        end as first_invoice_date,
        {{ first_of_next_month('service_end_date') }} as last_invoice_date
    from (
        select
            accounts.*,
            coalesce(
                accounts.quoted_billing_start_date,
                {{ add_months('accounts.service_start_date', 'accounts.free_months') }}
            ) as billing_start_date,
            case
                when accounts.cancel_requested_date is null then null
                when day(last_day(accounts.cancel_requested_date)) - day(accounts.cancel_requested_date)
                    >= {{ var('cancel_notice_days', 10) }}
                    then last_day(accounts.cancel_requested_date)
                else last_day(cast(accounts.cancel_requested_date + interval 1 month as date))
            end as service_end_date
        from {{ ref('stg_landing__accounts') }} as accounts
    ) as accounts
{%- endmacro %}

{#- Each approved adjustment with the invoice month it is billed in (R-CAL-6, R-INV-2): the month
    it was published on, if it was; else the month after approval, or the account's first invoice if
    billing starts later; if the account's invoice of that month is published without it, the
    account's next unpublished invoice. -#}
{% macro route_adjustments() -%}
    select
        first_choice.*,
        case
            when published_adjustments.invoice_date is not null then published_adjustments.invoice_date
            when first_choice.first_choice_invoice_id is null then first_choice.first_choice_date
            else account_publication.next_unpublished_invoice_date
        end as billed_invoice_date
    from (
        select
            candidates.*,
            published_invoices.invoice_id as first_choice_invoice_id
        from (
            select
                adjustments.*,
                accounts.first_invoice_date,
                accounts.last_invoice_date,
                -- greatest skips a null (no account calendar) on DuckDB and Spark alike
                greatest({{ first_of_next_month('adjustments.approved_at') }}, accounts.first_invoice_date)
                    as first_choice_date
            from {{ ref('stg_landing__adjustments') }} as adjustments
            left join ({{ account_calendar() | indent(12) }}) as accounts
                on adjustments.account_id = accounts.account_id
        ) as candidates
        left join {{ source('published', 'invoices') }} as published_invoices
            on candidates.account_id = published_invoices.account_id
            and candidates.first_choice_date = published_invoices.invoice_date
    ) as first_choice
    -- An adjustment line is keyed by its adjustment id: once published it stays where it is (R-INV-2).
    left join (
        select account_id, line_key, min(invoice_date) as invoice_date
        from {{ source('published', 'invoice_lines') }}
        where line_type = 'adjustment'
            and line_key <> 'account_credit'
            and line_key not like 'correction|%'
        group by account_id, line_key
    ) as published_adjustments
        on first_choice.account_id = published_adjustments.account_id
        and first_choice.adjustment_id = published_adjustments.line_key
    left join {{ ref('int_account_publication') }} as account_publication
        on first_choice.account_id = account_publication.account_id
{%- endmacro %}

{% macro account_invoices_sql(invoice_months) -%}
-- One row per account and invoice month it is billed in (R-CAL-1), with its billing calendar:
-- billing start (R-START-1), the cancellation's effective end (R-CANCEL-1) and the invoice id.
with

plans as (
    select * from {{ ref('plans') }}
),

invoice_months as (
    select * from {{ invoice_months }}
),

calendar as (
    {{ account_calendar() | indent(4) }}
),

final as (
    select
        'INV-' || {{ format_date('invoice_months.invoice_date', '%Y%m') }} || '-' || calendar.account_id as invoice_id,
        calendar.account_id,
        calendar.account_name,
        invoice_months.invoice_date,
        invoice_months.usage_month_start,
        invoice_months.usage_month_end,
        invoice_months.service_month_end,
        invoice_months.usf_quarter,
        invoice_months.usf_factor,
        calendar.plan_id,
        plans.included_minutes,
        plans.overage_rate_per_minute,
        calendar.billing_country,
        calendar.billing_state,
        calendar.tax_exempt_certificate_id,
        calendar.autopay,
        calendar.service_start_date,
        calendar.billing_start_date,
        calendar.service_end_date,
        calendar.low_usage_allowance,
        calendar.contract_term_months,
        {{ add_months('calendar.billing_start_date', 'coalesce(calendar.contract_term_months, 0)') }}
            as contract_end_date,
        -- In advance (R-CAL-2): recurring charges while service runs through the invoice month.
        (calendar.service_end_date is null or calendar.service_end_date >= invoice_months.service_month_end)
            as bills_recurring
    from calendar
    inner join invoice_months
        -- First invoice: the month of billing start if it starts on the 1st, else the next (R-PRORATE-1).
        on calendar.billing_start_date <= invoice_months.invoice_date
        -- Last invoice: the one after service ends, carrying the final month's usage (R-CAL-3).
        and (
            calendar.service_end_date is null
            or calendar.service_end_date >= invoice_months.usage_month_start
        )
    left join plans
        on calendar.plan_id = plans.plan_id
)

select * from final
{%- endmacro %}

{% macro recurring_lines_sql(account_invoices) -%}
-- Recurring lines, billed in advance (R-CAL-2): each item's full invoice month, and the partial
-- month before it when the item's (or the account's) billing starts after the 1st
-- (R-PRORATE-1..3: prorated_days = days_in_month - day(start)).
with

account_invoices as (
    select * from {{ account_invoices }}
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
{%- endmacro %}

{#- Every invoice line model but tax, in one place: tax is computed on their sum (R-TAX-1) and the
    mart adds the tax lines to them. -#}
{% macro invoice_lines_before_tax() -%}
    {%- set line_models = [
        'int_invoice_lines_recurring', 'int_invoice_lines_usage', 'int_invoice_lines_regulatory',
        'int_invoice_lines_one_time', 'int_invoice_lines_adjustments', 'int_invoice_lines_corrections',
    ] -%}
    {%- for line_model in line_models %}
    select * from {{ ref(line_model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
