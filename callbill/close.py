"""`callbill close`: runs the month_end_close job in process for one partition and summarises it."""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from callbill.close_record import record_close_finished
from callbill.dagster_home import dagster_instance
from callbill.months import parse_invoice_month, parse_invoice_month_range
from callbill.quality import gx_worker
from callbill.warehouse import (
    actor,
    connect,
    environment_variables,
    table_exists,
    warehouse_path,
)
from orchestration.speedups import preload

# Dagster hands a run's planned events to the event log as one batch (dagster_events.py writes it
# in one transaction per database) rather than one by one.
PLANNED_EVENTS_IN_ONE_BATCH = {"DAGSTER_EVENT_BATCH_SIZE": "1000"}


@dataclass
class CloseOutcome:
    invoice_month: str
    success: bool
    published: bool
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    # What each warned check found (its audit events: check, failing_rows, first_failing_rows, message).
    warnings: list[dict[str, object]] = field(default_factory=list)
    failure_rows: dict[str, object] = field(default_factory=dict)
    passed_checks: int = 0
    errors: list[str] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)
    publication: str = ""
    # Usage gaps the close accepted (--accept-usage-gap), as said in the audit's usage_gap_accepted.
    accepted_usage_gaps: list[str] = field(default_factory=list)
    log_path: Path | None = None


