-- The revenue report and published invoices agree to the cent, month by month. It reads the report
-- and a source: Dagster shows it as a check of the report.
{{ config(meta={'dagster': {'ref': {'name': 'rpt_revenue_monthly'}}}) }}

with report as (
    select invoice_date, sum(amount) as billed from {{ ref('rpt_revenue_monthly') }} group by 1
),

published as (
    select invoice_date, sum(total) as billed from {{ source('published', 'invoices') }} group by 1
)

select *
from published
full outer join report using (invoice_date)
where published.billed is distinct from report.billed
