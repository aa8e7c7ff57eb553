"""`callbill land`: load every file of a landing folder into schema `raw`.

Each file lands once (its sha256 is the key of raw.landed_files), in one
transaction: the rows that type-check go to raw.<entity>, the others to
raw.quarantine with the file, line, raw text and a reason. For every file
landed = accepted + quarantined.
"""

from __future__ import annotations

import csv
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from callbill.landing.switch_formats import SWITCH_FORMATS, SWITCH_TIME_GLOB, SwitchFormat
from callbill.months import project_vars
from callbill.warehouse import connect, record_event, utc_now

E164_OR_EXTENSION = r"^(\+[1-9][0-9]{1,14}|[0-9]{2,6})$"
MONEY = r"^-?[0-9]+(\.[0-9]{1,2})?$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z?$"
# The form nearly every row has (YYYY-MM-DDTHH:MM:SSZ): a GLOB settles it at a fraction of the
# regular expression's cost; any other form still goes through TIMESTAMP.
TIMESTAMP_COMMON_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z"
NOT_A_WHOLE_NUMBER_GLOB = "*[!0-9+ -]*"
UTC_OFFSET = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+Z?[+-][0-9]{2}(:?[0-9]{2})?$"
MAX_CALL_SECONDS = 24 * 3600
# Accounts land first: every other entity names a landed account; a switch's CDRs land after it.
LANDING_ORDER = (
    "accounts",
    "partners",
    "switches",
    "switch_tenants",
    "subscription_items",
    "account_changes",
    "cdrs",
    "switch_cdrs",
    "payments",
    "adjustments",
)
SWITCH_CDRS = "switch_cdrs"
# Numbering plans whose dialled forms the staging models know (R-CDR-3).
SWITCH_COUNTRIES = ("US", "CA")
RATE = r"^[0-9]+(\.[0-9]{1,6})?$"
CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
# PCI DSS 3.4: a run of 13+ digits may be a card number, and in last4 (or a payment line that did not
# parse) 5+ digits may be a bank account number; only the last four are kept, even in quarantine.
MASK_CARD_NUMBERS = r"[0-9]{9,}([0-9]{4})"
MASK_ACCOUNT_NUMBERS = r"[0-9]+([0-9]{4})"
DISPUTE_WINDOW_DAYS = 15


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "varchar"  # varchar | date | timestamp | integer | boolean | money | rate
    required: bool = False
    allowed: tuple[str, ...] = ()
    pattern: str | None = None  # a phone number (E164_OR_EXTENSION) or a name's form
    minimum: int | None = None  # bounds of a number, inclusive
    maximum: int | None = None
    key: bool = False  # the entity's own id


def _c(name: str, type_: str = "varchar", required: bool = False, **kw: object) -> Column:
    return Column(name, type_, required, **kw)  # type: ignore[arg-type]


