{#- Invoice months being built: the closed partition (or backfill range). The close passes them in
    the environment (CALLBILL_INVOICE_MONTH_START / _END) rather than as --vars, because changing
    --vars makes dbt re-parse the whole project on every invocation; the env var is read only at
    execution time, so partial parsing stays valid whatever the month. Without it, the vars apply
    (dbt_project.yml defaults, unit-test overrides, a hand-run `dbt build --vars ...`). -#}
{% macro invoice_month_start() -%}
    cast('{{ invoice_month_setting("invoice_month_start") }}' as date)
{%- endmacro %}

{% macro invoice_month_end() -%}
    cast('{{ invoice_month_setting("invoice_month_end") }}' as date)
{%- endmacro %}

{% macro invoice_month_setting(name) -%}
    {%- if execute -%}
        {{- env_var('CALLBILL_' ~ (name | upper), var(name)) -}}
    {%- else -%}
        {{- var(name) -}}
    {%- endif -%}
{%- endmacro %}

{#- Incremental marts replace the months being built and keep every other month (on Spark the
    insert_overwrite strategy replaces their partitions instead, see portable.sql). With
    keep_published, a published month's rows are kept as they are (its calls never change, R-INV-2). -#}
{% macro delete_invoice_months(keep_published=false) -%}
    {%- if is_incremental() and target.type != 'spark' -%}
        delete from {{ this }}
        where invoice_date between {{ invoice_month_start() }} and {{ invoice_month_end() }}
        {%- if keep_published %}
            and invoice_date not in (select invoice_date from {{ source('published', 'invoice_months') }})
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro days_in_month(date_expression) -%}
    cast(day(last_day({{ date_expression }})) as integer)
{%- endmacro %}
