{#-
    SQL that differs between DuckDB (the default engine) and Spark (the scale-out target,
    docs/spark.md). Models call these macros; each dispatches on the adapter. Everything
    else in the models is written in the SQL both engines accept (cast(x as string), explicit
    nulls first/last, no division of money).
-#}

{#- Integer division, truncating: 7 div 2 = 3. -#}
{% macro int_div(dividend, divisor) -%}
    {{ return(adapter.dispatch('int_div', 'callbill')(dividend, divisor)) }}
{%- endmacro %}
{% macro default__int_div(dividend, divisor) -%}(({{ dividend }}) // ({{ divisor }})){%- endmacro %}
{% macro spark__int_div(dividend, divisor) -%}(({{ dividend }}) div ({{ divisor }})){%- endmacro %}

{#- An integer type wide enough for money in millionths times 200 (see money.sql). -#}
{% macro wide_integer_type() -%}
    {{ return(adapter.dispatch('wide_integer_type', 'callbill')()) }}
{%- endmacro %}
{% macro default__wide_integer_type() -%}hugeint{%- endmacro %}
{% macro spark__wide_integer_type() -%}decimal(38, 0){%- endmacro %}

{#- A date formatted with a strftime pattern (%Y, %m, %B are the ones used). -#}
{% macro format_date(date_expression, strftime_pattern) -%}
    {{ return(adapter.dispatch('format_date', 'callbill')(date_expression, strftime_pattern)) }}
{%- endmacro %}
{% macro default__format_date(date_expression, strftime_pattern) -%}
    strftime({{ date_expression }}, '{{ strftime_pattern }}')
{%- endmacro %}
{% macro spark__format_date(date_expression, strftime_pattern) -%}
    {%- set pattern = strftime_pattern | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%B', 'MMMM') -%}
    date_format({{ date_expression }}, '{{ pattern }}')
{%- endmacro %}

{#- A date plus a whole number of months (month ends clamp: 31 Jan + 1 month = 28/29 Feb), as DATE. -#}
{% macro add_months(date_expression, months) -%}
    {{ return(adapter.dispatch('add_months', 'callbill')(date_expression, months)) }}
{%- endmacro %}
{% macro default__add_months(date_expression, months) -%}
    cast({{ date_expression }} + to_months(cast({{ months }} as integer)) as date)
{%- endmacro %}
{% macro spark__add_months(date_expression, months) -%}
    add_months({{ date_expression }}, cast({{ months }} as integer))
{%- endmacro %}

{#- The 1st of the month after a date's or timestamp's month, as DATE (R-CAL-3: a call's invoice).
    Per call: last_day + 1 costs DuckDB half of date_trunc + interval 1 month. -#}
{% macro first_of_next_month(expression) -%}
    {{ return(adapter.dispatch('first_of_next_month', 'callbill')(expression)) }}
{%- endmacro %}
{% macro default__first_of_next_month(expression) -%}
    (last_day(cast({{ expression }} as date)) + 1)
{%- endmacro %}
{% macro spark__first_of_next_month(expression) -%}
    date_add(last_day(cast({{ expression }} as date)), 1)
{%- endmacro %}

{#- A date plus a whole number of days (may be negative), as DATE. -#}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'callbill')(date_expression, days)) }}
{%- endmacro %}
{% macro default__add_days(date_expression, days) -%}
    cast({{ date_expression }} + to_days(cast({{ days }} as integer)) as date)
{%- endmacro %}
{% macro spark__add_days(date_expression, days) -%}
    date_add({{ date_expression }}, cast({{ days }} as integer))
{%- endmacro %}

{#- A timestamp plus a whole number of seconds. -#}
{% macro add_seconds(timestamp_expression, seconds) -%}
    {{ return(adapter.dispatch('add_seconds', 'callbill')(timestamp_expression, seconds)) }}
{%- endmacro %}
{% macro default__add_seconds(timestamp_expression, seconds) -%}
    ({{ timestamp_expression }} + to_seconds(cast({{ seconds }} as bigint)))
{%- endmacro %}
{% macro spark__add_seconds(timestamp_expression, seconds) -%}
    timestampadd(SECOND, {{ seconds }}, {{ timestamp_expression }})
{%- endmacro %}

{#- Whole days from one date to a later one. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'callbill')(start_date, end_date)) }}
{%- endmacro %}
{% macro default__days_between(start_date, end_date) -%}
    date_diff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}
{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}

{#- Month boundaries crossed from one date to another (DuckDB's datediff('month', a, b)). -#}
{% macro months_between_boundaries(start_date, end_date) -%}
    ((year({{ end_date }}) * 12 + month({{ end_date }})) - (year({{ start_date }}) * 12 + month({{ start_date }})))
{%- endmacro %}

{#- Aggregate: the values of a text column as a sorted array (item ids of a line, R-INV-3). -#}
{% macro sorted_text_array(column) -%}
    {{ return(adapter.dispatch('sorted_text_array', 'callbill')(column)) }}
{%- endmacro %}
{% macro default__sorted_text_array(column) -%}list({{ column }} order by {{ column }}){%- endmacro %}
{% macro spark__sorted_text_array(column) -%}array_sort(collect_list({{ column }})){%- endmacro %}

{#- The type of such an array, for a typed null. -#}
{% macro text_array_type() -%}
    {{ return(adapter.dispatch('text_array_type', 'callbill')()) }}
{%- endmacro %}
{% macro default__text_array_type() -%}varchar[]{%- endmacro %}
{% macro spark__text_array_type() -%}array<string>{%- endmacro %}

{#- In a select list: one row per element of an array column. -#}
{% macro array_elements(array_column) -%}
    {{ return(adapter.dispatch('array_elements', 'callbill')(array_column)) }}
{%- endmacro %}
{% macro default__array_elements(array_column) -%}unnest({{ array_column }}){%- endmacro %}
{% macro spark__array_elements(array_column) -%}explode({{ array_column }}){%- endmacro %}

{#- True when the whole text matches the regular expression. -#}
{% macro matches_fully(text_expression, pattern) -%}
    {{ return(adapter.dispatch('matches_fully', 'callbill')(text_expression, pattern)) }}
{%- endmacro %}
{% macro default__matches_fully(text_expression, pattern) -%}
    regexp_full_match({{ text_expression }}, '{{ pattern }}')
{%- endmacro %}
{% macro spark__matches_fully(text_expression, pattern) -%}
    ({{ text_expression }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}

{#- How many parts a `;`-separated list has, and how many are not e-mail addresses (no `x@y`). -#}
{% macro count_invalid_emails(list_expression) -%}
    {{ return(adapter.dispatch('count_invalid_emails', 'callbill')(list_expression)) }}
{%- endmacro %}
{% macro default__count_invalid_emails(list_expression) -%}
    list_count(list_filter(string_split({{ list_expression }}, ';'), lambda e: trim(e) not like '%_@_%'))
{%- endmacro %}
{% macro spark__count_invalid_emails(list_expression) -%}
    size(filter(split({{ list_expression }}, ';'), e -> trim(e) not like '%_@_%'))
{%- endmacro %}

{#- Month starts from one date through another, as a relation with column `month_start`. -#}
{% macro month_starts(first_month, last_month) -%}
    {{ return(adapter.dispatch('month_starts', 'callbill')(first_month, last_month)) }}
{%- endmacro %}
{% macro default__month_starts(first_month, last_month) -%}
    (select cast(unnest(generate_series({{ first_month }}, {{ last_month }}, interval 1 month)) as date) as month_start)
{%- endmacro %}
{% macro spark__month_starts(first_month, last_month) -%}
    (select explode(sequence({{ first_month }}, {{ last_month }}, interval 1 month)) as month_start)
{%- endmacro %}

{#- Incremental models: DuckDB deletes the months being rebuilt and appends them (pre_hook
    delete_invoice_months); Spark on Parquet has no DELETE, so it overwrites the months'
    partitions. -#}
{% macro invoice_months_strategy() -%}
    {{ return('insert_overwrite' if target.type == 'spark' else 'append') }}
{%- endmacro %}

{#- dbt-spark's seed loader substitutes values into the SQL unescaped ("Côte d'Ivoire" breaks the
    statement): the same loader with string literals escaped and empty cells as null. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set batch_size = get_batch_size() %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(batch_size) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}
                        cast(null as {{ type }})
                    {%- else -%}
                        cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                    {%- endif -%}
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}
            {% do statements.append(sql) %}
        {% endif %}
    {% endfor %}
    {{ return(statements[0]) }}
{% endmacro %}

{#- Stop the query with this message (a model that must not build on bad reference data). -#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'callbill')(message)) }}
{%- endmacro %}
{% macro default__raise_error(message) -%}error({{ message }}){%- endmacro %}
{% macro spark__raise_error(message) -%}raise_error({{ message }}){%- endmacro %}

{#- Contracted models declare not-null columns. DuckDB enforces them as constraints; Spark's Parquet
    tables cannot, so there the built table is checked and the build fails naming the column. -#}
{% macro check_not_null_contract() -%}
    {%- if execute and target.type == 'spark' and model.config.get('contract', {}).get('enforced') -%}
        {%- for column in model.columns.values() -%}
            {%- if column.constraints | selectattr('type', 'equalto', 'not_null') | list -%}
                {%- set nulls = run_query('select count(*) from ' ~ this ~ ' where ' ~ column.name ~ ' is null').columns[0].values()[0] -%}
                {%- if nulls > 0 -%}
                    {{ exceptions.raise_compiler_error(this ~ '.' ~ column.name ~ ' is null in ' ~ nulls ~ ' row(s) (not-null contract)') }}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- A switch's local time (R-CDR-2) and UTC, both naive timestamps, by an IANA zone name per row. In
    the repeated hour DuckDB reads a local time as its later occurrence and Spark as its earlier; a
    local time in the skipped hour is moved on by both: macros/switches.sql settles both cases. -#}
{% macro local_to_utc(timestamp_expression, zone) -%}
    {{ return(adapter.dispatch('local_to_utc', 'callbill')(timestamp_expression, zone)) }}
{%- endmacro %}
{% macro default__local_to_utc(timestamp_expression, zone) -%}
    timezone('UTC', timezone({{ zone }}, {{ timestamp_expression }}))
{%- endmacro %}
{% macro spark__local_to_utc(timestamp_expression, zone) -%}
    to_utc_timestamp({{ timestamp_expression }}, {{ zone }})
{%- endmacro %}

{% macro utc_to_local(timestamp_expression, zone) -%}
    {{ return(adapter.dispatch('utc_to_local', 'callbill')(timestamp_expression, zone)) }}
{%- endmacro %}
{% macro default__utc_to_local(timestamp_expression, zone) -%}
    timezone({{ zone }}, timezone('UTC', {{ timestamp_expression }}))
{%- endmacro %}
{% macro spark__utc_to_local(timestamp_expression, zone) -%}
    from_utc_timestamp({{ timestamp_expression }}, {{ zone }})
{%- endmacro %}

{#- A time as switches write it, YYYY-MM-DD HH:MM:SS (landing checked that it parses): a plain cast on
    both engines, cheaper than parsing it by a format. -#}
{% macro parse_switch_time(text_expression) -%}
    cast({{ text_expression }} as timestamp)
{%- endmacro %}
