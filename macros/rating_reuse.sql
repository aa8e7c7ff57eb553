{#- A draft re-close keeps the calls an earlier build of the month rated where nothing they were rated
    from changed (models/intermediate/rating/int_rating_inputs.sql, issue #27). What each build
    rated, by account and month, is recorded in `rated_account_months` beside int_rating_inputs, in
    the same transaction as fct_rated_calls's rows (its hooks), so the record never describes rows
    that are not there. DuckDB only: on Spark a month is a partition, overwritten whole. -#}

{% macro rated_account_months_columns() -%}
    {{ return([
        ('account_id', 'varchar'),
        ('invoice_date', 'date'),
        ('call_count', 'bigint'),
        ('calls_hash', 'hugeint'),
        ('last_call_start', 'timestamp'),
        ('invoice_hash', 'ubigint'),
        ('project_version', 'varchar'),
        ('rated_through', 'timestamp'),
        ('bundle_minutes', 'decimal(18, 4)'),
    ]) }}
{%- endmacro %}

{% macro rated_account_months_table(schema) -%}
    {{ return(api.Relation.create(database=this.database, schema=schema, identifier='rated_account_months')) }}
{%- endmacro %}

{#- The record of earlier builds, or no rows before the first (or in a dbt unit test). -#}
{% macro rated_account_months_relation() -%}
    {%- set table = rated_account_months_table(this.schema) if execute else none -%}
    {%- if table is not none and model.resource_type != 'unit_test'
        and adapter.get_relation(database=table.database, schema=table.schema, identifier=table.identifier) -%}
        {{ table }}
    {%- else -%}
        (select
            {%- for name, type in rated_account_months_columns() %}
            cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
            {%- endfor %}
        where false)
    {%- endif -%}
{%- endmacro %}

{#- The digest of the dbt project's sources the close passes (callbill.project.project_version); read
    when the node runs only, so partial parsing stays valid (as macros/calendar.sql's months). -#}
{% macro project_version() -%}
    {%- if execute -%}{{ env_var('CALLBILL_PROJECT_VERSION', '') }}{%- endif -%}
{%- endmacro %}

{#- fct_rated_calls's pre-hook: the unpublished months being built lose every row except those of the
    account-months int_rating_inputs keeps. -#}
{% macro delete_rated_calls_to_rate_again() -%}
    {%- if is_incremental() and target.type != 'spark' -%}
        delete from {{ this }}
        where {{ in_unpublished_invoice_months() }}
            and not exists (
                select 1
                from {{ ref('int_rating_inputs') }} as kept
                where kept.kept_through is not null
                    and kept.account_id = {{ this.identifier }}.account_id
                    and kept.invoice_date = {{ this.identifier }}.invoice_date
            )
    {%- else -%}
        {{ delete_invoice_months(keep_published=true) }}
    {%- endif -%}
{%- endmacro %}

{#- fct_rated_calls's post-hook: what this build rated, by account-month of the months it built, with
    the bundle minutes drawn so far (R-RATE-5), where the next build's new calls start drawing. -#}
{% macro record_rated_account_months() -%}
    {%- if target.type == 'spark' -%}
        select 1
    {%- else -%}
        {%- set inputs = ref('int_rating_inputs') -%}
        {%- set table = rated_account_months_table(inputs.schema) -%}
        create table if not exists {{ table }} (
            {%- for name, type in rated_account_months_columns() %}
            {{ name }} {{ type }}{{ ',' if not loop.last }}
            {%- endfor %}
        );
        delete from {{ table }} where {{ in_invoice_months() }};
        insert into {{ table }}
        select
            inputs.account_id,
            inputs.invoice_date,
            inputs.call_count,
            inputs.calls_hash,
            inputs.last_call_start,
            inputs.invoice_hash,
            inputs.project_version,
            inputs.rated_through,
            drawn.bundle_minutes
        from {{ inputs }} as inputs
        left join (
            select
                account_id,
                invoice_date,
                sum(billable_minutes) filter (where call_type in {{ call_types_where('draws_on_bundle') }})
                    as bundle_minutes
            from {{ this }}
            where {{ in_unpublished_invoice_months() }}
            group by account_id, invoice_date
        ) as drawn
            on inputs.account_id = drawn.account_id
            and inputs.invoice_date = drawn.invoice_date
    {%- endif -%}
{%- endmacro %}
