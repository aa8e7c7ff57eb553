{{
    config(
        materialized='incremental',
        incremental_strategy=invoice_months_strategy(),
        partition_by=('invoice_date' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_invoice_months(keep_published=true) }}",
    )
}}
-- Approved adjustments no invoice will carry: they route to a month after the account's last
-- invoice (its service ended, R-CANCEL-1). A credit here is owed back to the customer (a refund),
-- a charge is billed nowhere; the warning test unapplied_adjustments_to_review names them.
-- invoice_date is the month the adjustment routes to, whose close lists it once.
with

routed as (
    {{ route_adjustments() | indent(4) }}
),

final as (
    select
        adjustment_id,
        account_id,
        billed_invoice_date as invoice_date,
        cast(amount as decimal(18, 2)) as amount,
        reason,
        approved_at,
        disputed_invoice_id,
        last_invoice_date
    from routed
    where billed_invoice_date > last_invoice_date
)

select * from final
where {{ in_unpublished_invoice_months() }}
