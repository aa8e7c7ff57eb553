-- R-INV-2: a published invoice never changes; when its recurring inputs change afterwards (an
-- item's quantity, dates or product, an account's billing start), the difference between what
-- the corrected inputs bill and what was published is a correction, net of corrections already
-- published, routed to the account's next unpublished invoice: int_invoice_lines_corrections bills
-- it there, fct_unapplied_adjustments lists it if that is after the account's last invoice.
with

published_invoices as (
    select * from {{ source('published', 'invoices') }}
),

published_lines as (
    select * from {{ source('published', 'invoice_lines') }}
),

-- The published invoices' recurring lines as today's inputs bill them (int_recurring_lines).
rebuilt as (
    select
        {{ invoice_line_id('recurring.invoice_id', 'recurring.line_type', 'recurring.line_group') }} as invoice_line_id,
        recurring.*
    from {{ ref('int_recurring_lines') }} as recurring
    inner join published_invoices
        on recurring.invoice_id = published_invoices.invoice_id
),

published_recurring as (
    select invoice_line_id, invoice_id, account_id, invoice_date, line_type, description, amount
    from published_lines
    where line_type in {{ line_types_where('in_recurring_base') }}
),

already_corrected as (
    select line_key, sum(amount) as amount
    from published_lines
    where line_type = 'adjustment' and line_key like 'correction|%'
    group by line_key
),

differences as (
    select
        coalesce(rebuilt.invoice_id, published_recurring.invoice_id) as corrected_invoice_id,
        coalesce(rebuilt.account_id, published_recurring.account_id) as account_id,
        coalesce(rebuilt.line_type, published_recurring.line_type) as corrected_line_type,
        coalesce(rebuilt.description, published_recurring.description) as corrected_description,
        -- The corrected line's id: one correction key per published (or newly due) line.
        'correction|' || coalesce(rebuilt.invoice_line_id, published_recurring.invoice_line_id) as line_key,
        coalesce(rebuilt.amount, 0) - coalesce(published_recurring.amount, 0) as difference
    from rebuilt
    full outer join published_recurring
        on rebuilt.invoice_line_id = published_recurring.invoice_line_id
),

open_corrections as (
    select
        differences.*,
        differences.difference - coalesce(already_corrected.amount, 0) as amount
    from differences
    left join already_corrected
        on differences.line_key = already_corrected.line_key
    where differences.difference - coalesce(already_corrected.amount, 0) <> 0
),

account_publication as (
    select * from {{ ref('int_account_publication') }}
),

accounts as (
    select * from {{ ref('int_account_calendar') }}
),

final as (
    select
        open_corrections.*,
        account_publication.next_unpublished_invoice_date as billed_invoice_date,
        accounts.last_invoice_date
    from open_corrections
    inner join account_publication
        on open_corrections.account_id = account_publication.account_id
    left join accounts
        on open_corrections.account_id = accounts.account_id
)

select * from final
