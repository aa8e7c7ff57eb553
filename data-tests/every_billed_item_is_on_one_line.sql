-- R-INV-3: every subscription item billed on an invoice is on exactly one line per charge
-- (its full month, its prorated part, its low-usage discount of each). Failing rows are items.
-- It reads the lines and a seed: Dagster shows it as a check of the lines.
{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_lines'}}}) }}
with

lines as (
    select
        *,
        -- a prorated part or a low-usage discount of its product's month (line_types.bills_as_product_month)
        line_type in {{ line_types_where('bills_as_product_month') }} as is_part_of_a_month
    from {{ ref('fct_invoice_lines') }}
    where invoice_date between {{ invoice_month_start() }} and {{ invoice_month_end() }}
        and item_ids is not null
),

items_on_lines as (
    select
        invoice_id,
        case
            -- a discount for the partial month before the invoice month (R-LOWUSE-1 with R-PRORATE-3)
            when line_type = 'low_usage_discount' and service_period_start < invoice_date
                then 'prorated_low_usage_discount'
            when is_part_of_a_month then line_type
            else 'full_month'
        end as charge,
        {{ array_elements('item_ids') }} as item_id
    from lines
)

select invoice_id, charge, item_id, count(*) as lines
from items_on_lines
group by invoice_id, charge, item_id
having count(*) <> 1
