-- Commissions payable by payout date, partner and type (R-COMM-1..5): what each payout file of the
-- 15th carries.
with

commissions as (
    select * from {{ ref('fct_commissions') }}
),

partners as (
    select partner_id, partner_name from {{ ref('stg_landing__partners') }}
),

final as (
    select
        commissions.payout_date,
        commissions.partner_id,
        partners.partner_name,
        commissions.commission_type,
        count(*) as commissions,
        cast(sum(commissions.amount) as decimal(18, 2)) as amount
    from commissions
    left join partners
        on commissions.partner_id = partners.partner_id
    group by all
)

select * from final
