"""Files for the outside world: the autopay charge file (R-CAL-5) and partner payout files (R-COMM-1).

Both read marts that dbt built after publication (what to charge, what to pay: SQL lives in the
models); each run rewrites its month's files whole, and a payout records what it paid in its ledger.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from callbill.months import parse_invoice_month, project_vars
from callbill.warehouse import connect, record_event, utc_now, warehouse_path

AUTOPAY_DAY = project_vars()["autopay_day"]  # R-CAL-5
PAYOUT_DAY = project_vars()["payout_day"]  # R-COMM-1
AUTOPAY_COLUMNS = ("autopay_date", "account_id", "invoice_id", "amount", "payment_method")
PAYOUT_COLUMNS = ("partner_id", "account_id", "invoice_id", "commission_type", "basis_amount", "amount", "earned_date")


def exports_dir() -> Path:
    """Where files for payment processors and partners go: CALLBILL_EXPORTS, else next to the warehouse."""
    return Path(os.environ.get("CALLBILL_EXPORTS") or warehouse_path().parent / "exports")


@dataclass
class ExportResult:
    run_date: date
    files: list[Path] = field(default_factory=list)
    rows: int = 0
    total: Decimal = Decimal("0.00")
    by_file: dict[str, dict[str, object]] = field(default_factory=dict)


def _write(path: Path, columns: tuple[str, ...], rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    tmp.replace(path)  # readers never see half a file


class MonthNotPublished(ValueError):
    """The autopay run charges published invoices: an unpublished month would write an empty file
    that looks like a real run."""


def require_published(con: duckdb.DuckDBPyConnection, invoice_month: str) -> date:
    invoice_date = parse_invoice_month(invoice_month)
    published = con.execute(
        "select count(*) from published.invoice_months where invoice_date = ?", [invoice_date]
    ).fetchone()[0]
    if not published:
        raise MonthNotPublished(f"{invoice_month} is not published: close it first (`callbill close {invoice_month}`)")
    return invoice_date


def write_autopay_file(con: duckdb.DuckDBPyConnection, invoice_month: str, out_dir: Path | None = None) -> ExportResult:
    """The charges of the month's autopay run (the 10th): one row per open invoice of an autopay account."""
    invoice_date = require_published(con, invoice_month)
    rows = con.execute(
        f"select {', '.join(AUTOPAY_COLUMNS)} from marts.rpt_autopay_charges "
        "where invoice_month = ? order by account_id, invoice_id",
        [invoice_date],
    ).fetchall()
    return autopay_file(con, rows, invoice_month, out_dir)


def write_autopay_file_on_spark(invoice_month: str, out_dir: Path | None = None) -> ExportResult:
    """write_autopay_file from the Spark tables of a Spark close; the audit event in the warehouse."""
    from callbill import spark_warehouse

    spark = spark_warehouse.session()
    invoice_date = parse_invoice_month(invoice_month)
    if not spark_warehouse.is_published(spark, invoice_date.isoformat()):
        raise MonthNotPublished(
            f"{invoice_month} is not published on Spark: close it first "
            f"(`callbill --engine spark close {invoice_month}`)"
        )
    rows = spark_warehouse.rows(
        spark,
        f"select {', '.join(AUTOPAY_COLUMNS)} from marts.rpt_autopay_charges "
        f"where invoice_month = {spark_warehouse.day(invoice_date)} order by account_id, invoice_id",
    )
    with connect() as con:
        return autopay_file(con, rows, invoice_month, out_dir)


def autopay_file(
    con: duckdb.DuckDBPyConnection, rows: list[tuple], invoice_month: str, out_dir: Path | None
) -> ExportResult:
    """The autopay file of these charges, and its audit event."""
    invoice_date = parse_invoice_month(invoice_month)
    result = ExportResult(run_date=rows[0][0] if rows else invoice_date.replace(day=AUTOPAY_DAY))
    path = (out_dir or exports_dir() / "autopay") / f"autopay_{invoice_month}.csv"
    _write(path, AUTOPAY_COLUMNS, rows)
    result.files.append(path)
    result.rows = len(rows)
    result.total = sum((r[3] for r in rows), Decimal("0.00"))
    record_event(
        con,
        "autopay_file",
        {"file": str(path), "charges": result.rows, "accounts": len({r[1] for r in rows}), "total": str(result.total)},
        invoice_date.isoformat(),
    )
    return result


def record_payouts_sent_before_the_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """Payouts run before the ledger existed (audit events without `reproduced`) paid the commissions
    dated their 15th: recorded as paid, once, so the ledger does not pay them again."""
    if con.execute("select count(*) from audit.billing_events where event_type = 'payout_ledger_started'").fetchone()[
        0
    ]:
        return
    con.execute(
        f"""
        insert into published.commission_payouts ({", ".join(PAYOUT_COLUMNS)}, payout_date, paid_at)
        with legacy_runs as (
            select cast(details->>'payout_date' as date) as payout_date, min(event_at) as paid_at
            from audit.billing_events
            where event_type = 'commission_payout' and details->>'reproduced' is null
            group by 1
        )
        select {", ".join(f"due.{c}" for c in PAYOUT_COLUMNS)}, due.payout_date, legacy_runs.paid_at
        from marts.fct_commissions as due
        inner join legacy_runs
            on due.payout_date = legacy_runs.payout_date
        where legacy_runs.payout_date not in (select payout_date from published.commission_payouts)
        """
    )
    recorded = con.execute("select count(*), coalesce(sum(amount), 0) from published.commission_payouts").fetchone()
    record_event(con, "payout_ledger_started", {"payouts_recorded": recorded[0], "amount": str(recorded[1])})


