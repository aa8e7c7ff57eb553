-- Partner commissions (R-COMM-1..5), payable on the 15th:
--   residual: residual_rate x the recurring service lines of each published invoice, on the 15th of
--             the invoice month, paid or not (R-COMM-2, R-COMM-5; a prorated line earns where its
--             product's full month does, as amended 2026-12-06: a prorated rental phone earns none);
--   spiff:    once per account, on the 15th of the month after its first invoice is paid in full
--             (R-COMM-3);
--   clawback: the spiff back if the account asks to cancel within var spiff_clawback_months (6) of
--             its service start, on the 15th after both the cancellation and the spiff's payout.
-- Rates and spiffs are the partner's current landed plan (R-COMM-4); an empty spiff amount takes
-- the default of seed commission_defaults.
with

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

published_lines as (
    select * from {{ source('published', 'invoice_lines') }}
),

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

partners as (
    select * from {{ ref('stg_landing__partners') }}
),

defaults as (
    select * from {{ ref('commission_defaults') }}
),

allocations as (
    select * from {{ ref('int_payment_allocations') }}
),

products as (
    select * from {{ ref('products') }}
),

partner_accounts as (
    select
        accounts.account_id,
        accounts.service_start_date,
        accounts.cancel_requested_date,
        partners.partner_id,
        partners.residual_rate,
        coalesce(partners.spiff_amount, defaults.spiff_amount) as spiff_amount
    from accounts
    inner join partners
        on accounts.partner_id = partners.partner_id
    cross join defaults
),

commissionable as (
    select
        published_invoices.invoice_id,
        published_invoices.account_id,
        published_invoices.invoice_date,
        coalesce(sum(published_lines.amount) filter (
            where {{ full_month_line_type('published_lines.line_type', 'products.line_type') }}
                in {{ line_types_where('commissionable') }}
        ), 0) as basis_amount,
        published_invoices.total - coalesce(sum(published_lines.amount) filter (
            where published_lines.line_key = 'account_credit'
        ), 0) as amount_due
    from published_invoices
    left join published_lines
        on published_invoices.invoice_id = published_lines.invoice_id
    left join products
        on published_lines.product_code = products.product_code
    group by published_invoices.invoice_id, published_invoices.account_id, published_invoices.invoice_date,
        published_invoices.total
),

residuals as (
    select
        partner_accounts.partner_id,
        commissionable.account_id,
        commissionable.invoice_id,
        'residual' as commission_type,
        commissionable.basis_amount,
        round(partner_accounts.residual_rate * commissionable.basis_amount, 2) as amount,
        commissionable.invoice_date as earned_date,
        cast(commissionable.invoice_date + interval {{ var('payout_day') - 1 }} day as date) as payout_date
    from commissionable
    inner join partner_accounts
        on commissionable.account_id = partner_accounts.account_id
    where commissionable.basis_amount <> 0
),

first_invoices as (
    select * from commissionable
    qualify row_number() over (partition by account_id order by invoice_date, invoice_id) = 1
),

first_invoice_payments as (
    select
        first_invoices.invoice_id,
        first_invoices.amount_due,
        allocations.received_at,
        sum(allocations.amount) over (
            partition by first_invoices.invoice_id order by allocations.received_at, allocations.payment_id
        ) as paid_so_far
    from first_invoices
    inner join allocations
        on first_invoices.invoice_id = allocations.invoice_id
    -- paid by the customer: credit of a negative invoice is not a payment (R-COMM-3)
    where allocations.applied_by in ('named invoice', 'oldest first')
),

paid_in_full as (
    select invoice_id, min(cast(received_at as date)) as paid_in_full_date
    from first_invoice_payments
    where paid_so_far >= amount_due
    group by invoice_id
),

spiffs as (
    select
        partner_accounts.partner_id,
        first_invoices.account_id,
        first_invoices.invoice_id,
        'spiff' as commission_type,
        first_invoices.amount_due as basis_amount,
        partner_accounts.spiff_amount as amount,
        paid_in_full.paid_in_full_date as earned_date,
        cast(date_trunc('month', paid_in_full.paid_in_full_date) + interval 1 month + interval {{ var('payout_day') - 1 }} day as date)
            as payout_date
    from first_invoices
    inner join paid_in_full
        on first_invoices.invoice_id = paid_in_full.invoice_id
    inner join partner_accounts
        on first_invoices.account_id = partner_accounts.account_id
    where partner_accounts.spiff_amount > 0
),

clawbacks as (
    select
        spiffs.partner_id,
        spiffs.account_id,
        spiffs.invoice_id,
        'clawback' as commission_type,
        spiffs.amount as basis_amount,
        -spiffs.amount as amount,
        partner_accounts.cancel_requested_date as earned_date,
        cast(
            date_trunc('month', greatest(partner_accounts.cancel_requested_date, spiffs.payout_date))
            + interval 1 month + interval {{ var('payout_day') - 1 }} day as date
        ) as payout_date
    from spiffs
    inner join partner_accounts
        on spiffs.account_id = partner_accounts.account_id
    where partner_accounts.cancel_requested_date
        < {{ add_months('partner_accounts.service_start_date', var('spiff_clawback_months', 6)) }}
),

final as (
    select * from residuals
    union all
    select * from spiffs
    union all
    select * from clawbacks
)

select
    partner_id,
    account_id,
    invoice_id,
    commission_type,
    cast(basis_amount as decimal(18, 2)) as basis_amount,
    cast(amount as decimal(18, 2)) as amount,
    earned_date,
    payout_date
from final
