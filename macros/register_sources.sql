{#- Spark: the dbt sources as tables over the Parquet files that `callbill spark land` exported from
    the checked landing: sources = {"root": dir, "tables": ["raw.cdrs", ...], "partitioned": [...]},
    files in <root>/<schema>/<table>/, a folder per landing batch for the partitioned ones (their
    batches are registered from the folders). Dropping such a table leaves its files. -#}
{% macro register_sources(sources) %}
    {%- for table in sources['tables'] %}
        {%- set schema, name = table.split('.') -%}
        {% do run_query('create database if not exists ' ~ schema) %}
        {% do run_query('drop table if exists ' ~ table) %}
        {% do run_query("create table " ~ table ~ " using parquet location '" ~ sources['root'] ~ "/" ~ schema ~ "/" ~ name ~ "'") %}
        {%- if table in sources.get('partitioned', []) %}
            {% do run_query('msck repair table ' ~ table) %}
        {%- endif %}
    {%- endfor %}
{% endmacro %}
