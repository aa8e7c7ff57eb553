{{
    config(
        materialized='incremental',
        incremental_strategy=invoice_months_strategy(),
        partition_by=('invoice_date' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_invoice_months(keep_published=true) }}",
    )
}}
-- Adjustments no invoice will carry: approved adjustments (R-CAL-6) and corrections of published
-- invoices (R-INV-2) that route to a month after the account's last invoice (its service ended,
-- R-CANCEL-1). A credit here is owed back to the customer (a refund), a charge is billed nowhere;
-- the warning test unapplied_adjustments_to_review names them. invoice_date is the month they
-- route to, whose close lists them once.
with

adjustments as (
    {{ route_adjustments() | indent(4) }}
),

corrections as (
    select * from {{ ref('int_open_corrections') }}
),

final as (
    select
        adjustment_id,
        'adjustment' as kind,
        account_id,
        billed_invoice_date as invoice_date,
        cast(amount as decimal(18, 2)) as amount,
        coalesce(reason, 'Adjustment') as description,
        approved_at,
        disputed_invoice_id as related_invoice_id,
        last_invoice_date
    from adjustments
    where billed_invoice_date > last_invoice_date
    union all
    select
        line_key as adjustment_id,
        'correction' as kind,
        account_id,
        billed_invoice_date as invoice_date,
        cast(amount as decimal(18, 2)) as amount,
        'Correction to ' || corrected_invoice_id || ': ' || corrected_description as description,
        cast(null as timestamp) as approved_at,
        corrected_invoice_id as related_invoice_id,
        last_invoice_date
    from corrections
    where billed_invoice_date > last_invoice_date
)

select * from final
where {{ in_unpublished_invoice_months() }}
