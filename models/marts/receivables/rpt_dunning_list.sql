-- Accounts with an invoice more than var dunning_days_past_due days past due (default 30) as of the
-- receivables date, oldest debt first: who the billing team chases (R-PAY-3).
-- Not an autopay account whose autopay has not run yet (R-CAL-5): the autopay run of its latest
-- invoice's month charges everything the account owes (rpt_autopay_charges), so the account is
-- chased only once that run is known to have happened by the receivables date: callbill wrote its
-- charge file (audit event autopay_file), or an autopay payment of the account came back, settled
-- or not, on or after its autopay date.
with

receivables as (
    select * from {{ ref('fct_receivables') }}
),

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

published_invoices as (
    select account_id, invoice_date, autopay_date from {{ source('published', 'invoices') }}
),

autopay_files as (
    select distinct invoice_month from {{ source('audit', 'billing_events') }}
    where event_type = 'autopay_file'
),

autopay_payments as (
    select account_id, received_at from {{ ref('stg_landing__payments') }}
    where is_autopay
),

-- Each account's latest published invoice by the receivables date, where it is an autopay invoice.
latest_autopay_invoices as (
    select
        latest.account_id,
        latest.as_of_date,
        published_invoices.invoice_date,
        published_invoices.autopay_date
    from (
        select account_id, as_of_date, max(invoice_date) as invoice_date
        from receivables
        group by account_id, as_of_date
    ) as latest
    inner join published_invoices
        on latest.account_id = published_invoices.account_id
        and latest.invoice_date = published_invoices.invoice_date
    where published_invoices.autopay_date is not null
),

autopay_ran as (
    select latest_autopay_invoices.account_id
    from latest_autopay_invoices
    inner join autopay_files
        on latest_autopay_invoices.invoice_date = autopay_files.invoice_month
    where latest_autopay_invoices.autopay_date <= latest_autopay_invoices.as_of_date
    union
    select latest_autopay_invoices.account_id
    from latest_autopay_invoices
    inner join autopay_payments
        on latest_autopay_invoices.account_id = autopay_payments.account_id
        and cast(autopay_payments.received_at as date) >= latest_autopay_invoices.autopay_date
        and cast(autopay_payments.received_at as date) <= latest_autopay_invoices.as_of_date
),

awaiting_autopay as (
    select account_id from latest_autopay_invoices
    where account_id not in (select account_id from autopay_ran)
),

past_due as (
    select
        account_id,
        count(*) as invoices_past_due,
        sum(open_amount) as past_due_amount,
        min(due_date) as oldest_due_date,
        max(days_past_due) as max_days_past_due,
        any_value(as_of_date) as as_of_date
    from receivables
    where open_amount > 0
        and days_past_due > {{ var('dunning_days_past_due', 30) }}
        and account_id not in (select account_id from awaiting_autopay)
    group by account_id
),

final as (
    select
        past_due.account_id,
        accounts.account_name,
        accounts.autopay,
        past_due.invoices_past_due,
        cast(past_due.past_due_amount as decimal(18, 2)) as past_due_amount,
        past_due.oldest_due_date,
        past_due.max_days_past_due,
        past_due.as_of_date
    from past_due
    left join accounts
        on past_due.account_id = accounts.account_id
)

select * from final
order by max_days_past_due desc, account_id