def write_payout_files(con: duckdb.DuckDBPyConnection, invoice_month: str, out_dir: Path | None = None) -> ExportResult:
    """The partner payout of the 15th of the month (R-COMM-1), one file per partner: every commission
    due by then that no earlier payout paid, and a clawback of each paid spiff whose first invoice is
    no longer paid in full. Recorded in published.commission_payouts; a payout run again rewrites
    the files it sent, unchanged."""
    payout_date = parse_invoice_month(invoice_month).replace(day=PAYOUT_DAY)
    columns = ", ".join(PAYOUT_COLUMNS)
    con.execute("begin transaction")
    try:
        record_payouts_sent_before_the_ledger(con)
        # A payout that ran before (its audit event) is reproduced, even one that paid nothing.
        ran_before = paid_before(con, payout_date)
        if not ran_before:
            # What is due by the payout date (the dbt model marts.rpt_payouts_due), recorded as paid
            # by it: a clawback of a reversed spiff has no dates of its own, it is due at this payout
            # and earned on its date.
            con.execute(
                f"""
                insert into published.commission_payouts ({columns}, payout_date, paid_at)
                select
                    partner_id, account_id, invoice_id, commission_type, basis_amount, amount,
                    coalesce(earned_date, $payout_date), $payout_date, $paid_at
                from marts.rpt_payouts_due
                where coalesce(payout_date, $payout_date) <= $payout_date
                """,
                {"payout_date": payout_date, "paid_at": utc_now()},
            )
        rows = con.execute(
            f"select {columns} from published.commission_payouts where payout_date = ? "
            "order by partner_id, commission_type, account_id, invoice_id",
            [payout_date],
        ).fetchall()
        result = payout_files(con, rows, invoice_month, bool(ran_before), out_dir)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return result


def paid_before(con: duckdb.DuckDBPyConnection, payout_date: date) -> int:
    """Whether the payout of this date ran before (its audit event), even one that paid nothing."""
    return con.execute(
        "select count(*) from audit.billing_events where event_type = 'commission_payout' "
        "and details->>'payout_date' = ?",
        [payout_date.isoformat()],
    ).fetchone()[0]


def write_payout_files_on_spark(invoice_month: str, out_dir: Path | None = None) -> ExportResult:
    """write_payout_files from the Spark tables of a Spark close. What is due is appended to
    published.commission_payouts in one write (its job commits all of the payout or none), unless
    the payout ran before (its audit event) or its rows are there (a run stopped before its event):
    a commission is paid once. The audit event goes to the warehouse."""
    from callbill import spark_warehouse

    spark = spark_warehouse.session()
    payout_date = parse_invoice_month(invoice_month).replace(day=PAYOUT_DAY)
    day = spark_warehouse.day(payout_date)
    with connect() as con:
        ran_before = paid_before(con, payout_date)
    recorded = spark_warehouse.rows(
        spark, f"select count(*) from published.commission_payouts where payout_date = {day}"
    )[0][0]
    if not ran_before and not recorded:
        paid_at = f"timestamp '{utc_now().isoformat(sep=' ')}'"
        spark.sql(
            f"""
            insert into published.commission_payouts
            select {day}, partner_id, account_id, invoice_id, commission_type, basis_amount, amount,
                coalesce(earned_date, {day}), {paid_at}
            from marts.rpt_payouts_due
            where coalesce(payout_date, {day}) <= {day}
            """
        )
    rows = spark_warehouse.rows(
        spark,
        f"select {', '.join(PAYOUT_COLUMNS)} from published.commission_payouts where payout_date = {day} "
        "order by partner_id, commission_type, account_id, invoice_id",
    )
    with connect() as con:
        return payout_files(con, rows, invoice_month, bool(ran_before or recorded), out_dir)


def payout_files(
    con: duckdb.DuckDBPyConnection, rows: list[tuple], invoice_month: str, reproduced: bool, out_dir: Path | None
) -> ExportResult:
    """One file per partner of the payout's rows (the month's files rewritten whole), and its audit event."""
    payout_date = parse_invoice_month(invoice_month).replace(day=PAYOUT_DAY)
    result = ExportResult(run_date=payout_date)
    folder = out_dir or exports_dir() / "payouts" / invoice_month
    if folder.exists():
        for stale in folder.glob("*.csv"):
            stale.unlink()
    for partner in sorted({r[0] for r in rows}):
        partner_rows = [r for r in rows if r[0] == partner]
        path = folder / f"payout_{invoice_month}_{partner}.csv"
        _write(path, PAYOUT_COLUMNS, partner_rows)
        total = sum((r[5] for r in partner_rows), Decimal("0.00"))
        result.files.append(path)
        result.by_file[path.name] = {"rows": len(partner_rows), "total": str(total)}
    result.rows = len(rows)
    result.total = sum((r[5] for r in rows), Decimal("0.00"))
    record_event(
        con,
        "commission_payout",
        {
            "payout_date": payout_date.isoformat(),
            "partners": result.by_file,
            "total": str(result.total),
            "reproduced": reproduced,
        },
        payout_date.replace(day=1).isoformat(),
    )
    return result