ENTITIES: dict[str, tuple[Column, ...]] = {
    "accounts": (
        _c("account_id", required=True, key=True),
        _c("account_name"),
        _c("billing_country", required=True),
        _c("billing_state", required=True),
        _c("billing_postal_code"),
        _c("plan_id", required=True),
        _c("partner_id"),
        _c("service_start_date", "date", True),
        _c("billing_start_date", "date"),
        _c("free_months", "integer", minimum=0),
        _c("contract_term_months", "integer", minimum=0),
        _c("tax_exempt_certificate_id"),
        _c("low_usage_allowance", "integer", minimum=0),
        _c("autopay", "boolean"),
        _c("invoice_emails"),
        _c("receipt_email"),
        _c("cancel_requested_date", "date"),
        _c("updated_at", "timestamp", True),
    ),
    "subscription_items": (
        _c("item_id", required=True, key=True),
        _c("account_id", required=True),
        _c("product_code", required=True),
        _c("quantity", "integer", True),
        _c("phone_number", pattern=E164_OR_EXTENSION),
        _c("extension"),
        _c("low_usage", "boolean"),
        _c("start_date", "date", True),
        _c("end_date", "date"),
        _c("updated_at", "timestamp", True),
    ),
    "account_changes": (
        _c("change_id", required=True, key=True),
        _c("account_id", required=True),
        _c("change_type", required=True, allowed=("caller_id", "e911", "bidirectional")),
        _c("changed_at", "timestamp", True),
    ),
    "cdrs": (
        _c("call_id", required=True, key=True),
        _c("account_id", required=True),
        _c("direction", required=True, allowed=("inbound", "outbound", "internal")),
        _c("source_number", required=True, pattern=E164_OR_EXTENSION),
        _c("destination_number", required=True, pattern=E164_OR_EXTENSION),
        _c("start_time_utc", "timestamp", True),
        _c("end_time_utc", "timestamp"),
        _c("duration_sec", "integer", True),
    ),
    "payments": (
        _c("payment_id", required=True, key=True),
        _c("account_id", required=True),
        _c("invoice_id"),
        _c("received_at", "timestamp", True),
        _c("amount", "money", True),
        _c("method", required=True, allowed=("card", "ach", "check")),
        _c("card_brand"),
        _c("last4"),
        _c("is_autopay", "boolean"),
        _c("status", required=True, allowed=("settled", "failed", "refunded", "chargeback")),
    ),
    "adjustments": (
        _c("adjustment_id", required=True, key=True),
        _c("account_id", required=True),
        _c("amount", "money", True),
        _c("reason"),
        _c("approved_at", "timestamp", True),
        _c("disputed_invoice_id"),
    ),
    "switches": (
        _c("switch_id", required=True, key=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
        _c("platform", required=True, allowed=tuple(SWITCH_FORMATS)),
        _c("timezone", required=True),
        _c("country_code", required=True, allowed=SWITCH_COUNTRIES),
        _c("inbound_contexts"),
        _c("updated_at", "timestamp", True),
    ),
    "switch_tenants": (
        _c("switch_id", required=True),
        _c("tenant_key", required=True, key=True),
        _c("account_id", required=True),
        _c("updated_at", "timestamp", True),
    ),
    "partners": (
        _c("partner_id", required=True, key=True),
        _c("partner_name"),
        _c("residual_rate", "rate", True, maximum=1),
        _c("spiff_amount", "money", minimum=0),
        _c("updated_at", "timestamp", True),
    ),
}

SQL_TYPES = {
    "varchar": "varchar",
    "date": "date",
    "timestamp": "timestamp",
    "integer": "bigint",
    "boolean": "boolean",
    "money": "decimal(18, 2)",
    "rate": "decimal(18, 6)",
}
# Typed by a cast (booleans by their words, varchar as they are).
CAST_TYPES = ("money", "rate", "integer", "date", "timestamp")

LINEAGE_COLUMNS = "_file varchar not null, _line bigint, _landed_at timestamp not null"


class LandingError(Exception):
    """A landing folder or file that cannot be landed at all."""


@dataclass
class FileResult:
    path: Path
    entity: str
    status: str  # landed | already landed | failed
    landed: int = 0
    accepted: int = 0
    quarantined: int = 0
    # a switch's CDRs: accepted = answered + unanswered; repeated records are not landed again
    answered: int = 0
    unanswered: int = 0
    repeated: int = 0
    message: str = ""
    # The raw table the rows went to: the entity's, or a switch's platform table (asterisk_cdrs).
    table: str = ""


# The raw tables landing writes, each a dbt source `landing.<table>` and a Dagster asset
# ["landing", <table>]: one per entity, one per switch platform.
LANDED_TABLES = (*ENTITIES, *(f"{platform}_cdrs" for platform in SWITCH_FORMATS))


@dataclass
class LandingReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def landed_tables(self) -> dict[str, dict[str, int]]:
        """What each raw table received: the metadata of its landing asset's materialization, the
        same from a Dagster landing run and from `callbill land` (callbill/landing/dagster_record.py)."""
        tables: dict[str, dict[str, int]] = {}
        for table in LANDED_TABLES:
            files = [f for f in self.files if (f.table or f.entity) == table and f.status == "landed"]
            tables[table] = {
                "files_landed": len(files),
                "rows_accepted": sum(f.accepted for f in files),
                "rows_quarantined": sum(f.quarantined for f in files),
            }
        return tables

    def totals(self) -> tuple[int, int, int]:
        return (
            sum(f.landed for f in self.files),
            sum(f.accepted for f in self.files),
            sum(f.quarantined for f in self.files),
        )


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    for entity, columns in ENTITIES.items():
        cols = ", ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in columns)
        con.execute(f"create table if not exists raw.{entity} ({cols}, {LINEAGE_COLUMNS})")
    for platform, switch_format in SWITCH_FORMATS.items():
        # Each record as the switch wrote it (text), its id (R-CDR-6) and whether it was answered (R-CDR-1).
        cols = ", ".join(f"{c} varchar" for c in switch_format.columns)
        con.execute(
            f"create table if not exists raw.{platform}_cdrs (switch_id varchar not null, {cols}, "
            f"record_id varchar not null, answered boolean not null, {LINEAGE_COLUMNS})"
        )
    # Records a switch wrote again (a rotated or appended file landed again): counted, not landed twice.
    con.execute("alter table raw.landed_files add column if not exists rows_repeated bigint default 0")


def sha256_of(path: Path) -> tuple[str, int]:
    """The file's sha256, and its number of lines (counted on the same read)."""
    digest = hashlib.sha256()
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return digest.hexdigest(), lines + (last != b"\n")


def _number_lines_as_in_the_file(
    con: duckdb.DuckDBPyConnection, path: Path, file_lines: int, header: bool = True
) -> None:
    """Give `incoming` the file's own line numbers when its rows are not one line each.

    The reader skips blank lines and a quoted value may span lines, so a row's position is then not
    its line. Counting the file's lines tells (one line per row, the header and the rejected lines
    included, is the common case and costs nothing more); otherwise Python's csv module finds the
    line each row starts on, and the rows the reader kept get those of the lines it did not reject.
    """
    if path.suffix.lower() == ".parquet":
        return
    kept, rejected = con.execute(
        "select (select count(*) from incoming_raw), (select count(*) from rejects)"
    ).fetchone()
    with path.open("rb") as fh:  # blank lines at the very end number no row
        fh.seek(max(0, path.stat().st_size - 4096))
        tail = fh.read()
    trailing_blank_lines = max(0, tail[len(tail.rstrip(b"\r\n")) :].count(b"\n") - 1)
    if file_lines - trailing_blank_lines == kept + rejected + header:
        return
    import pandas as pd  # only for the rare file whose rows are not one line each

    rejected_lines = {line for (line,) in con.execute("select line from rejects").fetchall()}
    starts = []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        if header:
            next(reader, None)
        previous = reader.line_num
        for record in reader:
            if record and previous + 1 not in rejected_lines:
                starts.append(previous + 1)
            previous = reader.line_num
    if len(starts) != kept:  # the two readers disagree on the rows: keep the row positions
        return
    con.register("file_lines", pd.DataFrame({"k": range(kept), "line": starts}))
    con.execute(
        """
        drop view if exists incoming;
        create or replace temp table incoming_numbered as
        select file_lines.line as _line, incoming_raw.*
        from (select rowid as k, * from incoming_raw) as incoming_raw
        join file_lines using (k);
        alter table incoming_numbered drop column k;
        create temp view incoming as select * from incoming_numbered;
        """
    )
    con.unregister("file_lines")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _typed_expr(col: Column, cast: str | None = None) -> str:
    """The column's typed value; `cast` names a column already holding its plain try_cast."""
    v = f'"{col.name}"'
    if col.type == "boolean":
        return f"case lower(trim({v})) when 'true' then true when 'false' then false end"
    if col.type in CAST_TYPES:
        # DuckDB's cast already allows surrounding blanks; trim copies every value, so it only
        # runs for the rows the plain cast leaves null.
        sql_type = SQL_TYPES[col.type]
        return f"coalesce({cast or f'try_cast({v} as {sql_type})'}, try_cast(trim({v}) as {sql_type}))"
    return v


def _cast_column(name: str) -> str:
    return f'"_cast_{name}"'


def _with_casts(source: str, columns: tuple[Column, ...]) -> str:
    """The source with each typed column's plain try_cast once, as `_cast_<name>`: the checks of a
    row (its type, then the rules across fields) read it instead of casting again."""
    casts = [
        f'try_cast("{c.name}" as {SQL_TYPES[c.type]}) as {_cast_column(c.name)}'
        for c in columns
        if c.type in CAST_TYPES
    ]
    return f"(select *, {', '.join(casts)} from {source})" if casts else source


def _problem_exprs(col: Column) -> list[str]:
    """SQL expressions, each null when the value is fine, else the reason."""
    v = f'"{col.name}"'
    cast = _cast_column(col.name)
    problems = []
    if col.required:
        problems.append(f"case when {v} is null then 'missing required field {col.name}' end")
    present = f"{v} is not null"
    expected = {
        "boolean": "true or false",
        "integer": "a whole number",
        "date": "a date YYYY-MM-DD",
        "timestamp": "an ISO 8601 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)",
        "money": "an amount like 1234.56 (a dot, at most 2 decimals, no thousands separator)",
        "rate": "a non-negative rate with at most 6 decimals",
    }
    if col.type == "timestamp":
        problems.append(
            # A well-formed timestamp (nearly every row) is settled by the first test that holds; the
            # offset pattern never matches a well-formed one, so it only runs on rows that are wrong anyway.
            f"""case
                when {v} is null
                    or ({v} glob {_quote(TIMESTAMP_COMMON_GLOB)} and {cast} is not null)
                    or (regexp_full_match(trim({v}), {_quote(TIMESTAMP)}) and {_typed_expr(col, cast)} is not null)
                    then null
                when regexp_full_match(trim({v}), {_quote(UTC_OFFSET)})
                    then '{col.name}: ' || {v} || ' has a UTC offset; timestamps are in UTC (YYYY-MM-DDTHH:MM:SSZ)'
                else '{col.name}: ' || {v} || ' is not {expected[col.type]}'
            end"""
        )
    elif col.type == "date":
        problems.append(
            f"case when {present} "
            f"and (not regexp_full_match(trim({v}), {_quote(DATE)}) or {_typed_expr(col, cast)} is null) "
            f"then '{col.name}: ' || {v} || ' is not {expected[col.type]}' end"
        )
    elif col.type in ("money", "rate"):
        pattern = MONEY if col.type == "money" else RATE
        problems.append(
            f"case when {present} and not regexp_full_match(trim({v}), {_quote(pattern)}) "
            f"then '{col.name}: ' || {v} || ' is not {expected[col.type]}' end"
        )
    elif col.type == "integer":
        # DuckDB's cast rounds 12.5 to 13 and reads 1e3 and 0x10: only digits, a sign and blanks pass.
        problems.append(
            f"case when {present} and ({v} glob {_quote(NOT_A_WHOLE_NUMBER_GLOB)} or {_typed_expr(col, cast)} is null) "
            f"then '{col.name}: ' || {v} || ' is not {expected[col.type]}' end"
        )
    elif col.type != "varchar":
        problems.append(
            f"case when {present} and ({_typed_expr(col, cast)}) is null "
            f"then '{col.name}: ' || {v} || ' is not {expected[col.type]}' end"
        )
    if col.minimum is not None:
        problems.append(f"case when {cast} < {col.minimum} then '{col.name}: ' || {v} || ' is below {col.minimum}' end")
    if col.maximum is not None:
        problems.append(f"case when {cast} > {col.maximum} then '{col.name}: ' || {v} || ' is above {col.maximum}' end")
    if col.key:
        # Ids are compared exactly: "X100 " would be a second call X100 (R-RATE-7), billed twice. (A
        # padded reference to another entity's id is quarantined or reported as unknown already.)
        problems.append(
            # any blank, as Python's str.isspace: a tab, a no-break space, ... not only a space
            rf"case when regexp_matches({v}, '^[\s\v\pZ\x85\x1c-\x1f]|[\s\v\pZ\x85\x1c-\x1f]$') "
            f"then '{col.name}: \"' || {v} || '\" has blanks around it (ids are compared exactly)' end"
        )
    if col.allowed:
        allowed = ", ".join(_quote(a) for a in col.allowed)
        problems.append(
            f"case when {present} and {v} not in ({allowed}) "
            f"then '{col.name}: ' || {v} || ' is not one of {'/'.join(col.allowed)}' end"
        )
    if col.pattern:
        expected_form = (
            "an E.164 number or an extension"
            if col.pattern == E164_OR_EXTENSION
            else "letters, digits, dots, dashes and underscores (it names the folder of the switch CDR files)"
        )
        problems.append(
            f"case when {present} and not regexp_full_match({v}, {_quote(col.pattern)}) "
            f"then '{col.name}: ' || {v} || ' is not {expected_form}' end"
        )
    return problems


def _entity_rules(entity: str) -> list[str]:
    """Cross-field checks of one entity."""
    rules = []
    if entity != "accounts" and "account_id" in {c.name for c in ENTITIES[entity]}:
        rules.append(
            "case when account_id not in (select account_id from raw.accounts) "
            "then 'account_id: ' || account_id || ' is not a landed account "
            "(land the account, then these rows again in a new file)' end"
        )
    if entity == "cdrs":
        return rules + [
            f"case when {_cast_column('duration_sec')} < 0 then 'duration_sec: negative duration' end",
            f"case when {_cast_column('duration_sec')} > {MAX_CALL_SECONDS} "
            "then 'duration_sec: ' || duration_sec || ' s is more than 24 hours' end",
            f"case when {_cast_column('end_time_utc')} < {_cast_column('start_time_utc')} "
            "then 'end_time_utc: ' || end_time_utc || ' is before start_time_utc' end",
            # R-RATE-7: a call id is one call; a repeat is quarantined, never landed twice.
            "case when _line > _first_line "
            "then 'call_id: ' || call_id || ' repeats line ' || _first_line || ' of this file' end",
            "case when _landed_file is not null "
            "then 'call_id: ' || call_id || ' was already landed from ' || _landed_file end",
        ]
    if entity == "accounts":
        # R-INV-5, CONTRACT.md: the first invoice email is the primary; at most the configured number.
        most = project_vars()["max_invoice_recipients"]
        return rules + [
            "case when nullif(trim(invoice_emails), '') is null "
            "then 'invoice_emails: none (the first address is the primary invoice recipient)' end",
            f"case when len(string_split(invoice_emails, ';')) > {int(most)} "
            "then 'invoice_emails: ' || len(string_split(invoice_emails, ';')) || ' addresses, at most "
            f"{int(most)}' end",
        ]
    if entity == "switches":
        # R-CDR-2: the switch's clock is read in its zone, by DuckDB's own zone names
        return rules + [
            "case when timezone not in (select name from pg_timezone_names()) "
            "then 'timezone: ' || timezone || ' is not an IANA time zone name (America/Chicago, UTC, ...)' end"
        ]
    if entity == "switch_tenants":
        return rules + [
            "case when switch_id not in (select switch_id from raw.switches) "
            "then 'switch_id: ' || switch_id || ' is not a registered switch (land its switches/ row first)' end"
        ]
    if entity == "subscription_items":
        # A negative quantity would bill less and correct published invoices down (R-INV-2).
        rules.append(
            f"case when {_cast_column('quantity')} < 1 "
            "then 'quantity: ' || quantity || ' is not a number of units (1 or more)' end"
        )
        rules.append(
            f"case when {_cast_column('end_date')} < {_cast_column('start_date')} "
            "then 'end_date: ' || end_date || ' is before start_date ' || start_date end"
        )
    if entity == "payments":
        rules += _payment_rules()
    if entity == "adjustments":
        rules += _adjustment_rules()
    return rules


def _payment_rules() -> list[str]:
    """R-PAY-1: brand matches the method; a card or bank number is never landed whole."""
    card_number = " or ".join(
        f"luhn_valid(regexp_extract(\"{c.name}\", '[0-9]{{13,19}}'))" for c in ENTITIES["payments"]
    )
    brands = ", ".join(_quote(b) for b in CARD_BRANDS)
    return [
        f"case when {_cast_column('amount')} <= 0 then 'amount: a payment must be positive' end",
        # It would pay nothing: neither that invoice nor, as credit, the payer's own. (The row's
        # columns stay outside the subqueries, where published.invoices has columns of the same name.)
        "case when invoice_id in (select invoice_id from published.invoices) "
        "and invoice_id || '|' || account_id not in (select invoice_id || '|' || account_id from published.invoices) "
        "then 'invoice_id: ' || invoice_id || ' is an invoice of another account, not of ' || account_id end",
        f"""case
                when {card_number}
                    then 'a full card number was landed (never stored: PCI DSS 3.4); '
                        || 'send the brand and last four digits only'
                when method = 'ach' and regexp_full_match(last4, '[0-9]{{5,}}')
                    then 'last4: a full bank account number was landed; send the last four digits only (R-PAY-1)'
                when method in ('card', 'ach') and (last4 is null or not regexp_full_match(last4, '[0-9]{{4}}'))
                    then 'last4: must be the last four digits of the ' || method
                when method = 'check' and last4 is not null then 'last4: a check has no card or account number'
            end""",
        f"""case
                when method = 'card' and lower(card_brand) not in ({brands})
                    then 'card_brand: ' || card_brand || ' is not one of {"/".join(CARD_BRANDS)}'
                when method = 'card' and card_brand is null then 'card_brand: missing for a card payment'
                when method in ('ach', 'check') and card_brand is not null
                    then 'card_brand: ' || card_brand || ' given for a ' || method || ' payment'
            end""",
    ]


def _adjustment_rules() -> list[str]:
    """R-CAL-6: an invoice can be disputed only within 15 days of its invoice date."""
    disputed_date = "(select p.invoice_date from published.invoices as p where p.invoice_id = disputed_invoice_id)"
    disputed_account = "(select p.account_id from published.invoices as p where p.invoice_id = disputed_invoice_id)"
    approved_at = _cast_column("approved_at")
    return [
        f"""case
                when disputed_invoice_id is null then null
                when {disputed_date} is null
                    then 'disputed_invoice_id: ' || disputed_invoice_id || ' is not a published invoice'
                when {disputed_account} <> account_id
                    then 'disputed_invoice_id: ' || disputed_invoice_id || ' is an invoice of ' || {disputed_account}
                        || ', not of ' || account_id
                -- in days: the whole 15th day after the invoice date is inside the window
                when cast({approved_at} as date) > {disputed_date} + interval {DISPUTE_WINDOW_DAYS} day
                    then 'dispute of ' || disputed_invoice_id || ' dated ' || strftime({disputed_date}, '%Y-%m-%d')
                        || ' is outside the {DISPUTE_WINDOW_DAYS}-day dispute window (R-CAL-6)'
            end""",
        # Two rows of one adjustment in one file: which amount was meant is unknown (a later file's
        # row replaces an earlier file's, which is how an adjustment is changed).
        "case when _line > min(_line) over (partition by adjustment_id) "
        "then 'adjustment_id: ' || adjustment_id || ' repeats line ' || min(_line) over (partition by adjustment_id) "
        "|| ' of this file; send a changed adjustment in a new file' end",
    ]


def _quarantine_malformed_lines(
    con: duckdb.DuckDBPyConnection, entity: str, path: Path, landed_at: object, csv_line: str = "csv_line"
) -> None:
    """The reader's rejected lines, each with its reason. A quote left open makes the reader take the
    lines after it into the same row: say which."""
    text = "rtrim(csv_line, chr(13) || chr(10))"
    extra_lines = f"(length({text}) - length(replace({text}, chr(10), '')))"
    reason = "replace(lower(error_message), 'invalid encoding', 'not UTF-8 text')"
    if entity == SWITCH_CDRS:  # no header names the columns: say what is wrong with the record
        reason = f"replace(replace({reason}, 'missing columns', 'too few fields (a record cut off?)'), "
        reason += "'too many columns', 'too many fields')"
    con.execute(
        f"insert into raw.quarantine select ?, ?, line, {csv_line}, 'malformed CSV line: ' || {reason} "
        f"|| case when {extra_lines} > 0 then '; lines ' || line || ' to ' || (line + {extra_lines}) "
        "|| ' were read as this one row (is a quote left open?)' else '' end, ? "
        "from rejects order by line",
        [entity, str(path), landed_at],
    )


def _masked(text_expr: str, pattern: str) -> str:
    return f"regexp_replace({text_expr}, {_quote(pattern)}, '****\\1', 'g')"


LUHN_MACRO = """
create or replace temp macro luhn_valid(digits) as (
    coalesce(length(digits) between 13 and 19, false)
    and list_sum(list_transform(range(1, length(digits) + 1), lambda i: (
        case when i % 2 = 0
            then 2 * cast(substr(reverse(digits), i, 1) as integer)
                - case when cast(substr(reverse(digits), i, 1) as integer) >= 5 then 9 else 0 end
            else cast(substr(reverse(digits), i, 1) as integer)
        end
    ))) % 10 = 0
)
"""


def _read_file(con: duckdb.DuckDBPyConnection, path: Path, columns_without_header: tuple[str, ...] = ()) -> list[str]:
    """Stage a file as all-varchar rows in temp table `incoming` (with line numbers); returns its columns.

    A file without a header row (a switch's CDRs) is read with the columns given."""
    con.execute(
        "drop view if exists incoming; drop table if exists incoming_numbered; "
        "drop table if exists incoming_raw; drop table if exists rejects"
    )
    p = _quote(str(path))
    if path.suffix.lower() == ".parquet":
        con.execute(f"create temp table incoming_raw as select * from read_parquet({p})")
        described = con.execute("describe incoming_raw").fetchall()
        cols = [r[0] for r in described]
        # A Parquet TIMESTAMP WITH TIME ZONE is an instant (pandas and Spark write UTC this way):
        # its UTC time, unlike a text offset, which says the sender's clock was not on UTC.
        casts = ", ".join(f'{_parquet_text(c, type_)} as "{c}"' for c, type_, *_ in described)
        con.execute(f"create temp view incoming as select rowid + 1 as _line, {casts} from incoming_raw")
        con.execute("create temp table rejects (line bigint, csv_line varchar, error_message varchar)")
        return cols
    header = list(columns_without_header) or _csv_header(path)
    first_line = 1 if columns_without_header else 2
    columns = "{" + ", ".join(f"{_quote(c)}: 'VARCHAR'" for c in header) + "}"
    con.execute(
        f"create temp table incoming_raw as select * from read_csv({p}, columns = {columns}, "
        f"header = {'false' if columns_without_header else 'true'}, "
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        "store_rejects = true, rejects_table = 'csv_rejects', rejects_scan = 'csv_reject_scans')"
    )
    cols = header
    has_rejects = con.execute("select count(*) from duckdb_tables() where table_name = 'csv_rejects'").fetchone()[0]
    if has_rejects:
        con.execute(
            "create temp table rejects as select line, any_value(csv_line) as csv_line, "
            "string_agg(distinct error_type::varchar, '; ') as error_message from csv_rejects group by line"
        )
        con.execute("drop table csv_rejects; drop table csv_reject_scans")
    else:
        con.execute("create temp table rejects (line bigint, csv_line varchar, error_message varchar)")
    # Line numbers: the header is line 1; rejected lines are skipped by the reader, so without
    # rejects a row's line is its position in the file (rowid + 2) and nothing is copied.
    if not con.execute("select count(*) from rejects").fetchone()[0]:
        con.execute(f"create temp view incoming as select rowid + {first_line} as _line, * from incoming_raw")
        return cols
    con.execute(
        f"""
        create temp table incoming_numbered as
        with good_lines as (
            select line, row_number() over (order by line) - 1 as k
            from range({first_line}, (select count(*) from incoming_raw) + (select count(*) from rejects)
                + {first_line}) as t(line)
            where line not in (select line from rejects)
        )
        select good_lines.line as _line, incoming_raw.*
        from (select rowid as k, * from incoming_raw) as incoming_raw
        join good_lines using (k)
        """
    )
    con.execute("alter table incoming_numbered drop column k")
    con.execute("create temp view incoming as select * from incoming_numbered")
    return cols


def _parquet_text(column: str, type_: str) -> str:
    """A Parquet column as the text a CSV would carry. Time zone types (TIMESTAMP WITH TIME ZONE,
    TIMESTAMPTZ_NS as pandas writes) are instants: their UTC time. Nanosecond times are read to the
    microsecond, as every timestamp in the warehouse."""
    if type_ in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ") or type_.startswith("TIMESTAMPTZ_"):
        return f"cast(timezone('UTC', cast(\"{column}\" as timestamptz)) as varchar)"
    if type_.startswith("TIMESTAMP_"):  # _NS, _MS, _S
        return f'cast(cast("{column}" as timestamp) as varchar)'
    return f'cast("{column}" as varchar)'


def _csv_header(path: Path) -> list[str]:
    if path.stat().st_size == 0:
        raise LandingError("0-byte file: nothing in it (was the transfer cut short?); send it again")
    with path.open("rb") as fh:
        first_line = fh.readline()
    try:
        header = next(csv.reader([first_line.decode("utf-8-sig")]), [])
    except UnicodeDecodeError:
        raise LandingError("the header row is not UTF-8 text; save the file as UTF-8") from None
    if not header or not any(h.strip() for h in header):
        raise LandingError("empty file: no header row")
    if len(set(header)) != len(header):
        raise LandingError("duplicate column names in header")
    return [h.strip() for h in header]


@dataclass
class StagedFile:
    columns: list[str] | None  # None when the file could not be read (read_error says why)
    read_error: str | None
    digest: str
    lines: int
    landed_as: str | None  # the path of the same content landed before


def _stage(con: duckdb.DuckDBPyConnection, path: Path, columns_without_header: tuple[str, ...] = ()) -> StagedFile:
    """Stage the file (`_read_file`) while it is hashed on a thread (hashlib lets go of the GIL): a
    file seen before is then read for nothing, which is rare; every new file is read once either way.
    Staged outside the transaction: rowids (line order) are only final once committed."""
    with ThreadPoolExecutor(max_workers=1) as hashing:
        digest_of_file = hashing.submit(sha256_of, path)
        try:
            columns: list[str] | None = _read_file(con, path, columns_without_header)
            read_error = None
        except (duckdb.Error, LandingError) as exc:
            columns, read_error = None, str(exc).splitlines()[0]
        digest, lines = digest_of_file.result()
    seen = con.execute("select file_path from raw.landed_files where sha256 = ?", [digest]).fetchone()
    return StagedFile(columns, read_error, digest, lines, seen[0] if seen else None)


def _record_landed_file(
    con: duckdb.DuckDBPyConnection,
    result: FileResult,
    digest: str,
    landed_at: object,
    details: dict[str, object] | None = None,
) -> None:
    """The file in raw.landed_files (a file lands once) and its file_landed audit event."""
    con.execute(
        "insert into raw.landed_files (file_path, entity, sha256, rows_landed, rows_accepted, rows_quarantined, "
        "landed_at, rows_repeated) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            str(result.path), result.entity, digest, result.landed, result.accepted, result.quarantined,
            landed_at, result.repeated,
        ],
    )  # fmt: skip
    record_event(
        con,
        "file_landed",
        {
            "file": str(result.path),
            "entity": result.entity,
            "rows": result.landed,
            "accepted": result.accepted,
            "quarantined": result.quarantined,
            **(details or {}),
            "sha256": digest,
        },
    )


