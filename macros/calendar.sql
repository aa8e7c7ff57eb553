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
        where {{ in_unpublished_invoice_months() if keep_published else in_invoice_months() }}
    {%- else -%}
        {%- if is_incremental() -%}{{ drop_invoice_month_partitions(keep_published) }}{%- endif -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Spark: insert_overwrite replaces only the partitions its rows fall in, so a month rebuilt with no
    rows (a review list that became empty) would keep its old ones: its partitions go first. -#}
{% macro drop_invoice_month_partitions(keep_published) -%}
    {%- if execute -%}
        {%- set months_sql -%}
            select cast(month_start as string)
            from {{ month_starts(invoice_month_start(), invoice_month_end()) }} as months
            {%- if keep_published %}
            where month_start not in (select invoice_date from {{ source('published', 'invoice_months') }})
            {%- endif %}
        {%- endset -%}
        {%- for month in run_query(months_sql).columns[0].values() -%}
            {%- do run_query("alter table " ~ this ~ " drop if exists partition (invoice_date = '" ~ month ~ "')") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro in_invoice_months(date_column='invoice_date') -%}
    {{ date_column }} between {{ invoice_month_start() }} and {{ invoice_month_end() }}
{%- endmacro %}

{#- The months being built that are not published: what a close rates and bills afresh. A published
    month's calls and usage lines are the published ones (R-INV-2), checked when it was published;
    the per-call work of a close reads these months only, so re-closing after a late file costs
    what the late calls cost, not what the month does. -#}
{% macro in_unpublished_invoice_months(date_column='invoice_date') -%}
    {%- if every_invoice_month_published() -%}
        false
    {%- else -%}
        {{ in_invoice_months(date_column) }}
        and {{ date_column }} not in (select invoice_date from {{ source('published', 'invoice_months') }})
    {%- endif -%}
{%- endmacro %}

{#- Whether every month being built is published (a re-close after a late file, issue #8): then the
    per-call work over unpublished months has nothing to read, and a constant `false` lets DuckDB
    skip the scans of every landed and rated call that the filter would otherwise make (~1 s of a
    10 M re-close, ~8 s at 100 M). Asked of the warehouse when the node runs, on DuckDB only; when
    parsing, or on Spark, the filter stays as written, which gives the same rows. -#}
{% macro every_invoice_month_published() -%}
    {%- if not execute or target.type != 'duckdb' -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set unpublished_months -%}
        select count(*)
        from {{ month_starts(invoice_month_start(), invoice_month_end()) }} as months
        where month_start not in (select invoice_date from {{ source('published', 'invoice_months') }})
    {%- endset -%}
    {{- return(run_query(unpublished_months).columns[0].values()[0] == 0) -}}
{%- endmacro %}

{% macro days_in_month(date_expression) -%}
    cast(day(last_day({{ date_expression }})) as integer)
{%- endmacro %}

{#- The newest landing a published close saw (its month's calls_landed_through, R-LATE-1). A call
    landed by then was rated or listed as unbilled by that close or an earlier one, so a later close
    reads only the calls of the months it builds (by start time) and those landed after this (by
    landing time): ranges of stored columns, which DuckDB's storage skips, so a close does not read
    every call ever landed. Asked of the warehouse when the node runs; before any publication, or
    when parsing, it is the epoch and nothing is skipped. -#}
{% macro calls_settled_through() -%}
    {%- set settled = none -%}
    {#- A dbt unit test gives the model its fixture rows, not the warehouse's: nothing to skip. -#}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set newest_landing_published -%}
            select cast(max(calls_landed_through) as string) from {{ source('published', 'invoice_months') }}
        {%- endset -%}
        {%- set settled = run_query(newest_landing_published).columns[0].values()[0] -%}
    {%- endif -%}
    cast('{{ settled or "1970-01-01 00:00:00" }}' as timestamp)
{%- endmacro %}
