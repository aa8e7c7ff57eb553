-- R-INV-5: the invoice recipients are addresses and there is exactly one receipt address.
-- Reported, not blocking: the account is still billed. How many invoice emails (a primary, at most
-- max_invoice_recipients) is the landing contract's: such a row is quarantined when it lands.
{{ config(severity='warn') }}

with

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

checked as (
    select
        account_id,
        invoice_emails,
        receipt_email,
        case
            when {{ count_invalid_emails('invoice_emails') }} > 0
                then 'an invoice email is not an address'
            when nullif(trim(receipt_email), '') is null then 'no receipt email'
            when receipt_email like '%;%' then 'more than one receipt email'
        end as problem
    from accounts
)

select * from checked where problem is not null
