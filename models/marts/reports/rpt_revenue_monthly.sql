-- Billed amounts: every published invoice line with its month, account, plan and state on the
-- invoice, partner, revenue category (seeds/line_types.csv) and revenue class. Service revenue is
-- what the provider sells; taxes (R-TAX-1) and the regulatory fees USF, RRF and SLRRF (R-USF-1,
-- R-RRF-1, R-SLRRF-1) are passed through to the customer (line_types.is_pass_through), and account
-- credit (R-PAY-2) applies earlier payments: neither is revenue. The three add up to the invoice
-- totals. The revenue dashboard sums this table and nothing else.
with

lines as (
    select * from {{ source('published', 'invoice_lines') }}
),

invoices as (
    select invoice_id, plan_id, billing_state from {{ ref('fct_invoices') }}
),

accounts as (
    select account_id, account_name, partner_id from {{ ref('stg_landing__accounts') }}
),

line_types as (
    select line_type, revenue_category, is_pass_through from {{ ref('line_types') }}
),

final as (
    select
        lines.invoice_line_id,
        lines.invoice_id,
        lines.account_id,
        accounts.account_name,
        lines.invoice_date,
        {{ format_date('lines.invoice_date', '%Y-%m') }} as invoice_month,
        invoices.plan_id,
        invoices.billing_state,
        accounts.partner_id,
        line_types.revenue_category,
        lines.line_type,
        lines.amount,
        case
            when line_types.is_pass_through then 'pass-through'
            -- the credit line moves money already paid; it does not change what was sold
            when lines.line_key = 'account_credit' then 'account credit'
            else 'service revenue'
        end as revenue_class
    from lines
    left join invoices
        on lines.invoice_id = invoices.invoice_id
    left join accounts
        on lines.account_id = accounts.account_id
    left join line_types
        on lines.line_type = line_types.line_type
)

select * from final
