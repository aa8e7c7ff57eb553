{#- Tests over the rows a close has not checked before, so that a close's cost is that of what it
    bills, not of the history (issue #8).

    Per-call marts: the unpublished months being built (calendar.sql). A published month's calls
    are the published ones, tested when they were published and never changed (R-INV-2).
    Landed calls (staging): those landed after the last publication (calendar.sql). Every call
    landed before it was tested by that close, or an earlier one, and raw is append-only. -#}

{#- A value occurs once: a call twice in one month would be billed twice; across months,
    publication refuses a call already published (publish.py). -#}
{% test unique_in_unpublished_invoice_months(model, column_name) %}
select {{ column_name }}, count(*) as occurrences
from {{ model }}
where {{ in_unpublished_invoice_months() }}
group by {{ column_name }}
having count(*) > 1
{% endtest %}

{% test accepted_values_in_unpublished_invoice_months(model, column_name, values) %}
{{ accepted_values_where(model, column_name, values, in_unpublished_invoice_months()) }}
{% endtest %}

{% test relationships_in_unpublished_invoice_months(model, column_name, to, field) %}
{{ relationships_where(model, column_name, to, field, in_unpublished_invoice_months('child.invoice_date')) }}
{% endtest %}

{% test not_null_in_new_landings(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ landed_after_last_publication() }}
    and {{ column_name }} is null
{% endtest %}

{% test accepted_values_in_new_landings(model, column_name, values) %}
{{ accepted_values_where(model, column_name, values, landed_after_last_publication()) }}
{% endtest %}

{% test relationships_in_new_landings(model, column_name, to, field) %}
{{ relationships_where(model, column_name, to, field, landed_after_last_publication('child.landed_at')) }}
{% endtest %}

{#- dbt's accepted_values (nulls are not checked) over the rows in scope. -#}
{% macro accepted_values_where(model, column_name, values, scope) %}
select {{ column_name }} as value_field, count(*) as n_records
from {{ model }}
where {{ scope }}
    and {{ column_name }} not in ({% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
group by {{ column_name }}
{% endmacro %}

{#- dbt's relationships (nulls are not checked) over the rows in scope; the model is `child`. -#}
{% macro relationships_where(model, column_name, to, field, scope) %}
select child.{{ column_name }} as from_field
from {{ model }} as child
left join {{ to }} as parent
    on child.{{ column_name }} = parent.{{ field }}
where {{ scope }}
    and child.{{ column_name }} is not null
    and parent.{{ field }} is null
{% endmacro %}
