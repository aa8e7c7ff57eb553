{#- Per-call tests over the rows a close rates: the unpublished months being built (calendar.sql).
    A published month's calls are the published ones, tested when they were published and never
    changed (R-INV-2); re-testing them at every re-close made its cost the month's, and tests over
    every month made a close's cost grow with the history. -#}

{#- A value occurs once: a call twice in one month would be billed twice; across months,
    publication refuses a call already published (publish.py). -#}
{% test unique_in_unpublished_invoice_months(model, column_name) %}
select {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ in_unpublished_invoice_months() }}
group by {{ column_name }}
having count(*) > 1
{% endtest %}

{#- dbt's accepted_values (nulls are not checked) over those rows. -#}
{% test accepted_values_in_unpublished_invoice_months(model, column_name, values) %}
select {{ column_name }} as value_field, count(*) as n_records
from {{ model }}
where {{ in_unpublished_invoice_months() }}
    and {{ column_name }} not in ({% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
group by {{ column_name }}
{% endtest %}

{#- dbt's relationships (nulls are not checked) over those rows; `to_where` narrows the parents. -#}
{% test relationships_in_unpublished_invoice_months(model, column_name, to, field, to_where='true') %}
select child.{{ column_name }} as from_field
from {{ model }} as child
left join (select * from {{ to }} where {{ to_where }}) as parent
    on child.{{ column_name }} = parent.{{ field }}
where {{ in_unpublished_invoice_months('child.invoice_date') }}
    and child.{{ column_name }} is not null
    and parent.{{ field }} is null
{% endtest %}
