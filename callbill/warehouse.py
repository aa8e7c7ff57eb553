"""The warehouse file: where it is, how to connect, and the tables callbill itself owns.

dbt owns staging, intermediate and marts. The loader owns `raw`, the close owns
`published`, and every step writes `audit`. Those three are created here.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

DEFAULT_WAREHOUSE = "warehouse/callbill.duckdb"

OWNED_SCHEMAS_DDL = """
create schema if not exists raw;
create schema if not exists published;
create schema if not exists audit;

create table if not exists raw.landed_files (
    file_path varchar not null,
    entity varchar not null,
    sha256 varchar not null primary key,
    rows_landed bigint not null,
    rows_accepted bigint not null,
    rows_quarantined bigint not null,
    landed_at timestamp not null
);

create table if not exists raw.quarantine (
    entity varchar not null,
    file_path varchar not null,
    line_number bigint,
    raw_text varchar,
    reason varchar not null,
    landed_at timestamp not null
);

create sequence if not exists audit.billing_event_ids;
create table if not exists audit.billing_events (
    event_id bigint primary key default nextval('audit.billing_event_ids'),
    event_at timestamp not null,
    actor varchar not null,
    event_type varchar not null,
    invoice_month date,
    details json
);

create table if not exists published.invoices (
    invoice_id varchar not null primary key,
    account_id varchar not null,
    invoice_date date not null,
    due_date date not null,
    autopay_date date,
    subtotal decimal(18, 2) not null,
    tax_total decimal(18, 2) not null,
    total decimal(18, 2) not null,
    status varchar not null,
    published_at timestamp not null,
    account_name varchar,
    tax_exempt_certificate_id varchar
);

create table if not exists published.invoice_months (
    invoice_date date not null primary key,
    published_at timestamp not null,
    calls_landed_through timestamp,
    invoices bigint not null,
    total decimal(18, 2) not null
);

-- What each partner payout file paid (R-COMM-1), written once by the payout run of its 15th and
-- never changed: a commission is paid once, and a paid spiff whose payment was reversed is clawed back.
create table if not exists published.commission_payouts (
    payout_date date not null,
    partner_id varchar not null,
    account_id varchar not null,
    invoice_id varchar not null,
    commission_type varchar not null,
    basis_amount decimal(18, 2) not null,
    amount decimal(18, 2) not null,
    earned_date date,
    paid_at timestamp not null
);

create table if not exists published.invoice_lines (
    invoice_line_id varchar not null primary key,
    invoice_id varchar not null,
    account_id varchar not null,
    invoice_date date not null,
    line_type varchar not null,
    product_code varchar,
    description varchar not null,
    quantity decimal(18, 4) not null,
    unit_price decimal(18, 6),
    amount decimal(18, 2) not null,
    service_period_start date,
    service_period_end date,
    item_ids varchar[],
    line_key varchar
);

-- Columns added after a warehouse was first created, at the end, so readers of the older columns
-- keep working. Invoices published before a column existed have it empty.
alter table published.invoices add column if not exists account_name varchar;
-- R-TAX-2: the exemption certificate is kept on the invoice, for auditors.
alter table published.invoices add column if not exists tax_exempt_certificate_id varchar;
alter table published.invoice_lines add column if not exists item_ids varchar[];
alter table published.invoice_lines add column if not exists line_key varchar;
-- R-INV-2: what each month's published calls were when published (callbill/published_calls.py).
alter table published.invoice_months add column if not exists rated_calls bigint;
alter table published.invoice_months add column if not exists rated_calls_cost decimal(38, 8);
alter table published.invoice_months add column if not exists rated_calls_fingerprint ubigint;
alter table published.invoice_months add column if not exists rated_calls_hashed_by varchar;
"""


@contextmanager
def environment_variables(values: dict[str, str]) -> Iterator[None]:
    """Set these environment variables for the block, then restore what was there before."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def warehouse_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--warehouse, else CALLBILL_WAREHOUSE, else the default under the working directory."""
    raw = explicit or os.environ.get("CALLBILL_WAREHOUSE") or DEFAULT_WAREHOUSE
    return Path(raw).expanduser().resolve()


def utc_now() -> datetime:
    """Naive UTC timestamp: every timestamp in the warehouse is UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def actor() -> str:
    """Who runs a billing step: DAGSTER_USER if set, else the OS user."""
    return os.environ.get("DAGSTER_USER") or getpass.getuser()


@contextmanager
def connect(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """One short-lived read-write connection; DuckDB allows one writer per file, so never hold it."""
    target = path or warehouse_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target))
    try:
        # A deliberate cap (the dbt profile sets the same): beyond it DuckDB spills to <warehouse>.tmp.
        con.execute(f"set memory_limit = '{memory_limit()}'")
        con.execute(OWNED_SCHEMAS_DDL)
        keep_published_calls_by_reference(con)
        yield con
    finally:
        con.close()


# The columns of a published call (R-RATE-6), in marts.fct_rated_calls's order. Where a call came
# from (R-CDR): its switch (null for cdrs/ files), landed file and line.
PUBLISHED_CALL_COLUMNS = (
    "call_id, account_id, invoice_id, invoice_date, call_type, source_number, destination_number, destination, "
    "start_time_utc, end_time_utc, duration_sec, billable_seconds, billable_minutes, included_minutes_used, "
    "overage_minutes, rate_per_minute, total_cost, line_type, is_late, switch_id, source_file, source_line, "
    "invoice_line_id"
)
# published.rated_calls before the first build has made marts.fct_rated_calls: no call, the same shape.
NO_PUBLISHED_CALLS = """
    select
        cast(null as varchar) as call_id, cast(null as varchar) as account_id, cast(null as varchar) as invoice_id,
        cast(null as date) as invoice_date, cast(null as varchar) as call_type,
        cast(null as varchar) as source_number, cast(null as varchar) as destination_number,
        cast(null as varchar) as destination, cast(null as timestamp) as start_time_utc,
        cast(null as timestamp) as end_time_utc, cast(null as bigint) as duration_sec,
        cast(null as bigint) as billable_seconds, cast(null as decimal(18, 4)) as billable_minutes,
        cast(null as decimal(18, 4)) as included_minutes_used, cast(null as decimal(18, 4)) as overage_minutes,
        cast(null as decimal(18, 6)) as rate_per_minute, cast(null as decimal(18, 8)) as total_cost,
        cast(null as varchar) as line_type, cast(null as boolean) as is_late, cast(null as varchar) as switch_id,
        cast(null as varchar) as source_file, cast(null as bigint) as source_line,
        cast(null as varchar) as invoice_line_id
    where false
