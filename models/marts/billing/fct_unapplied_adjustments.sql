{{
    config(
        materialized='incremental',
        incremental_strategy=invoice_months_strategy(),
        partition_by=('invoice_date' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_invoice_months(keep_published=true) }}",
    )
}}
-- Adjustments no invoice will carry: approved adjustments (R-CAL-6) and corrections of published
-- invoices (R-INV-2) that route to a month after the account's last invoice (its service ended,
-- R-CANCEL-1). A credit here is owed back to the customer (a refund), a charge is billed nowhere;
-- the warning test unapplied_adjustments_to_review names them. Each is listed by the close of the
-- month it routes to, or, if that one was published before it landed, the first close after. The
-- list is a ledger: a later close lists only what changed since (a correction whose amount moved,
-- as entry `amount_changed`), and withdraws with the opposite amount what no longer goes unapplied
-- (a cancellation taken back, a correction undone: entry `withdrawn`).
with

adjustments as (
    select * from {{ ref('int_adjustments_routed') }}
),

corrections as (
    select * from {{ ref('int_open_corrections') }}
),

published_months as (
    select * from {{ source('published', 'invoice_months') }}
),

unapplied as (
    select
        adjustment_id,
        'adjustment' as kind,
        account_id,
        cast(amount as decimal(18, 2)) as amount,
        coalesce(reason, 'Adjustment') as description,
        approved_at,
        disputed_invoice_id as related_invoice_id,
        billed_invoice_date as routed_invoice_date,
        last_invoice_date
    from adjustments
    where billed_invoice_date > last_invoice_date
    union all
    select
        line_key as adjustment_id,
        'correction' as kind,
        account_id,
        cast(amount as decimal(18, 2)) as amount,
        'Correction to ' || corrected_invoice_id || ': ' || corrected_description as description,
        cast(null as timestamp) as approved_at,
        corrected_invoice_id as related_invoice_id,
        billed_invoice_date as routed_invoice_date,
        last_invoice_date
    from corrections
    where billed_invoice_date > last_invoice_date
),

-- The months this close builds and publishes; each item is listed by the first of them on or after
-- the month it routes to.
open_months as (
    select invoice_date
    from {{ ref('int_invoice_months') }}
    where invoice_date not in (select invoice_date from published_months)
),

listing as (
    select unapplied.kind, unapplied.adjustment_id, min(open_months.invoice_date) as invoice_date
    from unapplied
    inner join open_months
        on open_months.invoice_date >= unapplied.routed_invoice_date
    group by unapplied.kind, unapplied.adjustment_id
),

-- Listed by earlier closes, net: rows of published months and of months outside this build (the
-- unpublished months being built are listed afresh).
listed_before as (
    {%- if is_incremental() %}
    select
        listed.kind,
        listed.adjustment_id,
        max(listed.account_id) as account_id,
        max(listed.description) as description,
        max(listed.approved_at) as approved_at,
        max(listed.related_invoice_id) as related_invoice_id,
        sum(listed.amount) as amount
    from {{ this }} as listed
    left join published_months
        on listed.invoice_date = published_months.invoice_date
    where published_months.invoice_date is not null
        or not ({{ in_invoice_months('listed.invoice_date') }})
    group by listed.kind, listed.adjustment_id
    {%- else %}
    select
        cast(null as string) as kind,
        cast(null as string) as adjustment_id,
        cast(null as string) as account_id,
        cast(null as string) as description,
        cast(null as timestamp) as approved_at,
        cast(null as string) as related_invoice_id,
        cast(null as decimal(18, 2)) as amount
    from (select 1 as nothing) as first_build
    where 1 = 0
    {%- endif %}
),

entries as (
    -- what goes unapplied now, less what earlier closes listed of it
    select
        unapplied.adjustment_id,
        unapplied.kind,
        unapplied.account_id,
        listing.invoice_date,
        unapplied.amount - coalesce(listed_before.amount, 0) as amount,
        case when listed_before.adjustment_id is null then 'listed' else 'amount_changed' end as entry_type,
        unapplied.description,
        unapplied.approved_at,
        unapplied.related_invoice_id,
        unapplied.routed_invoice_date,
        unapplied.last_invoice_date
    from unapplied
    inner join listing
        on unapplied.kind = listing.kind
        and unapplied.adjustment_id = listing.adjustment_id
    left join listed_before
        on unapplied.kind = listed_before.kind
        and unapplied.adjustment_id = listed_before.adjustment_id
    union all
    -- listed before, and now on an invoice or no longer owed: withdrawn by the first month built
    select
        listed_before.adjustment_id,
        listed_before.kind,
        listed_before.account_id,
        (select min(invoice_date) from open_months) as invoice_date,
        -listed_before.amount as amount,
        'withdrawn' as entry_type,
        listed_before.description,
        listed_before.approved_at,
        listed_before.related_invoice_id,
        cast(null as date) as routed_invoice_date,
        cast(null as date) as last_invoice_date
    from listed_before
    left join unapplied
        on listed_before.kind = unapplied.kind
        and listed_before.adjustment_id = unapplied.adjustment_id
    where unapplied.adjustment_id is null
),

final as (
    select
        adjustment_id,
        kind,
        account_id,
        invoice_date,
        cast(amount as decimal(18, 2)) as amount,
        entry_type,
        description,
        approved_at,
        related_invoice_id,
        routed_invoice_date,
        last_invoice_date
    from entries
    where amount <> 0
        and invoice_date is not null
)

select * from final
where {{ in_unpublished_invoice_months() }}