@contextmanager
def garbage_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a job runs in process (issue #8).

    dbt's manifest and Dagster's definitions are millions of Python objects: each full collection
    walks them all (~1.5 s over a close) holding the GIL that dbt's and Dagster's threads need. The
    garbage a job leaves is bounded by its nodes and events, not by the calls it rates (~50 MB).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def in_process_run(log_name: str) -> Iterator[Path]:
    """What a job run in the CLI's process needs around it: dbt's output in its log file, no cyclic
    garbage collection, and the run's planned events written as one batch."""
    with (
        dbt_output_to_file(log_name) as log_path,
        garbage_collection_paused(),
        environment_variables(PLANNED_EVENTS_IN_ONE_BATCH),
    ):
        yield log_path


@contextmanager
def dbt_output_to_file(name: str) -> Iterator[Path]:
    """dbt's console output goes to warehouse/logs/<name>.log, not over the close summary."""
    path = warehouse_path().parent / "logs" / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as log, redirect_stdout(log):
        yield path


def run_close(
    invoice_months: str, publish: bool = True, accept_usage_gap: str = "", engine: str = "duckdb"
) -> CloseOutcome:
    """Close one invoice month ('2026-05') or a backfill range ('2026-02..2026-04') in one run, on
    DuckDB or on Spark (engine, the run's `engine` resource as the UI's Launchpad sets it).

    accept_usage_gap: the reason to accept usage feeds that stopped delivering calls before the end of
    the usage month; it goes to the usage_feeds_complete check as its run config, as in the UI."""
    first, last = parse_invoice_month_range(invoice_months)
    log_name = f"close_{first}" if first == last else f"close_{first}..{last}"
    # First: the GX worker imports GX on the other core while this process loads the definitions.
    # On Spark, GX validates in this process, where the Spark session is.
    gx_log = warehouse_path().parent / "logs" / f"{log_name}.gx.log"
    with gx_worker.running(gx_log) if engine == "duckdb" else nullcontext(), dagster_instance() as instance:
        from orchestration.definitions import defs  # loads dbt manifest and GX suites

        job = defs.resolve_job_def("month_end_close")
        selection = None
        if not publish:
            from orchestration.defs.publish import PUBLICATION_KEYS

            # publish_invoices and the published tables it writes are one step.
            selection = [k for k in job.asset_layer.executable_asset_keys if k not in PUBLICATION_KEYS]
        partition_tags = (
            {}
            if first == last
            else {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
        )
        # dbt's adapter modules load on a thread while Dagster records the run.
        preload.start()
        with in_process_run(log_name) as log_path:
            result = job.execute_in_process(
                partition_key=first if first == last else None,
                instance=instance,
                raise_on_error=False,
                asset_selection=selection,
                tags={"dagster/user": actor(), "callbill/command": "close", **partition_tags},
                run_config={
                    "loggers": {"close_progress": {}},
                    "resources": {"engine": {"config": {"name": engine}}},
                    **usage_gap_run_config(accept_usage_gap),
                },
            )
    preload.finish()
    outcome = CloseOutcome(invoice_months, result.success, publish and result.success)
    outcome.log_path = log_path
    materialized = result.get_asset_materialization_events()
    for event in materialized:
        if event.asset_key == dg.AssetKey("publish_invoices"):
            months = event.materialization.metadata["months"].value
            outcome.publication = "; ".join(
                f"{month}: {status['status']}" if first != last else str(status["status"])
                for month, status in sorted(months.items())
            )
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            outcome.passed_checks += 1
            accepted = evaluation.metadata.get("accepted_usage_gaps")
            if accepted is not None:
                outcome.accepted_usage_gaps += accepted.value
            continue
        # Warn-severity checks (e.g. invoice recipients, R-INV-5) are reported; they never block.
        if evaluation.severity == dg.AssetCheckSeverity.WARN:
            outcome.warned_checks.append(evaluation.check_name)
        else:
            outcome.failed_checks.append(evaluation.check_name)
            failures = evaluation.metadata.get("failures")
            if failures is not None:
                outcome.failure_rows[evaluation.check_name] = failures.value
    outcome.errors = step_errors(result)
    outcome.warnings = warnings_of_run(result.run_id)
    if engine == "spark":
        from callbill import spark_warehouse

        outcome.summary = spark_warehouse.month_summary(
            spark_warehouse.session(), parse_invoice_month(first).isoformat(), parse_invoice_month(last).isoformat()
        )
    else:
        outcome.summary = month_summary(first, last)
    record_close_finished(
        {
            "run_id": result.run_id,
            "months": f"{first}..{last}",
            "success": outcome.success,
            "published": outcome.published,
            "failed_checks": sorted(outcome.failed_checks),
            "warned_checks": sorted(outcome.warned_checks),
            "errors": outcome.errors,
        },
        parse_invoice_month(first).isoformat(),
        snapshot_written=any(event.asset_key == dg.AssetKey("reader_snapshot") for event in materialized),
    )
    return outcome


def usage_gap_run_config(reason: str) -> dict[str, object]:
    """The run config that accepts a usage gap: the same `ops` entry the UI's Launchpad shows."""
    if not reason:
        return {}
    from orchestration.defs.usage_feeds import usage_feeds_complete

    return {"ops": {usage_feeds_complete.node_def.name: {"config": {"accept_usage_gap": reason}}}}


@dataclass
class JobOutcome:
    success: bool
    metadata: dict[str, object] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def run_job(job_name: str, invoice_month: str, engine: str = "duckdb") -> JobOutcome:
    """Run a monthly job (autopay_run, commission_payout) in process for one invoice month."""
    parse_invoice_month(invoice_month)
    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    with dagster_instance() as instance:
        with in_process_run(f"{job_name}_{invoice_month}"):
            result = job.execute_in_process(
                partition_key=invoice_month,
                instance=instance,
                raise_on_error=False,
                tags={"dagster/user": actor(), "callbill/command": job_name},
                run_config={"loggers": {"close_progress": {}}, "resources": {"engine": {"config": {"name": engine}}}},
            )
    outcome = JobOutcome(result.success)
    for event in result.get_asset_materialization_events():
        for key, value in event.materialization.metadata.items():
            outcome.metadata[key] = getattr(value, "value", value)
    outcome.errors = step_errors(result)
    outcome.warnings = warnings_of_run(result.run_id)
    return outcome


def warnings_of_run(run_id: str) -> list[dict[str, object]]:
    """What the run's warned checks found, from their audit events (check, failing_rows, rows, message)."""
    with connect() as con:
        return [
            json.loads(details)
            for (details,) in con.execute(
                "select details from audit.billing_events where event_type = 'check_warned' "
                "and details->>'run_id' = ? order by details->>'check', event_id",
                [run_id],
            ).fetchall()
        ]


def step_errors(result: dg.ExecuteInProcessResult) -> list[str]:
    """The innermost error of each failed step, one line each."""
    errors = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            message = (error.message or error.cls_name or "").strip().splitlines()
            first = message[0] if message else "failed"
            if error.cls_name == "Failure":
                # A step's own dg.Failure is the reason itself, not a crash: no exception class in front.
                first = re.sub(r"^[\w.]*Failure: ", "", first)
            errors.append(f"{event.step_key}: {first}")
    return errors


def month_summary(first: str, last: str, warehouse: Path | None = None) -> dict[str, object]:
    """Totals of the drafts and published invoices dated in the months first..last."""
    start, end = parse_invoice_month(first).isoformat(), parse_invoice_month(last).isoformat()
    with connect(warehouse) as con:
        return summary_of_months(
            lambda sql: con.execute(sql).fetchall(), lambda schema, table: table_exists(con, schema, table), start, end
        )


def summary_of_months(
    fetch: Callable[[str], list[tuple]], exists: Callable[[str, str], bool], start: str, end: str
) -> dict[str, object]:
    """The close's summary of the invoice dates start..end (ISO dates), in SQL both engines run:
    `fetch` runs a query, `exists` says whether a table has been built yet."""
    between = f"invoice_date between date '{date.fromisoformat(start)}' and date '{date.fromisoformat(end)}'"
    row = (0, 0, 0, 0, 0)
    if exists("marts", "fct_invoices"):
        row = fetch(
            f"""select
                (select count(distinct account_id) from marts.fct_invoices where {between}),
                (select count(*) from marts.fct_invoices where {between}),
                (select coalesce(sum(total), 0) from marts.fct_invoices where {between}),
                (select coalesce(sum(amount), 0) from marts.fct_invoice_lines where {between} and line_type = 'usf'),
                (select count(*) from marts.fct_rated_calls where {between})"""
        )[0]
    published = (0, 0)
    if exists("published", "invoices"):
        published = fetch(f"select count(*), coalesce(sum(total), 0) from published.invoices where {between}")[0]
    unapplied = (0, 0)
    if exists("marts", "fct_unapplied_adjustments"):
        unapplied = fetch(
            f"select count(*), coalesce(sum(amount), 0) from marts.fct_unapplied_adjustments where {between}"
        )[0]
    unbilled = {}
    if exists("marts", "fct_unbilled_calls"):
        by_reason = f"select reason, count(*) from marts.fct_unbilled_calls where {between} group by reason"
        unbilled = dict(sorted(fetch(by_reason)))
    return {
        "accounts": row[0],
        "invoices": row[1],
        "amount_billed": row[2],
        "usf_billed": row[3],
        "rated_calls": row[4],
        "unbilled_calls": unbilled,
        "unapplied_adjustments": unapplied[0],
        "unapplied_adjustments_amount": unapplied[1],
        "published_invoices": published[0],
        "published_total": published[1],
    }