def land_file(con: duckdb.DuckDBPyConnection, path: Path, entity: str) -> FileResult:
    staged = _stage(con, path)
    if staged.landed_as:
        return FileResult(path, entity, "already landed", message=f"same content as {staged.landed_as}")
    if staged.columns is None:
        return FileResult(path, entity, "failed", message=staged.read_error)
    file_cols, digest = staged.columns, staged.digest
    _number_lines_as_in_the_file(con, path, staged.lines)

    columns = ENTITIES[entity]
    missing = [c.name for c in columns if c.name not in file_cols]
    if missing:
        hint = "; the file is read comma-separated, and its header has semicolons" if ";" in "".join(file_cols) else ""
        return FileResult(path, entity, "failed", message=f"missing column(s) {', '.join(missing)} in header{hint}")
    unexpected = [c for c in file_cols if c not in {col.name for col in columns}]
    if unexpected:
        return FileResult(
            path,
            entity,
            "failed",
            message=f"unexpected column(s) {', '.join(unexpected)} in header: {entity} files have exactly "
            + ", ".join(c.name for c in columns),
        )
    con.execute("begin transaction")
    try:
        landed_at = utc_now()
        problems = [p for c in columns for p in _problem_exprs(c)] + _entity_rules(entity)
        reason = "nullif(concat_ws('; ', " + ", ".join(problems) + "), '')"
        fields = [f'"{c.name}"' for c in columns]
        csv_line = "csv_line"
        if entity == "payments":
            fields = [_masked(f, MASK_ACCOUNT_NUMBERS if f == '"last4"' else MASK_CARD_NUMBERS) for f in fields]
            csv_line = _masked(csv_line, MASK_ACCOUNT_NUMBERS)
            reason = _masked(reason, MASK_CARD_NUMBERS)
        raw_text = "concat_ws(',', " + ", ".join(f"coalesce({f}, '')" for f in fields) + ")"
        source = "incoming"
        if entity == "cdrs":
            # R-RATE-7: the file of a call id landed before, and the first line of a call id repeated
            # in this file (hash joins and an aggregate, not a lookup per row or a window).
            source = (
                "incoming left join (select call_id as _id, min(_file) as _landed_file from raw.cdrs "
                "where call_id in (select call_id from incoming) group by call_id) as landed "
                "on incoming.call_id = landed._id "
                "left join (select call_id as _repeated_id, min(_line) as _first_line from incoming "
                # ids whose hash repeats first: grouping integers is cheaper than grouping the ids,
                # and a file rarely repeats any
                "where hash(call_id) in (select hash(call_id) from incoming group by 1 having count(*) > 1) "
                "group by call_id having count(*) > 1) as repeated "
                "on incoming.call_id = repeated._repeated_id"
            )
        # Only the rows with a problem are kept aside; the reasons are computed once per row.
        con.execute(
            f"create or replace temp table checked as select * from "
            f"(select *, {reason} as _reason from {_with_casts(source, columns)}) "
            "where _reason is not null"
        )
        typed = ", ".join(f"{_typed_expr(c)} as {c.name}" for c in columns)
        typed_bad = con.execute("select count(*) from checked").fetchone()[0]
        # The file's order is kept: a plain scan of `incoming` is in line order; with rows set aside,
        # the filter is a hash anti-join and the rows are put back in line order.
        accepted_rows = "from incoming"
        if typed_bad:
            accepted_rows = "from incoming where _line not in (select _line from checked) order by _line"
        con.execute(
            f"insert into raw.{entity} select {typed}, ? as _file, _line, ? as _landed_at {accepted_rows}",
            [str(path), landed_at],
        )
        con.execute(
            f"insert into raw.quarantine select ?, ?, _line, {raw_text}, _reason, ? from checked order by _line",
            [entity, str(path), landed_at],
        )
        _quarantine_malformed_lines(con, entity, path, landed_at, csv_line)
        accepted = con.execute("select count(*) from incoming").fetchone()[0] - typed_bad
        malformed = con.execute("select count(*) from rejects").fetchone()[0]
        quarantined = typed_bad + malformed
        result = FileResult(path, entity, "landed", accepted + quarantined, accepted, quarantined)
        _record_landed_file(con, result, digest, landed_at)
        con.execute("commit")
    except (duckdb.Error, LandingError) as exc:
        con.execute("rollback")
        return FileResult(path, entity, "failed", message=str(exc).splitlines()[0])
    return result


