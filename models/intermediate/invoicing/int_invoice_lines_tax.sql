-- Tax on the invoice's subtotal of every other line by billing state (R-TAX-1); none for an
-- account with an exemption certificate on file (R-TAX-2).
with

taxable_lines as (
    select * from {{ ref('int_invoice_lines_before_tax') }}
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

tax_rates as (
    select * from {{ ref('tax_rates') }}
),

subtotals as (
    select
        account_invoices.invoice_id,
        account_invoices.account_id,
        account_invoices.invoice_date,
        account_invoices.service_month_end,
        account_invoices.billing_state,
        tax_rates.jurisdiction,
        tax_rates.tax_rate,
        coalesce(sum(taxable_lines.amount), 0) as subtotal
    from account_invoices
    inner join tax_rates
        on account_invoices.billing_state = tax_rates.state
    left join taxable_lines
        on account_invoices.invoice_id = taxable_lines.invoice_id
    where account_invoices.tax_exempt_certificate_id is null
    group by all
),

final as (
    select
        invoice_id,
        account_id,
        invoice_date,
        'tax' as line_type,
        cast(null as string) as product_code,
        'Sales tax, ' || jurisdiction || ' (' || cast(cast(tax_rate * 100 as decimal(18, 4)) as string) || '%)'
            as description,
        cast(subtotal as decimal(18, 4)) as quantity,
        cast(tax_rate as decimal(18, 6)) as unit_price,
        {{ to_cents('tax_rate * subtotal') }} as amount,
        invoice_date as service_period_start,
        service_month_end as service_period_end,
        'tax' as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from subtotals
    where tax_rate > 0
)

select * from final
