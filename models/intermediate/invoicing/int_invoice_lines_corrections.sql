-- R-INV-2: the open corrections of published invoices (int_open_corrections) as `adjustment`
-- lines on the account's next unpublished invoice.
with

open_corrections as (
    select * from {{ ref('int_open_corrections') }}
),

account_invoices as (
    select * from {{ ref('int_account_invoices') }}
),

final as (
    select
        account_invoices.invoice_id,
        account_invoices.account_id,
        account_invoices.invoice_date,
        'adjustment' as line_type,
        cast(null as string) as product_code,
        'Correction to ' || open_corrections.corrected_invoice_id || ': ' || open_corrections.corrected_description
            as description,
        cast(1 as decimal(18, 4)) as quantity,
        cast(open_corrections.amount as decimal(18, 6)) as unit_price,
        cast(open_corrections.amount as decimal(18, 2)) as amount,
        account_invoices.invoice_date as service_period_start,
        account_invoices.service_month_end as service_period_end,
        open_corrections.line_key as line_group,
        cast(null as {{ text_array_type() }}) as item_ids
    from open_corrections
    inner join account_invoices
        on open_corrections.account_id = account_invoices.account_id
        and open_corrections.billed_invoice_date = account_invoices.invoice_date
)

select * from final
