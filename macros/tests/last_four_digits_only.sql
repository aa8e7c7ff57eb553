{#- PCI DSS 3.4 (R-PAY-1): a stored card or bank number is at most its last four digits. -#}
{% test last_four_digits_only(model, column_name) %}
select * from {{ model }}
where {{ column_name }} is not null and not {{ matches_fully(column_name, '[0-9]{4}') }}
{% endtest %}
