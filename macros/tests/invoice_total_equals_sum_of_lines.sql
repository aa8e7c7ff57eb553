{#- R-INV-3: every invoice's total equals the sum of its lines, to the cent. Failing rows are invoices. -#}
{% test invoice_total_equals_sum_of_lines(model) %}
with

invoices as (
    select * from {{ model }}
),

line_sums as (
    select invoice_id, sum(amount) as lines_total
    from {{ ref('fct_invoice_lines') }}
    group by invoice_id
)

select
    invoices.invoice_id,
    invoices.total,
    coalesce(line_sums.lines_total, 0) as lines_total
from invoices
left join line_sums
    on invoices.invoice_id = line_sums.invoice_id
where invoices.total <> coalesce(line_sums.lines_total, 0)
    or invoices.total <> invoices.subtotal + invoices.tax_total
{% endtest %}
