"""Read-only queries for the dashboards. Every figure is a query on a mart (models/marts/reports and
the receivables and commissions marts), so a SQL user and the dashboard agree to the cent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from callbill.outputs.snapshot import snapshot_path


class NoSnapshot(Exception):
    """No close has published anything yet."""


def open_snapshot(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    target = path or snapshot_path()
    if not target.exists():
        raise NoSnapshot(f"no readers' snapshot at {target}: run `callbill close YYYY-MM` first")
    return duckdb.connect(str(target), read_only=True)


def frame(sql: str, params: dict | list | None = None, path: Path | None = None) -> pd.DataFrame:
    """One short-lived read-only connection per query: a snapshot swapped in by a close is picked up."""
    with open_snapshot(path) as con:
        return con.execute(sql, params or {}).df()


def scalar(sql: str, params: dict | list | None = None, path: Path | None = None) -> object:
    with open_snapshot(path) as con:
        return con.execute(sql, params or {}).fetchone()[0]


def row(sql: str, params: dict | list | None = None, path: Path | None = None) -> tuple:
    """One row as DuckDB returns it: money stays Decimal (a DataFrame would make it float)."""
    with open_snapshot(path) as con:
        return con.execute(sql, params or {}).fetchone()


@dataclass
class LastClose:
    """The latest close in the audit: how it ended, and for a failed one what failed."""

    months: str
    at: object
    actor: str
    outcome: str  # running, published, drafts, failed
    errors: list[str]
    failing_checks: pd.DataFrame  # source, check, failing_rows, first_failing_row, message
    warnings: pd.DataFrame  # the same, of the checks that warned (the account is still billed)


def last_close(path: Path | None = None) -> LastClose | None:
    events = frame(
        "select event_type, event_at, actor, details from audit.billing_events "
        "where event_type in ('close_started', 'close_finished') order by event_id desc limit 1",
        path=path,
    )
    if events.empty:
        return None
    event = events.iloc[0]
    details = json.loads(event["details"])
    run_id = details.get("run_id")
    if event["event_type"] == "close_started":
        outcome = "running"
    elif not details.get("success"):
        outcome = "failed"
    else:
        outcome = "published" if details.get("published", True) else "drafts"

    def findings(event_type: str) -> pd.DataFrame:
        return frame(
            """
            select details->>'source' as source, details->>'check' as "check",
                   details->>'failing_rows' as failing_rows,
                   cast(details->'first_failing_rows'->0 as varchar) as first_failing_row,
                   details->>'message' as message
            from audit.billing_events
            where event_type = $event_type and details->>'run_id' = $run_id
            order by details->>'check', event_id
            """,
            {"event_type": event_type, "run_id": run_id},
            path=path,
        )

    months = details.get("months", "")
    first, _, last = months.partition("..")
    return LastClose(
        months=first if first == last or not last else months,
        at=event["event_at"],
        actor=event["actor"],
        outcome=outcome,
        errors=[e for e in details.get("errors", []) if e],
        failing_checks=findings("check_failed"),
        warnings=findings("check_warned"),
    )
