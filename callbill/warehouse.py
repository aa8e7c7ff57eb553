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

-- No primary key: an index over every published call costs more than copying the month's calls;
-- publication checks in its transaction that none of them is published already (R-INV-2).
create table if not exists published.rated_calls (
    call_id varchar not null,
    account_id varchar not null,
    invoice_id varchar not null,
    invoice_date date not null,
    call_type varchar,
    source_number varchar,
    destination_number varchar,
    destination varchar,
    start_time_utc timestamp,
    end_time_utc timestamp,
    duration_sec bigint,
    billable_seconds bigint,
    billable_minutes decimal(18, 4),
    included_minutes_used decimal(18, 4),
    overage_minutes decimal(18, 4),
    rate_per_minute decimal(18, 6),
    total_cost decimal(18, 8),
    line_type varchar,
    is_late boolean,
    invoice_line_id varchar
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
alter table published.rated_calls add column if not exists is_late boolean;
-- Where a call came from (R-CDR): its switch (null for cdrs/ files), landed file and line.
alter table published.rated_calls add column if not exists switch_id varchar;
alter table published.rated_calls add column if not exists source_file varchar;
alter table published.rated_calls add column if not exists source_line bigint;
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
        yield con
    finally:
        con.close()


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
