{#- Invoice months being built: the closed partition (or backfill range) from vars. -#}
{% macro invoice_month_start() -%}
    cast('{{ var("invoice_month_start") }}' as date)
{%- endmacro %}

{% macro invoice_month_end() -%}
    cast('{{ var("invoice_month_end") }}' as date)
{%- endmacro %}

{#- Incremental marts replace the months being built and keep every other month (on Spark the
    insert_overwrite strategy replaces their partitions instead, see portable.sql). -#}
{% macro delete_invoice_months() -%}
    {%- if is_incremental() and target.type != 'spark' -%}
        delete from {{ this }}
        where invoice_date between {{ invoice_month_start() }} and {{ invoice_month_end() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro days_in_month(date_expression) -%}
    cast(day(last_day({{ date_expression }})) as integer)
{%- endmacro %}
