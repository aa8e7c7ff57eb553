{#-
    An incremental model with `tmp_relation_type='view'` (the config dbt-snowflake has for the same
    purpose) appends its new rows straight from its query: dbt-duckdb otherwise writes them to a
    temporary table first and copies that into the model, two writes of every row. For
    fct_rated_calls that is tens of millions of calls per close (issue #8). The temporary view is
    read once, by the append, after the pre-hook; schema changes and column lists work as before.
-#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- if temporary and language == 'sql' and config.get('tmp_relation_type') == 'view' -%}
        create temporary view {{ relation.include(database=false, schema=false) }} as (
            {{ compiled_code }}
        );
    {%- else -%}
        {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by=partitioned_by, sorted_by=sorted_by) }}
    {%- endif -%}
{%- endmacro %}
