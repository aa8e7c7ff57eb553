{#- The settled payments that pay callbill invoices (R-PAY-2): those that name one of the account's
    invoices in `invoices`, and unreferenced ones received on or after the account's first invoice
    (earlier ones paid invoices from before callbill). Failed, refunded and charged-back payments pay
    nothing: a payment's latest landed status is its status. A macro, not a model: which invoices
    count is the caller's (the drafts being built with the published ones for the account credit,
    the published ones alone for receivables), and the first invoice date differs with them. -#}
{% macro applicable_payments(payments, invoices) -%}
    select
        landed.payment_id,
        landed.account_id,
        named_invoice.invoice_id,
        landed.received_at,
        landed.amount
    from {{ payments }} as landed
    inner join (
        select account_id, min(invoice_date) as first_invoice_date from {{ invoices }} group by account_id
    ) as first_invoice
        on landed.account_id = first_invoice.account_id
    left join {{ invoices }} as named_invoice
        on landed.invoice_id = named_invoice.invoice_id
        and landed.account_id = named_invoice.account_id
    where landed.status = 'settled'
        and (
            named_invoice.invoice_id is not null
            or (landed.invoice_id is null and landed.received_at >= first_invoice.first_invoice_date)
        )
{%- endmacro %}
