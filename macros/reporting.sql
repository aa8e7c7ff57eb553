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
