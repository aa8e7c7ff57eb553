"""Invoice months (YYYY-MM: the invoices dated YYYY-MM-01), the keys of the close's monthly partitions,
and the dbt vars the models, the schedules and the exports share."""

from __future__ import annotations

import functools
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

# The first month that can be closed: the month of the provider's first invoice with callbill. The
# partitions the Dagster UI shows and the months the command line accepts both start here.
FIRST_INVOICE_MONTH_VARIABLE = "CALLBILL_FIRST_INVOICE_MONTH"
DEFAULT_FIRST_INVOICE_MONTH = "2026-01"


def last_invoice_month() -> str:
    """The current month: its invoices are closed in its first week (the partitions' end offset)."""
    return datetime.now(UTC).strftime("%Y-%m")


def _month(key: str) -> date | None:
    try:
        # strptime alone takes '2026-5', which is no partition key
        return datetime.strptime(key, "%Y-%m").date() if re.fullmatch(r"[0-9]{4}-[0-9]{2}", key) else None
    except ValueError:
        return None


def first_invoice_month() -> str:
    """CALLBILL_FIRST_INVOICE_MONTH (YYYY-MM), default 2026-01; a clear error for a value that is no
    month or lies after the current month."""
    value = os.environ.get(FIRST_INVOICE_MONTH_VARIABLE, "").strip() or DEFAULT_FIRST_INVOICE_MONTH
    if _month(value) is None:
        raise ValueError(
            f"{FIRST_INVOICE_MONTH_VARIABLE} must be the first invoice month as YYYY-MM (e.g. 2026-01), got {value!r}"
        )
    if value > last_invoice_month():
        raise ValueError(
            f"{FIRST_INVOICE_MONTH_VARIABLE}={value} is after the current month {last_invoice_month()}: "
            "it is the first month to close"
        )
    return value


def parse_invoice_month(key: str) -> date:
    """'2026-05' -> date(2026, 5, 1); a clear error for anything else, or for a month outside the
    partitions (Dagster would fail on it with its own internals)."""
    first, last = first_invoice_month(), last_invoice_month()
    month = _month(key)
    if month is None or not first <= key <= last:
        raise ValueError(
            f"invoice month must be YYYY-MM from {first} ({FIRST_INVOICE_MONTH_VARIABLE}) to {last}, got {key!r}"
        )
    return month


def describe_invoice_month(key: str) -> str:
    """What a partition key means: '2026-05: invoices dated 1 May 2026 — May's recurring charges,
    April's usage' (R-CAL-1..3: recurring charges in advance, usage in arrears)."""
    month = _month(key)
    if month is None:
        raise ValueError(f"invoice month must be YYYY-MM, got {key!r}")
    usage = date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)
    usage_name = f"{usage:%B}" if usage.year == month.year else f"{usage:%B %Y}"
    return f"{key}: invoices dated 1 {month:%B %Y} — {month:%B}'s recurring charges, {usage_name}'s usage"


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


def add_months(month: date, months: int) -> date:
    """The first day of the month `months` after (or before) month's."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
