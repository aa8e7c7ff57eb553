-- An account's partner has landed (partners/). Reported, not blocking: the invoices are right
-- without it, and the partner earns no commission until it lands (R-COMM-1).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_landing__accounts'}}}) }}

with

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

partners as (
    select * from {{ ref('stg_landing__partners') }}
),

unknown as (
    select
        accounts.account_id,
        accounts.partner_id,
        'partner ' || accounts.partner_id || ' has not landed: no commission until it does' as problem
    from accounts
    left join partners
        on accounts.partner_id = partners.partner_id
    where accounts.partner_id is not null
        and partners.partner_id is null
)

select * from unknown
