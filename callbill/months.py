"""Invoice months (YYYY-MM: the invoices dated YYYY-MM-01), the keys of the close's monthly partitions,
and the dbt vars the models, the schedules and the exports share."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FIRST_INVOICE_MONTH = "2024-01"


def last_invoice_month() -> str:
    """The current month: its invoices are closed in its first week (the partitions' end offset)."""
    return datetime.now(UTC).strftime("%Y-%m")


def parse_invoice_month(key: str) -> date:
    """'2026-05' -> date(2026, 5, 1); a clear error for anything else, or for a month outside the
    partitions (Dagster would fail on it with its own internals)."""
    last = last_invoice_month()
    expected = f"invoice month must be YYYY-MM from {FIRST_INVOICE_MONTH} to {last}, got {key!r}"
    try:
        # strptime alone takes '2026-5', which is no partition key
        month = datetime.strptime(key, "%Y-%m").date() if re.fullmatch(r"[0-9]{4}-[0-9]{2}", key) else None
    except ValueError:
        month = None
    if month is None or not FIRST_INVOICE_MONTH <= key <= last:
        raise ValueError(expected)
    return month


def dbt_vars_for_invoice_months(first_key: str, last_key: str) -> dict[str, str]:
    """Partition key (or backfill range of keys) -> the dbt vars that select the months to build."""
    first, last = parse_invoice_month(first_key), parse_invoice_month(last_key)
    if last < first:
        raise ValueError(f"invoice month range ends before it starts: {first_key}..{last_key}")
    return {"invoice_month_start": first.isoformat(), "invoice_month_end": last.isoformat()}


def invoice_month_environment(dbt_vars: dict[str, str]) -> dict[str, str]:
    """The months as dbt reads them at run time (macros/calendar.sql): CALLBILL_INVOICE_MONTH_START / _END.
    Environment, not --vars: changing --vars makes every dbt invocation re-parse the whole project."""
    return {f"CALLBILL_{name.upper()}": value for name, value in dbt_vars.items()}


def parse_invoice_month_range(spec: str) -> tuple[str, str]:
    """'2026-05' -> ('2026-05', '2026-05'); '2026-02..2026-04' -> a backfill range, checked."""
    first, dots, last = spec.partition("..")
    if dots and not (first and last):
        raise ValueError(f"a range of invoice months is YYYY-MM..YYYY-MM, got {spec!r}")
    last = last or first
    dbt_vars_for_invoice_months(first, last)  # validates both keys and their order
    return first, last


@functools.cache
def project_vars() -> dict[str, Any]:
    """The dbt vars of dbt_project.yml: the suites' SQL, the schedules and the exports read the values
    the models read (the autopay and payout days among them)."""
    import yaml

    return yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project.yml").read_text())["vars"]
