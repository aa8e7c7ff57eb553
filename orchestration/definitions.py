"""Assembles the Dagster definitions of callbill; each part lives in orchestration/defs/."""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt import callbill_dbt_models
from orchestration.defs.jobs import close_schedule, month_end_close
from orchestration.defs.landing import landed_files
from orchestration.defs.progress import close_progress
from orchestration.defs.publish import publish_invoices
from orchestration.defs.quality import gx_checks
from orchestration.project import callbill_project

defs = dg.Definitions(
    assets=[landed_files, callbill_dbt_models, publish_invoices],
    asset_checks=gx_checks,
    jobs=[month_end_close],
    schedules=[close_schedule],
    loggers={"close_progress": close_progress},
    resources={
        "dbt": DbtCliResource(project_dir=callbill_project, dbt_executable=str(Path(sys.executable).parent / "dbt"))
    },
)
