"""Monthly partitions keyed by invoice month (YYYY-MM: the invoices dated YYYY-MM-01, callbill/months.py)."""

from collections.abc import Mapping

import dagster as dg

from callbill.months import describe_invoice_month, first_invoice_month

INVOICE_MONTH_TAG = "callbill/invoice_month"
# What every partitioned job and asset says of its partitions.
PARTITIONS_MEAN = (
    "A partition is an invoice month: " + describe_invoice_month("2026-05").replace(": ", " = ", 1) + ". "
    "The months run from CALLBILL_FIRST_INVOICE_MONTH (the first month to close) to the current month."
)


class InvoiceMonths(dg.MonthlyPartitionsDefinition):
    """Monthly partitions whose runs say what their key means: the Launchpad shows the tag
    callbill/invoice_month ('2026-05: invoices dated 1 May 2026 — May's recurring charges, April's
    usage') as soon as a partition is picked, and the run keeps it."""

    def get_tags_for_partition_key(self, partition_key: str) -> Mapping[str, str]:
        return {
            **super().get_tags_for_partition_key(partition_key),
            INVOICE_MONTH_TAG: describe_invoice_month(partition_key),
        }


# end_offset=1: the current month is a partition, since its invoices are closed in its first week
# (callbill.months.last_invoice_month).
invoice_months = InvoiceMonths(start_date=first_invoice_month(), fmt="%Y-%m", end_offset=1)
