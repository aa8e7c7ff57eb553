{{
    config(
        materialized='incremental',
        incremental_strategy=invoice_months_strategy(),
        partition_by=('invoice_date' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_invoice_months() }}",
    )
}}
-- Every rated call with the guide's call-detail columns (R-RATE-6) and the line it is billed on.
with

calls as (
    select * from {{ ref('int_calls_rated') }}
),

final as (
    select
        call_id,
        account_id,
        invoice_id,
        invoice_date,
        call_type,
        source_number,
        destination_number,
        destination,
        start_time_utc,
        end_time_utc,
        duration_sec,
        billable_seconds,
        billable_minutes,
        included_minutes_used,
        overage_minutes,
        rate_per_minute,
        total_cost,
        line_type,
        is_late,
        case when line_type is not null then {{ invoice_line_id('invoice_id', 'line_type', 'line_group') }} end
            as invoice_line_id
    from calls
)

select * from final
