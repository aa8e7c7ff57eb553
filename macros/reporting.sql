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
