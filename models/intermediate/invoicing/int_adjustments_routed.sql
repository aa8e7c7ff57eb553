{{ config(materialized='view') }}
-- Each approved adjustment with the invoice month it is billed in (R-CAL-6, R-INV-2): the month it
-- was published on, if it was; else the month after approval, or the account's first invoice if
-- billing starts later; if the account's invoice of that month is published without it, the
-- account's next unpublished invoice. int_invoice_lines_adjustments bills it there;
-- fct_unapplied_adjustments lists it when that is after the account's last invoice.
with

adjustments as (
    select * from {{ ref('stg_landing__adjustments') }}
),

accounts as (
    select * from {{ ref('int_account_calendar') }}
),

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

account_publication as (
    select * from {{ ref('int_account_publication') }}
),

-- An adjustment line is keyed by its adjustment id: once published it stays where it is (R-INV-2).
published_adjustments as (
    select account_id, line_key, min(invoice_date) as invoice_date
    from {{ source('published', 'invoice_lines') }}
    where line_type = 'adjustment'
        and line_key <> 'account_credit'
        and line_key not like 'correction|%'
    group by account_id, line_key
),

candidates as (
    select
        adjustments.*,
        accounts.first_invoice_date,
        accounts.last_invoice_date,
        -- greatest skips a null (no account calendar) on DuckDB and Spark alike
        greatest({{ first_of_next_month('adjustments.approved_at') }}, accounts.first_invoice_date)
            as first_choice_date
    from adjustments
    left join accounts
        on adjustments.account_id = accounts.account_id
),

first_choice as (
    select
        candidates.*,
        published_invoices.invoice_id as first_choice_invoice_id
    from candidates
    left join published_invoices
        on candidates.account_id = published_invoices.account_id
        and candidates.first_choice_date = published_invoices.invoice_date
),

final as (
    select
        first_choice.*,
        case
            when published_adjustments.invoice_date is not null then published_adjustments.invoice_date
            when first_choice.first_choice_invoice_id is null then first_choice.first_choice_date
            else account_publication.next_unpublished_invoice_date
        end as billed_invoice_date
    from first_choice
    left join published_adjustments
        on first_choice.account_id = published_adjustments.account_id
        and first_choice.adjustment_id = published_adjustments.line_key
    left join account_publication
        on first_choice.account_id = account_publication.account_id
)

select * from final
