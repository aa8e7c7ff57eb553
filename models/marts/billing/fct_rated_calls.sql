{{
    config(
        materialized='incremental',
        incremental_strategy=invoice_months_strategy(),
        partition_by=('invoice_date' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        full_refresh=false,
        tmp_relation_type='view',
        pre_hook="{{ delete_rated_calls_to_rate_again() }}",
        post_hook="{{ record_rated_account_months() }}",
    )
}}
-- depends_on: {{ ref('int_rating_inputs') }}
-- Every rated call with the guide's call-detail columns (R-RATE-6) and the line it is billed on.
-- A published month's rows are its published calls (R-INV-2; published.rated_calls is their view):
-- a close keeps them as they are and rates only the unpublished months, and the table is never
-- rebuilt from scratch (full_refresh = false). Spark's first build takes them from the published
-- calls it was given; on DuckDB there are none before this table exists. On DuckDB a draft
-- re-close keeps an account-month's rows where nothing they were rated from changed and appends
-- its new calls (int_rating_inputs, macros/rating_reuse.sql).
with

calls as (
    select * from {{ ref('int_calls_rated') }}
    -- late calls published before stay on the month that billed them, whose rows are kept; if
    -- every month being built is published, this is `false` and no call is rated
    where {{ in_unpublished_invoice_months() }}
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
        switch_id,
        source_file,
        source_line,
        case when line_type is not null then {{ invoice_line_id('invoice_id', 'line_type', 'line_group') }} end
            as invoice_line_id
    from calls
)

select * from final
{% if not is_incremental() %}
union all
select
    call_id, account_id, invoice_id, invoice_date, call_type, source_number, destination_number, destination,
    start_time_utc, end_time_utc, duration_sec, billable_seconds, billable_minutes, included_minutes_used,
    overage_minutes, rate_per_minute, total_cost, line_type, is_late, switch_id, source_file, source_line,
    invoice_line_id
from {{ source('published', 'rated_calls') }}
where invoice_date between {{ invoice_month_start() }} and {{ invoice_month_end() }}
{% endif %}