def registered_switch(con: duckdb.DuckDBPyConnection, switch_id: str) -> SwitchFormat | None:
    """The format of a registered switch (its latest switches/ row), or None."""
    found = con.execute(
        "select arg_max(platform, updated_at) from raw.switches where switch_id = ? having count(*) > 0", [switch_id]
    ).fetchone()
    return SWITCH_FORMATS[found[0]] if found else None


def _switch_record_problems(switch_format: SwitchFormat) -> list[str]:
    """Structure only (R-CDR): times and integers that parse, required fields, an answer time on an
    answered record. What the values mean is the staging models' work."""
    problems = []
    for name in switch_format.required:
        problems.append(f"case when \"{name}\" is null then 'missing {name}' end")
    for name in switch_format.times:
        problems.append(
            f'case when "{name}" is not null and not ("{name}" glob {_quote(SWITCH_TIME_GLOB)} '
            f'and try_cast("{name}" as timestamp) is not null) '
            f"then '{name}: ' || \"{name}\" || ' is not a time YYYY-MM-DD HH:MM:SS' end"
        )
    for name in switch_format.integers:
        problems.append(
            f'case when "{name}" is not null and ("{name}" glob \'*[!0-9]*\' or length("{name}") not between 1 and 9) '
            f"then '{name}: ' || \"{name}\" || ' is not a whole number of seconds' end"
        )
    answer = switch_format.answer_time
    problems.append(
        f"case when ({switch_format.answered}) and \"{answer}\" is null then 'an answered record without {answer}' end"
    )
    return problems


