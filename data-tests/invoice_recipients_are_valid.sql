-- R-INV-5: up to 5 invoice recipients (the first is the primary) and exactly one receipt address.
-- Reported, not blocking: the account is still billed.
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
            when nullif(trim(invoice_emails), '') is null then 'no invoice email (a primary is required)'
            when {{ count_list_parts('invoice_emails') }} > {{ var('max_invoice_recipients', 5) }}
                then 'more than {{ var("max_invoice_recipients", 5) }} invoice emails'
            when {{ count_invalid_emails('invoice_emails') }} > 0
                then 'an invoice email is not an address'
            when nullif(trim(receipt_email), '') is null then 'no receipt email'
            when receipt_email like '%;%' then 'more than one receipt email'
        end as problem
    from accounts
)

select * from checked where problem is not null
