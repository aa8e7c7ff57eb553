"""After publication: the autopay run on the 10th (R-CAL-5) and the partner payout on the 15th (R-COMM-1)."""

from contextlib import nullcontext

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from callbill.outputs.exports import (
    AUTOPAY_DAY,
    PAYOUT_DAY,
    MonthNotPublished,
    write_autopay_file,
    write_autopay_file_on_spark,
    write_payout_files,
    write_payout_files_on_spark,
)
from callbill.outputs.snapshot import write_snapshot
from callbill.warehouse import connect
from orchestration.defs.dbt import PUBLISHED_SOURCE, callbill_ledger_models
from orchestration.defs.engine import CallbillEngine
from orchestration.defs.partitions import PARTITIONS_MEAN, invoice_months
from orchestration.defs.publish import source_spec

AUTOPAY_JOB_NAME = "autopay_run"
PAYOUT_JOB_NAME = "commission_payout"


@dg.asset(
    partitions_def=invoice_months,
    deps=[get_asset_key_for_model([callbill_ledger_models], "rpt_autopay_charges")],
    group_name="receivables",
    owners=["team:billing"],
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="The month's autopay charge file (R-CAL-5): account, invoice, open amount and masked "
    "method for every autopay account that owes on its published invoices on the 10th.",
)
def autopay_charge_file(context: dg.AssetExecutionContext, engine: CallbillEngine) -> dg.MaterializeResult:
    runs = {}
    with nullcontext() if engine.on_spark else connect() as con:
        for month in context.partition_keys:
            try:
                result = write_autopay_file_on_spark(month) if engine.on_spark else write_autopay_file(con, month)
            except MonthNotPublished as refused:
                raise dg.Failure(description=str(refused)) from None
            context.log.info(f"{month}: {result.rows} autopay charge(s), USD {result.total}: {result.files[0]}")
            runs[month] = {
                "file": str(result.files[0]),
                "charges": result.rows,
                "total": str(result.total),
                "autopay_date": result.run_date.isoformat(),
            }
    return dg.MaterializeResult(metadata={"autopay_runs": dg.MetadataValue.json(runs)})


@dg.asset(
    partitions_def=invoice_months,
    deps=[get_asset_key_for_model([callbill_ledger_models], "fct_commissions")],
    group_name="commissions",
    owners=["team:billing"],
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Partner payout files for the 15th of the month (R-COMM-1): residuals of the month's "
    "invoices (R-COMM-2), spiffs earned by full payment the month before (R-COMM-3), clawbacks.",
)
def commission_payout_files(context: dg.AssetExecutionContext, engine: CallbillEngine) -> dg.MaterializeResult:
    payouts = {}
    with nullcontext() if engine.on_spark else connect() as con:
        for month in context.partition_keys:
            result = write_payout_files_on_spark(month) if engine.on_spark else write_payout_files(con, month)
            context.log.info(f"{len(result.files)} partner file(s), USD {result.total} payable {result.run_date}")
            payouts[result.run_date.isoformat()] = {"partners": result.by_file, "total": str(result.total)}
    return dg.MaterializeResult(metadata={"payouts": dg.MetadataValue.json(payouts)})


# published.commission_payouts, what each payout run paid (the dbt source rpt_payouts_due reads): written
# by the payout files' step in its SQL, not as one of its outputs. An external asset, as
# audit.billing_events: the close's ledger models read it, and a close never runs the payout.
PAYOUT_LEDGER = source_spec(
    PUBLISHED_SOURCE, "commission_payouts", deps=[commission_payout_files], group_name="commissions"
)


@dg.asset(
    deps=[callbill_ledger_models],
    partitions_def=invoice_months,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="publication",
    owners=["team:billing"],
    description="The readers' snapshot file: published invoices, marts, reference and audit, written to a "
    "temporary file and renamed into place, so dashboards and finance sessions never see half a month "
    "and never block a close.",
)
def reader_snapshot(context: dg.AssetExecutionContext, engine: CallbillEngine) -> dg.MaterializeResult:
    if engine.on_spark:
        # Spark's readers query its tables, where a month shows once published (published.* views).
        context.log.info("on Spark, readers read the Spark tables: no snapshot file")
        return dg.MaterializeResult(metadata={"tables": 0, "engine": "spark"})
    with connect() as con:
        rows = write_snapshot(con)
    context.log.info(f"snapshot: {len(rows)} tables")
    return dg.MaterializeResult(metadata={"tables": len(rows), "published_invoices": rows.get("published.invoices", 0)})


ledger_models = dg.AssetSelection.assets(callbill_ledger_models, reader_snapshot)

autopay_run = dg.define_asset_job(
    name=AUTOPAY_JOB_NAME,
    selection=ledger_models | dg.AssetSelection.assets(autopay_charge_file),
    description="Rebuilds payments and receivables and writes the month's autopay charge file (R-CAL-5): "
    "partition 2026-05 charges on 10 May 2026 what autopay accounts owe on their published invoices. "
    + PARTITIONS_MEAN,
    executor_def=dg.in_process_executor,
)

commission_payout = dg.define_asset_job(
    name=PAYOUT_JOB_NAME,
    selection=ledger_models | dg.AssetSelection.assets(commission_payout_files),
    description="Rebuilds commissions and writes the partner payout files of the 15th (R-COMM-1): partition "
    "2026-05 pays on 15 May 2026. " + PARTITIONS_MEAN,
    executor_def=dg.in_process_executor,
)

autopay_schedule = dg.build_schedule_from_partitioned_job(
    autopay_run,
    name="autopay_run_on_the_10th",
    day_of_month=AUTOPAY_DAY,
    hour_of_day=6,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

payout_schedule = dg.build_schedule_from_partitioned_job(
    commission_payout,
    name="commission_payout_on_the_15th",
    day_of_month=PAYOUT_DAY,
    hour_of_day=6,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
