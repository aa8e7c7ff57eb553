"""How a close ended, in the audit (R-AUDIT-1) and then in the readers' snapshot, however the close
was started: `callbill close` records it after its run, the run-status sensors after a run from the
UI or a schedule. The snapshot is written after the record, so the Close status page shows the
outcome, and a failed close, which stops before the job's own snapshot step, refreshes it too.
After a run whose snapshot step ran, only the audit has changed since: only it is written again."""

from __future__ import annotations

from typing import Any

from callbill.outputs.snapshot import SNAPSHOT_SCHEMAS, write_snapshot
from callbill.warehouse import connect, record_event


def record_close_finished(details: dict[str, Any], invoice_month: str | None, snapshot_written: bool) -> None:
    """close_finished with the run's outcome (run_id, months, success, published, failed_checks,
    errors), then the readers' snapshot (its audit alone if the run's own step wrote the rest)."""
    with connect() as con:
        record_event(con, "close_finished", details, invoice_month)
        write_snapshot(con, schemas=("audit",) if snapshot_written else SNAPSHOT_SCHEMAS)
