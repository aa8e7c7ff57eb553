"""`callbill calls`: the call detail behind one invoice (R-RATE-6), as CSV.

The guide's columns first, as they always were, then what was appended (#25.6): whether the call drew
on the plan's minutes and how many seconds of it, and its local times with their zone. `total_cost`
is the call's cost as billed: nothing for seconds in the plan, the rest at its rate, unrounded (the
sum of a line's calls, rounded once, is the line's amount). A call to an extension (an internal call)
names the extension as its destination."""

from pathlib import Path

from callbill.months import parse_invoice_month
from callbill.warehouse import connect, table_exists

# The guide's call-detail columns, in its order; then where the call was landed from (its switch,
# empty for cdrs/ files, file and line); then the columns appended after (#25.6).
CALL_DETAIL_COLUMNS = (
    "call_id, source_number, destination_number, start_time_utc, end_time_utc, duration_sec, "
    "billable_minutes, total_cost, rate_per_minute, call_type, destination, is_late, invoice_line_id, "
    "switch_id, source_file, source_line, "
    "included, included_seconds, start_time_local, end_time_local, time_zone"
)
# An extension is 2 to 6 digits (CONTRACT.md, R-CDR-3); a call to one has no rate deck destination.
EXTENSION = "^[0-9]{2,6}$"


class InvoiceNotFound(Exception):
    pass


def call_detail_sql(source: str, with_state_zones: bool) -> str:
    """The invoice's billed calls with the CSV's columns. Local time is the account's: the zone of
    its billing state (seed state_time_zones), else its switch's registered zone, else UTC."""
    state_zone = "zones.time_zone" if with_state_zones else "cast(null as varchar)"
    zones_join = (
        "left join reference.state_time_zones as zones "
        "on accounts.billing_country = zones.country_code and accounts.billing_state = zones.state"
        if with_state_zones
        else ""
    )
    return f"""
        with calls as (
            select
                calls.*,
                coalesce({state_zone}, switches.timezone, 'UTC') as zone
            from {source} as calls
            left join staging.stg_landing__accounts as accounts on calls.account_id = accounts.account_id
            {zones_join}
            left join staging.stg_landing__switches as switches on calls.switch_id = switches.switch_id
            where calls.account_id = $account and calls.invoice_date = $invoice_date and calls.line_type is not null
        )
        select
            call_id, source_number, destination_number, start_time_utc, end_time_utc, duration_sec,
            billable_minutes, total_cost, rate_per_minute, call_type,
            case
                when destination is null and regexp_full_match(destination_number, '{EXTENSION}')
                    then 'extension ' || destination_number
                else destination
            end as destination,
            is_late, invoice_line_id, switch_id, source_file, source_line,
            included_minutes_used > 0 as included,
            cast(round(included_minutes_used * 60) as bigint) as included_seconds,
            timezone(zone, timezone('UTC', start_time_utc)) as start_time_local,
            timezone(zone, timezone('UTC', end_time_utc)) as end_time_local,
            zone as time_zone
        from calls
        order by start_time_utc, call_id
    """


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
        # a warehouse closed by an earlier callbill has no state_time_zones seed until its next close
        query = call_detail_sql(source, table_exists(con, "reference", "state_time_zones"))
        target = str(out).replace("'", "''")
        con.execute(
            f"copy ({query}) to '{target}' (header, delimiter ',')",
            {"account": account_id, "invoice_date": invoice_date},
        )
        count = con.execute(
            f"select count(*) from {source} where account_id = ? and invoice_date = ? and line_type is not null",
            [account_id, invoice_date],
        ).fetchone()[0]
        return count, not published