def _with_lenient_quotes(con: duckdb.DuckDBPyConnection, layout: tuple[str, ...]) -> str:
    """`incoming` plus the lines whose only fault is a quote not doubled inside a quoted value, read
    as Python's csv module and the tools that parse cdr_csv read them (the value keeps the quote),
    when that gives a whole record. Only such lines are read in Python."""
    lenient = con.execute("select line, csv_line from rejects where error_message = 'UNQUOTED VALUE'").fetchall()
    recovered = []
    for line, text in lenient:
        records = list(csv.reader(text.rstrip("\r\n").splitlines()))
        if len(records) == 1 and len(records[0]) == len(layout):
            recovered.append([line, *(value if value != "" else None for value in records[0])])
    if not recovered:
        return "incoming"
    import pandas as pd  # only for the few lines read leniently

    con.register("recovered_lines", pd.DataFrame(recovered, columns=["_line", *layout], dtype=object))
    con.execute("create or replace temp table recovered as select * from recovered_lines")
    con.unregister("recovered_lines")
    con.execute("delete from rejects where line in (select _line from recovered)")
    return "(select * from incoming union all by name select * from recovered)"


def land_switch_file(con: duckdb.DuckDBPyConnection, path: Path, switch_id: str) -> FileResult:
    """A switch's CDR file, byte for byte as it wrote it (no header): every record lands raw with its
    file and line, or goes to quarantine with the reason. A record already landed (the same id
    and fields, from a rotated or appended file landed again) is counted as repeated, not landed."""
    switch_format = registered_switch(con, switch_id)
    if switch_format is None:
        return FileResult(
            path,
            SWITCH_CDRS,
            "failed",
            message=f"switch {switch_id} is not registered: land a switches/ row for it (switch_id, platform, "
            "timezone, ...); this file lands with the first `callbill land` after that",
        )
    if path.stat().st_size == 0:
        return FileResult(path, SWITCH_CDRS, "failed", message="0-byte file: nothing in it; send it again")
    with path.open("rb") as fh:
        first_record = next(csv.reader([fh.readline().decode("utf-8", errors="replace")]), [])
    if len(first_record) not in switch_format.layouts:
        return FileResult(
            path,
            SWITCH_CDRS,
            "failed",
            message=f"line 1 has {len(first_record)} fields: {switch_format.platform} records have "
            f"{switch_format.describe_layouts()} (is this file in the right switch's folder?)",
        )
    layout = switch_format.layouts[len(first_record)]
    staged = _stage(con, path, columns_without_header=layout)
    if staged.landed_as:
        return FileResult(path, SWITCH_CDRS, "already landed", message=f"same content as {staged.landed_as}")
    if staged.columns is None:
        return FileResult(path, SWITCH_CDRS, "failed", message=staged.read_error)
    digest = staged.digest
    _number_lines_as_in_the_file(con, path, staged.lines, header=False)
    source = _with_lenient_quotes(con, layout)
    table = f"raw.{switch_format.platform}_cdrs"
    columns = switch_format.columns
    quoted_columns = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f'"{c}"' if c in layout else f'cast(null as varchar) as "{c}"' for c in columns)
    same_fields = " and ".join(f'numbered."{c}" is not distinct from landed."{c}"' for c in columns)
    raw_text = "concat_ws(',', " + ", ".join(f"coalesce(\"{c}\", '')" for c in layout) + ")"
    reason = "nullif(concat_ws('; ', " + ", ".join(_switch_record_problems(switch_format)) + "), '')"
    record_id = switch_format.record_id
    records = (
        f"(select _line, {values}, {record_id} as record_id, ({switch_format.answered}) as answered from {source})"
    )
    con.execute("begin transaction")
    try:
        landed_at = utc_now()
        # Only the records with a problem, a record id repeated in this file or one landed before
        # are kept aside (hash joins and aggregates over the file; the rest go straight to raw).
        con.execute(
            f"create or replace temp table switch_problems as select * from "
            f"(select _line, {reason} as _reason from {source}) where _reason is not null"
        )
        con.execute(
            f"""
            create or replace temp table switch_involved as
            with repeated_ids as (
                select hash(record_id) as id_hash from {records} group by 1 having count(*) > 1
            ),
            landed as (
                select * from {table}
                where switch_id = $switch_id and record_id in (select record_id from {records})
            ),
            involved as (
                select * from {records}
                where hash(record_id) in (select id_hash from repeated_ids)
                    or record_id in (select record_id from landed)
            ),
            numbered as (
                select *,
                    min(_line) over (partition by record_id) as _first_line,
                    -- R-CDR-6: an exact repeat within the file is the same record written twice
                    row_number() over (partition by record_id, {quoted_columns} order by _line) as _copy
                from involved
            )
            select numbered._line, numbered.record_id, numbered._first_line, numbered._copy,
                coalesce(bool_or({same_fields}), false) as _landed_before,
                min(landed._file || ' line ' || landed._line) as _landed_as
            from numbered
            left join landed
                on numbered.record_id = landed.record_id
            group by all
            """,
            {"switch_id": switch_id},
        )
        # Another record under an id already taken: which one the switch meant is unknown.
        con.execute(
            """
            insert into switch_problems
            select _line, case
                when _landed_as is not null
                    then 'record id ' || record_id || ' was landed from ' || _landed_as || ' with other fields'
                else 'record id ' || record_id || ' repeats line ' || _first_line || ' of this file with other fields'
            end
            from switch_involved
            where not _landed_before and _copy = 1 and (_landed_as is not null or _line > _first_line)
                and _line not in (select _line from switch_problems)
            """
        )
        repeated = con.execute(
            "select count(*) from switch_involved where (_landed_before or _copy > 1) "
            "and _line not in (select _line from switch_problems)"
        ).fetchone()[0]
        # An id's hash is shared by other ids now and then: only the repeats are kept out.
        set_aside = (
            "select _line from switch_problems union all "
            "select _line from switch_involved where _landed_before or _copy > 1"
        )
        kept, in_file_order = f"from {records} where _line not in ({set_aside})", " order by _line"
        if not con.execute(f"select count(*) from ({set_aside})").fetchone()[0]:
            kept, in_file_order = f"from {records}", ""  # nothing set aside: the scan is in the file's order
        answered, unanswered = con.execute(
            f"select count(*) filter (where answered), count(*) filter (where not answered) {kept}"
        ).fetchone()
        con.execute(
            f"insert into {table} select ?, {quoted_columns}, record_id, answered, ?, _line, ? {kept}{in_file_order}",
            [switch_id, str(path), landed_at],
        )
        con.execute(
            f"insert into raw.quarantine select ?, ?, problems._line, {raw_text}, problems._reason, ? "
            f"from switch_problems as problems join {source} as incoming_records using (_line) order by problems._line",
            [SWITCH_CDRS, str(path), landed_at],
        )
        _quarantine_malformed_lines(con, SWITCH_CDRS, path, landed_at)
        quarantined = con.execute(
            "select (select count(*) from switch_problems) + (select count(*) from rejects)"
        ).fetchone()[0]
        result = FileResult(
            path, SWITCH_CDRS, "landed", answered + unanswered + quarantined, answered + unanswered, quarantined,
            answered, unanswered, repeated, table=f"{switch_format.platform}_cdrs",
        )  # fmt: skip
        _record_landed_file(
            con,
            result,
            digest,
            landed_at,
            {
                "switch_id": switch_id,
                "platform": switch_format.platform,
                "answered": answered,
                "unanswered": unanswered,
                "repeated": repeated,
            },
        )
        con.execute("commit")
    except (duckdb.Error, LandingError) as exc:
        con.execute("rollback")
        return FileResult(path, SWITCH_CDRS, "failed", message=str(exc).splitlines()[0])
    return result


