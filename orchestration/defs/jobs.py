"""The month-end close job and its schedule on the 1st."""

import os

import dagster as dg

from orchestration.defs.dbt import callbill_dbt_models, callbill_ledger_models
from orchestration.defs.ledger import reader_snapshot
from orchestration.defs.partitions import PARTITIONS_MEAN
from orchestration.defs.publish import publish_invoices

CLOSE_JOB_NAME = "month_end_close"

month_end_close = dg.define_asset_job(
    name=CLOSE_JOB_NAME,
    selection=dg.AssetSelection.assets(callbill_dbt_models, publish_invoices, callbill_ledger_models, reader_snapshot),
    description="Closes an invoice month: builds it with dbt, runs every dbt test and GX suite, publishes if all "
    "pass, then brings payments, receivables and commissions up to date and swaps in the readers' snapshot. "
    + PARTITIONS_MEAN,
    # DuckDB takes one writer: steps run one after another in one process.
    executor_def=dg.in_process_executor,
)

close_schedule = dg.build_schedule_from_partitioned_job(
    month_end_close,
    name="month_end_close_on_the_1st",
    hour_of_day=int(os.environ.get("CALLBILL_CLOSE_HOUR", "6")),
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="On the 1st, closes the invoice month that starts that day: on 1 June, 2026-06 (invoices dated "
    "1 June 2026 — June's recurring charges, May's usage).",
)
