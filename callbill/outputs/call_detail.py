"""`callbill calls`: the call detail behind one invoice (R-RATE-6), as CSV."""

from pathlib import Path

from callbill.months import parse_invoice_month
from callbill.warehouse import connect, table_exists

# The guide's call-detail columns, in its order.
CALL_DETAIL_COLUMNS = (
    "call_id, source_number, destination_number, start_time_utc, end_time_utc, duration_sec, "
    "billable_minutes, total_cost, rate_per_minute, call_type, destination, is_late, invoice_line_id, "
    # where the call was landed from: its switch (R-CDR; empty for cdrs/ files), file and line
    "switch_id, source_file, source_line"
)


class InvoiceNotFound(Exception):
    pass


def write_call_detail(
    account_id: str, invoice_month: str, out: Path, warehouse: Path | None = None
) -> tuple[int, bool]:
    """Published invoices read the calls as published; drafts read the current build. Returns the
    number of calls and whether the invoice is a draft."""
    invoice_date = parse_invoice_month(invoice_month).isoformat()
    with connect(warehouse) as con:
        published = con.execute(
            "select invoice_id from published.invoices where account_id = ? and invoice_date = ?",
            [account_id, invoice_date],
        ).fetchone()
        source = "published.rated_calls"
        if not published:
            draft = (
                table_exists(con, "marts", "fct_invoices")
                and con.execute(
                    "select invoice_id from marts.fct_invoices where account_id = ? and invoice_date = ?",
                    [account_id, invoice_date],
                ).fetchone()
            )
            if not draft:
                raise InvoiceNotFound(f"no invoice for account {account_id} dated {invoice_date}")
            source = "marts.fct_rated_calls"
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""
            copy (
                select {CALL_DETAIL_COLUMNS} from {source}
                where account_id = $account and invoice_date = $invoice_date and line_type is not null
                order by start_time_utc, call_id
            ) to '{str(out).replace("'", "''")}' (header, delimiter ',')
            """,
            {"account": account_id, "invoice_date": invoice_date},
        )
        count = con.execute(
            f"select count(*) from {source} where account_id = ? and invoice_date = ? and line_type is not null",
            [account_id, invoice_date],
        ).fetchone()[0]
        return count, not published
