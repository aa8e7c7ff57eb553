-- Accounts with an invoice more than var dunning_days_past_due days past due (default 30) as of the
-- receivables date, oldest debt first: who the billing team chases.
with

receivables as (
    select * from {{ ref('fct_receivables') }}
),

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
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
    where open_amount > 0 and days_past_due > {{ var('dunning_days_past_due', 30) }}
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
