"""`callbill close`: runs the month_end_close job in process for one partition and summarises it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.defs.partitions import parse_invoice_month
from orchestration.warehouse import actor, connect, table_exists, warehouse_path


@dataclass
class CloseOutcome:
    invoice_month: str
    success: bool
    published: bool
    failed_checks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)
    publication: str = ""


def dagster_instance() -> dg.DagsterInstance:
    """The persistent instance next to the warehouse, so CLI runs show in the Dagster UI."""
    home = Path(os.environ.get("DAGSTER_HOME") or warehouse_path().parent / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # Nothing leaves the machine at run time: no telemetry.
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def run_close(invoice_month: str, publish: bool = True) -> CloseOutcome:
    parse_invoice_month(invoice_month)
    from orchestration.definitions import defs  # loads dbt manifest and GX suites

    job = defs.resolve_job_def("month_end_close")
    selection = None
    if not publish:
        selection = [k for k in job.asset_layer.executable_asset_keys if k != dg.AssetKey("publish_invoices")]
    with dagster_instance() as instance:
        result = job.execute_in_process(
            partition_key=invoice_month,
            instance=instance,
            raise_on_error=False,
            asset_selection=selection,
            tags={"dagster/user": actor(), "callbill/command": "close"},
            run_config={"loggers": {"close_progress": {}}},
        )
    outcome = CloseOutcome(invoice_month, result.success, publish and result.success)
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey("publish_invoices"):
            months = event.materialization.metadata["months"].value
            outcome.publication = str(months.get(invoice_month, {}).get("status", ""))
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            outcome.failed_checks.append(evaluation.check_name)
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            message = (error.message or error.cls_name or "").strip().splitlines()
            outcome.errors.append(f"{event.step_key}: {message[0] if message else 'failed'}")
    outcome.summary = month_summary(invoice_month)
    return outcome


def month_summary(invoice_month: str, warehouse: Path | None = None) -> dict[str, object]:
    invoice_date = parse_invoice_month(invoice_month).isoformat()
    with connect(warehouse) as con:
        row = (0, 0, 0, 0, 0)
        if table_exists(con, "marts", "fct_invoices"):
            row = con.execute(
                """
                select
                    (select count(distinct account_id) from marts.fct_invoices where invoice_date = $d),
                    (select count(*) from marts.fct_invoices where invoice_date = $d),
                    (select coalesce(sum(total), 0) from marts.fct_invoices where invoice_date = $d),
                    (select coalesce(sum(amount), 0) from marts.fct_invoice_lines
                     where invoice_date = $d and line_type = 'usf'),
                    (select count(*) from marts.fct_rated_calls where invoice_date = $d)
                """,
                {"d": invoice_date},
            ).fetchone()
        published = con.execute(
            "select count(*), coalesce(sum(total), 0) from published.invoices where invoice_date = ?",
            [invoice_date],
        ).fetchone()
    return {
        "accounts": row[0],
        "invoices": row[1],
        "amount_billed": row[2],
        "usf_billed": row[3],
        "rated_calls": row[4],
        "published_invoices": published[0],
        "published_total": published[1],
    }
