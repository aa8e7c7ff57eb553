"""A published month's rated calls never change (R-INV-2). Publication records their fingerprint
in published.invoice_months: how many, their total cost, and an order-free hash over each call's id
and cost, with the DuckDB version that hashed them. Every later close (the blocking check
`published_calls_unchanged`) and `callbill status` compare the published calls with it, so a row
altered or removed after publication is found, and its month named."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

CHECK = "published_calls_unchanged"
# DuckDB's hash(), not md5: every close hashes every published month, and md5 is far slower
# (BENCHMARKS); a DuckDB release may change hash()'s values, so the version that hashed is kept.
HASHED_BY = "'duckdb ' || version()"


def fingerprint_sql(which_months: str) -> str:
    """One row per invoice_date of published.rated_calls matching `which_months` (SQL, $-parameters):
    rated_calls, rated_calls_cost, rated_calls_fingerprint."""
    return f"""
        select
            invoice_date,
            count(*) as rated_calls,
            coalesce(sum(total_cost), 0) as rated_calls_cost,
            coalesce(bit_xor(hash(call_id, total_cost)), 0) as rated_calls_fingerprint
        from published.rated_calls
        where {which_months}
        group by invoice_date
    """


@dataclass(frozen=True)
class ChangedMonth:
    invoice_month: str
    published_calls: int
    published_cost: Decimal
    calls_now: int
    cost_now: Decimal

    def message(self) -> str:
        then = f"{self.published_calls:,} call(s) costing {self.published_cost:,.2f} when published"
        now = f"{self.calls_now:,} costing {self.cost_now:,.2f} now"
        same = self.published_calls == self.calls_now and self.published_cost == self.cost_now
        what = "a call's id or cost differs" if same else now
        return f"{self.invoice_month}: the published rated calls changed since publication ({then}; {what})"

    def details(self) -> dict[str, object]:
        return {
            "invoice_month": self.invoice_month,
            "published_calls": self.published_calls,
            "published_cost": str(self.published_cost),
            "calls_now": self.calls_now,
            "cost_now": str(self.cost_now),
        }


def changed_months(con: duckdb.DuckDBPyConnection) -> list[ChangedMonth]:
    """The published months whose rated calls differ from their fingerprint, oldest first. A hash
    made by another DuckDB version is not compared (its count and cost are)."""
    recorded = "invoice_date in (select invoice_date from published.invoice_months where rated_calls is not null)"
    rows = con.execute(
        f"""
        with now as ({fingerprint_sql(recorded)})
        select strftime(months.invoice_date, '%Y-%m'), months.rated_calls, months.rated_calls_cost,
            coalesce(now.rated_calls, 0), coalesce(now.rated_calls_cost, 0)
        from published.invoice_months as months
        left join now on months.invoice_date = now.invoice_date
        where months.rated_calls is not null
            and (
                months.rated_calls <> coalesce(now.rated_calls, 0)
                or months.rated_calls_cost <> coalesce(now.rated_calls_cost, 0)
                or (
                    months.rated_calls_hashed_by = {HASHED_BY}
                    and months.rated_calls_fingerprint <> coalesce(now.rated_calls_fingerprint, 0)
                )
            )
        order by months.invoice_date
        """
    ).fetchall()
    return [ChangedMonth(*row) for row in rows]


def record_fingerprints(con: duckdb.DuckDBPyConnection, condition: str, params: dict | None = None) -> None:
    """Record the fingerprint of the rows of published.invoice_months matching `condition` (SQL,
    $-parameters) from their calls as they are now."""
    chosen_months = f"invoice_date in (select invoice_date from published.invoice_months where {condition})"
    con.execute(
        f"""
        update published.invoice_months as months
        set rated_calls = coalesce(now.rated_calls, 0),
            rated_calls_cost = coalesce(now.rated_calls_cost, 0),
            rated_calls_fingerprint = coalesce(now.rated_calls_fingerprint, 0),
            rated_calls_hashed_by = {HASHED_BY}
        from (select invoice_date from published.invoice_months where {condition}) as chosen
        left join ({fingerprint_sql(chosen_months)}) as now using (invoice_date)
        where months.invoice_date = chosen.invoice_date
        """,
        params or {},
    )


def record_missing_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Months published before fingerprints existed get theirs now, from their calls as they are
    (the first close after the upgrade vouches for them); months hashed by another DuckDB version,
    whose count and cost still match (changed_months ran first), are hashed again."""
    kinds = {
        "published before fingerprints": "rated_calls is null",
        "hashed by another DuckDB version": f"rated_calls_hashed_by <> {HASHED_BY}",
    }
    recorded = {}
    for reason, condition in kinds.items():
        months = [
            month
            for (month,) in con.execute(
                f"select strftime(invoice_date, '%Y-%m') from published.invoice_months where {condition} order by 1"
            ).fetchall()
        ]
        if months:
            record_fingerprints(con, condition)
            recorded[reason] = months
    return recorded
