{#- Spark: the published tables a Spark close writes (callbill/spark_warehouse.py). A month's invoices
    and lines go to the *_written tables, a partition per invoice month; the month is published when
    its published.invoice_months row is appended, and the views that readers and models read show
    only such months, so a close killed midway leaves nothing of its month visible (R-INV-1). -#}
{% macro spark_published_tables() %}
    {%- if target.type == 'spark' and execute %}
        {% do run_query('create database if not exists published') %}
        {% do run_query("create table if not exists published.invoices_written (
            invoice_id string, account_id string, due_date date, autopay_date date, subtotal decimal(18, 2),
            tax_total decimal(18, 2), total decimal(18, 2), status string, published_at timestamp,
            account_name string, tax_exempt_certificate_id string, invoice_date date
        ) using parquet partitioned by (invoice_date)") %}
        {% do run_query("create table if not exists published.invoice_lines_written (
            invoice_line_id string, invoice_id string, account_id string, line_type string, product_code string,
            description string, quantity decimal(18, 4), unit_price decimal(18, 6), amount decimal(18, 2),
            service_period_start date, service_period_end date, item_ids array<string>, line_key string,
            invoice_date date
        ) using parquet partitioned by (invoice_date)") %}
        {% do run_query("create table if not exists published.invoice_months (
            invoice_date date, published_at timestamp, calls_landed_through timestamp, invoices bigint,
            total decimal(18, 2), rated_calls bigint, rated_calls_cost decimal(38, 8),
            rated_calls_fingerprint bigint, rated_calls_hashed_by string
        ) using parquet") %}
        {% do run_query("create table if not exists published.commission_payouts (
            payout_date date, partner_id string, account_id string, invoice_id string, commission_type string,
            basis_amount decimal(18, 2), amount decimal(18, 2), earned_date date, paid_at timestamp
        ) using parquet") %}
        {% do run_query("create or replace view published.invoices as
            select invoice_id, account_id, invoice_date, due_date, autopay_date, subtotal, tax_total, total,
                status, published_at, account_name, tax_exempt_certificate_id
            from published.invoices_written
            where invoice_date in (select invoice_date from published.invoice_months)") %}
        {% do run_query("create or replace view published.invoice_lines as
            select invoice_line_id, invoice_id, account_id, invoice_date, line_type, product_code, description,
                quantity, unit_price, amount, service_period_start, service_period_end, item_ids, line_key
            from published.invoice_lines_written
            where invoice_date in (select invoice_date from published.invoice_months)") %}
        {{ spark_published_calls_view() }}
    {%- endif %}
{% endmacro %}

{#- published.rated_calls: the published months' rows of marts.fct_rated_calls (publication by
    reference, as on DuckDB); before the first build made that table, a view with no call. Made again
    at the end of every build on Spark, once the table exists. -#}
{% macro spark_published_calls_view() %}
    {%- if target.type == 'spark' and execute %}
        {%- set rated = adapter.get_relation(database=none, schema='marts', identifier='fct_rated_calls') -%}
        {%- if rated is not none %}
            {% do run_query("create or replace view published.rated_calls as
                select call_id, account_id, invoice_id, invoice_date, call_type, source_number, destination_number,
                    destination, start_time_utc, end_time_utc, duration_sec, billable_seconds, billable_minutes,
                    included_minutes_used, overage_minutes, rate_per_minute, total_cost, line_type, is_late,
                    switch_id, source_file, source_line, invoice_line_id
                from marts.fct_rated_calls
                where invoice_date in (select invoice_date from published.invoice_months)") %}
        {%- else %}
            {% do run_query("create or replace view published.rated_calls as
                select
                    cast(null as string) as call_id, cast(null as string) as account_id,
                    cast(null as string) as invoice_id, cast(null as date) as invoice_date,
                    cast(null as string) as call_type, cast(null as string) as source_number,
                    cast(null as string) as destination_number, cast(null as string) as destination,
                    cast(null as timestamp) as start_time_utc, cast(null as timestamp) as end_time_utc,
                    cast(null as bigint) as duration_sec, cast(null as bigint) as billable_seconds,
                    cast(null as decimal(18, 4)) as billable_minutes,
                    cast(null as decimal(18, 4)) as included_minutes_used,
                    cast(null as decimal(18, 4)) as overage_minutes, cast(null as decimal(18, 6)) as rate_per_minute,
                    cast(null as decimal(18, 8)) as total_cost, cast(null as string) as line_type,
                    cast(null as boolean) as is_late, cast(null as string) as switch_id,
                    cast(null as string) as source_file, cast(null as bigint) as source_line,
                    cast(null as string) as invoice_line_id
                where false") %}
        {%- endif %}
    {%- endif %}
{% endmacro %}
