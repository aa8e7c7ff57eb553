{#-
    DuckDB's view and table, each one `create or replace` statement. dbt-duckdb's own build a
    temporary relation, swap it in by two renames and drop the old one, asking the catalog for
    constraints and indexes on the way: ~8 statements and their Jinja per model, where the
    statements themselves take milliseconds (a small close's dbt build 7.9 -> 6.8 s,
    BENCHMARKS.md). DuckDB replaces a relation atomically in the statement's transaction, so a
    failed build leaves the old one. Spark keeps dbt-spark's materializations.
-#}
{% materialization view, adapter='duckdb' %}
    {{ return(callbill_replace_relation('view')) }}
{% endmaterialization %}

{% materialization table, adapter='duckdb' %}
    {{ return(callbill_replace_relation('table')) }}
{% endmaterialization %}

{% macro callbill_replace_relation(relation_type) %}
    {%- if config.get('contract').enforced -%}
        {{ exceptions.raise_compiler_error(this ~ ': an enforced contract needs dbt-duckdb\'s ' ~ relation_type ~ ' materialization, which callbill replaces (macros/lean_materializations.sql)') }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type=relation_type) -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- if existing_relation is not none and existing_relation.type != relation_type -%}
        {{ adapter.drop_relation(existing_relation) }}
    {%- endif -%}
    {% call statement('main') -%}
        create or replace {{ relation_type }} {{ target_relation }} as (
            {{ sql }}
        )
    {%- endcall %}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
