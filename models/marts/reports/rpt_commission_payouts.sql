-- Commissions falling due by payout date, partner and type (R-COMM-1..5). What each payout file
-- of the 15th carried is published.commission_payouts: a commission that fell due before its
-- payment landed is paid by a later file, and a reversed spiff is clawed back there.
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
