"""A published month's rated calls never change (R-INV-2). Publication records their fingerprint
in published.invoice_months: how many, their total cost, and an order-free hash over each call's id
and cost. Every later close (the blocking check `published_calls_unchanged`) and `callbill status`
compare the published calls with it, so a row altered or removed after publication is found, and its
month named."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

CHECK = "published_calls_unchanged"


def fingerprint_sql(which_months: str) -> str:
    """One row per invoice_date of published.rated_calls matching `which_months` (SQL, $-parameters):
    rated_calls, rated_calls_cost, rated_calls_fingerprint. md5, not DuckDB's hash(): it must
    give the same number after a DuckDB upgrade."""
    return f"""
        select
            invoice_date,
            count(*) as rated_calls,
            coalesce(sum(total_cost), 0) as rated_calls_cost,
            coalesce(bit_xor(md5_number_lower(call_id || '|' || cast(total_cost as varchar))), 0)
                as rated_calls_fingerprint
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
    """The published months whose rated calls differ from their fingerprint, oldest first."""
    recorded = (
        "invoice_date in (select invoice_date from published.invoice_months where rated_calls_fingerprint is not null)"
    )
    rows = con.execute(
        f"""
        with now as ({fingerprint_sql(recorded)})
        select strftime(months.invoice_date, '%Y-%m'), months.rated_calls, months.rated_calls_cost,
            coalesce(now.rated_calls, 0), coalesce(now.rated_calls_cost, 0)
        from published.invoice_months as months
        left join now on months.invoice_date = now.invoice_date
        where months.rated_calls_fingerprint is not null
            and (months.rated_calls, months.rated_calls_cost, months.rated_calls_fingerprint)
                is distinct from (
                    coalesce(now.rated_calls, 0), coalesce(now.rated_calls_cost, 0),
                    coalesce(now.rated_calls_fingerprint, 0)
                )
        order by months.invoice_date
        """
    ).fetchall()
    return [ChangedMonth(*row) for row in rows]


def record_missing_fingerprints(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Months published before publication recorded fingerprints get them now, from their calls as
    they are (the first close after the upgrade vouches for them, and says so in the audit)."""
    missing = [
        month
        for (month,) in con.execute(
            "select strftime(invoice_date, '%Y-%m') from published.invoice_months "
            "where rated_calls_fingerprint is null order by invoice_date"
        ).fetchall()
    ]
    if missing:
        without_fingerprint = (
            "invoice_date in (select invoice_date from published.invoice_months where rated_calls_fingerprint is null)"
        )
        con.execute(
            f"""
            update published.invoice_months as months
            set rated_calls = coalesce(now.rated_calls, 0),
                rated_calls_cost = coalesce(now.rated_calls_cost, 0),
                rated_calls_fingerprint = coalesce(now.rated_calls_fingerprint, 0)
            from published.invoice_months as unrecorded
            left join ({fingerprint_sql(without_fingerprint)}) as now on unrecorded.invoice_date = now.invoice_date
            where months.invoice_date = unrecorded.invoice_date and months.rated_calls_fingerprint is null
            """
        )
    return missing
