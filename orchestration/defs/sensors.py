"""Sensors: land files as they appear in the landing folder; audit the end of every close run (R-AUDIT-1)."""

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from callbill.close_record import record_close_finished as write_close_finished
from callbill.landing.contract import LandingError
from callbill.landing.land import landing_files
from orchestration.defs.jobs import CLOSE_JOB_NAME, month_end_close
from orchestration.defs.landing import landed_files

LANDING_JOB_NAME = "land_new_files"

land_new_files = dg.define_asset_job(
    name=LANDING_JOB_NAME,
    selection=dg.AssetSelection.assets(landed_files),
    description="Lands every new file of the landing folder (a file already landed is a no-op).",
)


def landing_dir() -> Path:
    return Path(os.environ.get("CALLBILL_LANDING", "landing")).expanduser().resolve()


def file_fingerprints(folder: Path) -> dict[str, str]:
    """path -> size and modification time of every landable file; a rewritten file gets a new one."""
    files, _ = landing_files(folder)
    return {str(path): f"{path.stat().st_size}:{path.stat().st_mtime_ns}" for path, _ in files}


@dg.sensor(
    job=land_new_files,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts a landing run when files appear (or change) in the landing folder "
    "(env CALLBILL_LANDING, default ./landing).",
)
def new_landing_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    folder = landing_dir()
    try:
        current = file_fingerprints(folder)
    except LandingError as exc:
        return dg.SkipReason(str(exc))
    seen = json.loads(context.cursor) if context.cursor else {}
    new = sorted(path for path, fingerprint in current.items() if seen.get(path) != fingerprint)
    if not new:
        return dg.SkipReason(f"no new files in {folder}")
    run_key = hashlib.sha256(json.dumps([(p, current[p]) for p in new]).encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                run_config={"ops": {"landed_files": {"config": {"landing_dir": str(folder)}}}},
                tags={"callbill/new_files": str(len(new))},
            )
        ],
        cursor=json.dumps(current, sort_keys=True),
    )


def record_close_finished(
    instance: dg.DagsterInstance, run: dg.DagsterRun, success: bool, error: str | None = None
) -> bool:
    """close_finished for a run started from the UI or a schedule, naming its failed checks as
    `callbill close` does (which records its own), then the readers' snapshot."""
    if run.tags.get("callbill/command") == "close":
        return False
    months = run.tags.get("dagster/partition") or (
        f"{run.tags.get('dagster/asset_partition_range_start')}..{run.tags.get('dagster/asset_partition_range_end')}"
    )
    first = months.split("..")[0]
    checks = [
        record.event_log_entry.dagster_event.asset_check_evaluation_data
        for record in instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
        ).records
    ]
    materialized = {
        record.event_log_entry.dagster_event.asset_key
        for record in instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=10_000
        ).records
    }
    published = dg.AssetKey("publish_invoices") in materialized
    blocking = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    warned = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.WARN]
    write_close_finished(
        {
            "run_id": run.run_id,
            "months": months,
            "success": success,
            "published": published,
            "failed_checks": sorted(c.check_name for c in blocking),
            "warned_checks": sorted(c.check_name for c in warned),
            "errors": [error] if error else [],
            "started_by": "dagster",
        },
        f"{first}-01" if len(first) == 7 else None,
        snapshot_written=dg.AssetKey("reader_snapshot") in materialized,
    )
    return True


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[month_end_close],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Audits the end of every successful {CLOSE_JOB_NAME} run started in Dagster (R-AUDIT-1).",
)
def close_succeeded(context: dg.RunStatusSensorContext) -> None:
    record_close_finished(context.instance, context.dagster_run, success=True)


@dg.run_failure_sensor(
    monitored_jobs=[month_end_close],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Audits the end of every failed {CLOSE_JOB_NAME} run started in Dagster (R-AUDIT-1).",
)
def close_failed(context: dg.RunFailureSensorContext) -> None:
    record_close_finished(context.instance, context.dagster_run, success=False, error=context.failure_event.message)
