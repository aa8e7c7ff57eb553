{{
    config(
        materialized='incremental',
        incremental_strategy=invoice_months_strategy(),
        partition_by=('invoice_date' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_invoice_months() }}",
    )
}}
-- Every line of every draft invoice of the months being built (BILLING_RULES line types).
with

lines as (
    select * from {{ ref('int_invoice_lines_before_tax') }}
    union all
    select * from {{ ref('int_invoice_lines_tax') }}
    union all
    select * from {{ ref('int_invoice_lines_account_credit') }}
),

final as (
    select
        {{ invoice_line_id('invoice_id', 'line_type', 'line_group') }} as invoice_line_id,
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
        item_ids,
        line_group as line_key
    from lines
)

select * from final
