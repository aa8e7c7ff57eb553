-- Current version of each account: the row with the latest updated_at (then the latest landed).
with

source as (
    select * from {{ source('landing', 'accounts') }}
),

renamed as (
    select
        account_id,
        account_name,
        upper(billing_country) as billing_country,
        upper(billing_state) as billing_state,
        billing_postal_code,
        billing_street,
        billing_city,
        plan_id,
        partner_id,
        service_start_date,
        billing_start_date as quoted_billing_start_date,
        coalesce(free_months, 0) as free_months,
        contract_term_months,
        tax_exempt_certificate_id,
        coalesce(low_usage_allowance, 0) as low_usage_allowance,
        coalesce(autopay, false) as autopay,
        invoice_emails,
        receipt_email,
        cancel_requested_date,
        updated_at,
        _landed_at as landed_at
    from source
    qualify row_number() over (
        partition by account_id order by updated_at desc, _landed_at desc, _line desc
    ) = 1
)

select * from renamed
