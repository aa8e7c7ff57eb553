{#- A value occurs once among the rows of the invoice months being built. For the per-call tables:
    a call twice in one month would be billed twice; across months, publication refuses a call
    already published (publish.py). Scoped to the months so a close costs the same in year five
    as in month one. -#}
{% test unique_in_invoice_months(model, column_name) %}
select {{ column_name }}, count(*) as occurrences
from {{ model }}
where invoice_date between {{ invoice_month_start() }} and {{ invoice_month_end() }}
group by {{ column_name }}
having count(*) > 1
{% endtest %}