"""
# Publication by reference (R-INV-2): a published month's calls stay where the rating wrote them, in
# marts.fct_rated_calls, which never rewrites a published month's rows (nor is rebuilt from scratch:
# full_refresh = false); published.rated_calls is a view of the published months' rows, and their
# fingerprint (callbill/published_calls.py) catches a row changed there after publication.
PUBLISHED_CALLS_VIEW = f"""
    create or replace view published.rated_calls as
    select {PUBLISHED_CALL_COLUMNS}
    from marts.fct_rated_calls
    where invoice_date in (select invoice_date from published.invoice_months)
"""


def prepare_sources_for_dbt(path: Path | None = None) -> None:
    """The schemas callbill owns and published.rated_calls's view over the rated calls, as dbt's
    sources read them: what every connection makes sure of, made before dbt opens the warehouse."""
    with connect(path):
        pass


def keep_published_calls_by_reference(con: duckdb.DuckDBPyConnection) -> None:
    """published.rated_calls as the view of the published months' calls in marts.fct_rated_calls
    (an empty view until the first build made it); a warehouse whose published calls are still a
    copy (a table) has them moved into marts.fct_rated_calls first (`move_published_calls`)."""
    found = con.execute(
        "select table_type, (select sql from duckdb_views() where schema_name = 'published' "
        "and view_name = 'rated_calls' and database_name = current_database()) "
        "from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'published' and table_name = 'rated_calls'"
    ).fetchone()
    kind, view_sql = found or (None, None)
    rated = table_exists(con, "marts", "fct_rated_calls")
    if kind == "BASE TABLE":
        move_published_calls(con, rated)
    elif rated and "fct_rated_calls" not in (view_sql or ""):
        con.execute(PUBLISHED_CALLS_VIEW)
    elif not rated and (kind is None or "fct_rated_calls" in (view_sql or "")):
        # No mart (yet, or dropped): no call is published; a published month's fingerprint says so.
        con.execute(f"create or replace view published.rated_calls as {NO_PUBLISHED_CALLS}")


def move_published_calls(con: duckdb.DuckDBPyConnection, rated: bool) -> None:
    """A warehouse from before publication by reference: the published copy of each published month's
    calls replaces that month's rows in marts.fct_rated_calls (the copy is what was published), and
    the table becomes the view; one transaction, audited."""
    con.execute("begin transaction")
    try:
        copied = [row[0] for row in con.execute("describe published.rated_calls").fetchall()]
        wanted = [column.strip() for column in PUBLISHED_CALL_COLUMNS.split(",")]
        columns = ", ".join(column for column in wanted if column in copied)
        if rated:
            con.execute(
                "delete from marts.fct_rated_calls "
                "where invoice_date in (select invoice_date from published.invoice_months)"
            )
        else:
            con.execute("create schema if not exists marts")
            con.execute(f"create table marts.fct_rated_calls as {NO_PUBLISHED_CALLS}")
        con.execute(f"insert into marts.fct_rated_calls by name select {columns} from published.rated_calls")
        calls, months = con.execute(
            "select count(*), list(distinct strftime(invoice_date, '%Y-%m') order by 1) from published.rated_calls"
        ).fetchone()
        con.execute("drop table published.rated_calls")
        con.execute(PUBLISHED_CALLS_VIEW)
        record_event(con, "published_calls_by_reference", {"calls": calls, "months": months or []})
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def memory_limit() -> str:
    """DuckDB's memory cap, CALLBILL_DUCKDB_MEMORY_LIMIT (default 6GB), checked before it reaches SQL."""
    value = os.environ.get("CALLBILL_DUCKDB_MEMORY_LIMIT", "6GB").strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*[KMGT]i?B", value, flags=re.IGNORECASE):
        raise ValueError(f"CALLBILL_DUCKDB_MEMORY_LIMIT must be a size like 5GB, got {value!r}")
    return value


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(found and found[0])


def record_event(
    con: duckdb.DuckDBPyConnection,
    event_type: str,
    details: dict[str, Any],
    invoice_month: str | None = None,
) -> None:
    """R-AUDIT-1: append one row to audit.billing_events."""
    con.execute(
        "insert into audit.billing_events (event_at, actor, event_type, invoice_month, details) values (?, ?, ?, ?, ?)",
        [utc_now(), actor(), event_type, invoice_month, json.dumps(details, default=str, sort_keys=True)],
    )
