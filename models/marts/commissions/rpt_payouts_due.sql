{{ config(materialized='view') }}
-- What the next partner payout pays (R-COMM-1): every commission no payout has paid yet, with the
-- date it falls due (a payout of the 15th pays those due by then), and a clawback of each paid spiff
-- that is no longer earned (its first invoice no longer paid in full, R-COMM-3) and not clawed back
-- yet, due at the next payout and earned on its date (both dates null). The payout run
-- (callbill/outputs/exports.py) records what it pays in published.commission_payouts and writes the
-- partner files. A view: it reads the ledger as it stands when the payout runs, so the payouts of a
-- backfill, run one after another, each see what the ones before them paid.
with

commissions as (
    select * from {{ ref('fct_commissions') }}
),

paid as (
    select * from {{ source('published', 'commission_payouts') }}
),

unpaid as (
    select
        due.partner_id,
        due.account_id,
        due.invoice_id,
        due.commission_type,
        due.basis_amount,
        due.amount,
        due.earned_date,
        due.payout_date
    from commissions as due
    where not exists (
        select 1 from paid
        where paid.partner_id = due.partner_id
            and paid.account_id = due.account_id
            and paid.invoice_id = due.invoice_id
            and paid.commission_type = due.commission_type
    )
),

reversed_spiffs as (
    select
        spiff.partner_id,
        spiff.account_id,
        spiff.invoice_id,
        'clawback' as commission_type,
        spiff.amount as basis_amount,
        -spiff.amount as amount,
        cast(null as date) as earned_date,
        cast(null as date) as payout_date
    from paid as spiff
    where spiff.commission_type = 'spiff'
        and not exists (
            select 1 from commissions as earned
            where earned.commission_type = 'spiff'
                and earned.partner_id = spiff.partner_id
                and earned.account_id = spiff.account_id
                and earned.invoice_id = spiff.invoice_id
        )
        and not exists (
            select 1 from paid as clawed_back
            where clawed_back.commission_type = 'clawback'
                and clawed_back.partner_id = spiff.partner_id
                and clawed_back.account_id = spiff.account_id
                and clawed_back.invoice_id = spiff.invoice_id
        )
)

select * from unpaid
union all
select * from reversed_spiffs
