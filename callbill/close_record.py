"""How a close ended, in the audit (R-AUDIT-1) and then in the readers' snapshot, however the close
was started: `callbill close` records it after its run, the run-status sensors after a run from the
UI or a schedule. The snapshot is written after the record, so the Close status page shows the
outcome, and a failed close, which stops before the job's own snapshot step, refreshes it too."""

from __future__ import annotations

from typing import Any

from callbill.outputs.snapshot import write_snapshot
from callbill.warehouse import connect, record_event


def record_close_finished(details: dict[str, Any], invoice_month: str | None) -> None:
    """close_finished with the run's outcome (run_id, months, success, published, failed_checks,
    errors), then the readers' snapshot."""
    with connect() as con:
        record_event(con, "close_finished", details, invoice_month)
        write_snapshot(con)
