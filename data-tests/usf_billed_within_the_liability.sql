-- 47 CFR 54.712 / R-USF-1: USF billed in a quarter exceeds factor x interstate revenue by no more
-- than rounding (half a cent per invoice).
select *
from {{ ref('rpt_usf_liability') }}
where billed_minus_liability > 0.005 * invoices