def landing_files(in_dir: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """(file, entity) pairs in a stable order, and the files that belong to no entity."""
    if in_dir.is_file():
        raise LandingError(
            f"{in_dir} is a file: land takes the landing folder, the one with the entity folders "
            f"({', '.join(LANDING_ORDER)})"
        )
    if not in_dir.is_dir():
        raise LandingError(f"landing folder {in_dir} does not exist")
    if in_dir.name in ENTITIES and not any(p.name in ENTITIES for p in in_dir.iterdir() if p.is_dir()):
        raise LandingError(f"{in_dir} is the {in_dir.name} folder itself: land takes its parent, the landing folder")
    found, unknown = [], []
    for path in sorted(p for p in in_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        parts = path.relative_to(in_dir).parts
        entity = parts[0]
        if entity in ENTITIES and path.suffix.lower() in (".csv", ".parquet"):
            found.append((path, entity))
        elif entity == SWITCH_CDRS and len(parts) == 3:
            found.append((path, entity))  # switch_cdrs/<switch_id>/<any name the switch or logrotate gave>
        else:
            unknown.append(path)
    found.sort(key=lambda pair: (LANDING_ORDER.index(pair[1]), str(pair[0])))
    return found, unknown


def land_folder(in_dir: Path, warehouse: Path | None = None) -> LandingReport:
    files, unknown = landing_files(in_dir)
    report = LandingReport()
    for path in unknown:
        message = "not a CSV/Parquet file in a known entity folder"
        if path.relative_to(in_dir).parts[0] == SWITCH_CDRS:
            message = "a switch's CDR files go in switch_cdrs/<switch_id>/ (the folder names the registered switch)"
        report.files.append(FileResult(path, "?", "failed", message=message))
    with connect(warehouse) as con:
        ensure_raw_tables(con)
        con.execute(LUHN_MACRO)
        for path, entity in files:
            if entity == SWITCH_CDRS:
                result = land_switch_file(con, path.resolve(), path.parent.name)
            else:
                result = land_file(con, path.resolve(), entity)
            report.files.append(result)
    return report
