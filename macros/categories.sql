{#- Line and call categories are data: the line_types and call_types seeds. A rule that reads a group
    of line or call types asks the seed with these macros, never with a list of literals
    (tests/test_one_rule_one_place.py). Uncorrelated subqueries: DuckDB and Spark both take them in
    WHERE, CASE and aggregate FILTER clauses. -#}

{#- The line types whose `flag` column of the line_types seed is true, for `line_type in ...`. -#}
{% macro line_types_where(flag) -%}
    (select line_type from {{ ref('line_types') }} where {{ flag }})
{%- endmacro %}

{#- The call types whose `flag` column of the call_types seed is true, for `call_type in ...`. -#}
{% macro call_types_where(flag) -%}
    (select call_type from {{ ref('call_types') }} where {{ flag }})
{%- endmacro %}

{#- R-USF-1 and R-COMM-5 (amended 2026-12-06): a prorated line (`prorated_charges`) or a low-usage
    discount counts as its product's full month does (line_types.bills_as_product_month), so both
    rules read this line type, not the line's own: `product_line_type` is the `products` seed's
    line_type of the line's product (a prorated rental phone is `rental_equipment`, a prorated
    contact-center seat `contact_center`). Every other line is its own line type.
    models/quality/quality_invoices_balance.sql (the GX suite's rows) and the USF query of
    docs/warehouse.md write the same out on the line_types seed. -#}
{% macro full_month_line_type(line_type, product_line_type) -%}
    case
        when {{ line_type }} in {{ line_types_where('bills_as_product_month') }} then {{ product_line_type }}
        else {{ line_type }}
    end
{%- endmacro %}
