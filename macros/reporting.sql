{#- Revenue categories of BILLING_RULES.md line types, for reports and dashboards. -#}
{% macro revenue_category(line_type) -%}
    case
        when {{ line_type }} in ('service_fee', 'phone_numbers', 'prorated_charges', 'low_usage_discount',
                                 'contact_center', 'rental_equipment') then 'recurring'
        when {{ line_type }} in {{ usage_line_types() }} then 'usage'
        when {{ line_type }} = 'one_time_fee' then 'one-time'
        when {{ line_type }} in ('usf', 'rrf', 'slrrf') then 'regulatory'
        when {{ line_type }} = 'tax' then 'tax'
        else 'adjustment'
    end
{%- endmacro %}

{#- R-PAY-3: receivables age from the due date. -#}
{% macro aging_bucket(open_amount, days_past_due) -%}
    case
        when {{ open_amount }} <= 0 then 'paid'
        when {{ days_past_due }} = 0 then 'current'
        when {{ days_past_due }} <= 30 then '1-30'
        when {{ days_past_due }} <= 60 then '31-60'
        when {{ days_past_due }} <= 90 then '61-90'
        else 'over 90'
    end
{%- endmacro %}

{#- R-USF-1 and R-COMM-5 (amended 2026-12-06): a prorated line (`prorated_charges`) or a low-usage
    discount counts as its product's full month does, so both rules read this line type, not the
    line's own: `product_line_type` is the `products` seed's line_type of the line's product
    (a prorated rental phone is `rental_equipment`, a prorated contact-center seat
    `contact_center`). Every other line is its own line type. expectations/invoices_balance.sql
    and the USF query of docs/warehouse.md write the same out in plain SQL. -#}
{% macro full_month_line_type(line_type, product_line_type) -%}
    case
        when {{ line_type }} in ('prorated_charges', 'low_usage_discount') then {{ product_line_type }}
        else {{ line_type }}
    end
{%- endmacro %}

{#- R-USF-1: the voice service lines in the USF base, by full_month_line_type. -#}
{% macro usf_base_line_types() -%}
    ('service_fee', 'phone_numbers', 'additional_outbound_minutes', 'domestic_premium_minutes',
     'toll_free_minutes', 'international_minutes')
{%- endmacro %}

{#- R-COMM-5: the recurring service lines that earn commission, by full_month_line_type. -#}
{% macro commissionable_line_types() -%}
    ('service_fee', 'phone_numbers', 'contact_center')
{%- endmacro %}
