"""Monthly partitions keyed by invoice month (YYYY-MM: the invoices dated YYYY-MM-01, callbill/months.py)."""

import dagster as dg

from callbill.months import FIRST_INVOICE_MONTH

# end_offset=1: the current month is a partition, since its invoices are closed in its first week
# (callbill.months.last_invoice_month).
invoice_months = dg.MonthlyPartitionsDefinition(start_date=FIRST_INVOICE_MONTH, fmt="%Y-%m", end_offset=1)
