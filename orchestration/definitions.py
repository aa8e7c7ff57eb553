"""Assembles the Dagster definitions of callbill; each part lives in orchestration/defs/."""

import dagster as dg

from callbill.project import callbill_project
from orchestration.defs.dbt import callbill_dbt_models, callbill_ledger_models
from orchestration.defs.engine import engine_from_environment
from orchestration.defs.jobs import close_schedule, month_end_close
from orchestration.defs.landing import landed_files
from orchestration.defs.ledger import (
    PAYOUT_LEDGER,
    autopay_charge_file,
    autopay_run,
    autopay_schedule,
    commission_payout,
    commission_payout_files,
    payout_schedule,
    reader_snapshot,
)
from orchestration.defs.progress import close_progress
from orchestration.defs.publish import AUDIT_LOG, publish_invoices
from orchestration.defs.published_calls import published_calls_unchanged
from orchestration.defs.quality import gx_checks
from orchestration.defs.sensors import close_failed, close_succeeded, land_new_files, new_landing_files
from orchestration.defs.usage_feeds import usage_feed_checks
from orchestration.speedups.dbt_in_process import CallbillDbtResource

defs = dg.Definitions(
    assets=[
        landed_files,
        callbill_dbt_models,
        publish_invoices,
        callbill_ledger_models,
        autopay_charge_file,
        commission_payout_files,
        reader_snapshot,
        AUDIT_LOG,
        PAYOUT_LEDGER,
    ],
    asset_checks=[*gx_checks, *usage_feed_checks, published_calls_unchanged],
    jobs=[month_end_close, autopay_run, commission_payout, land_new_files],
    schedules=[close_schedule, autopay_schedule, payout_schedule],
    sensors=[new_landing_files, close_succeeded, close_failed],
    loggers={"close_progress": close_progress},
    resources={
        "dbt": CallbillDbtResource(
            project_dir=str(callbill_project.project_dir), profiles_dir=str(callbill_project.profiles_dir)
        ),
        "engine": engine_from_environment(),
    },
)
