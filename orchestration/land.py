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

from orchestration.warehouse import connect, record_event, utc_now

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
# Accounts land first: every other entity names a landed account.
LANDING_ORDER = ("accounts", "partners", "subscription_items", "account_changes", "cdrs", "payments", "adjustments")
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
    pattern: str | None = None
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
    message: str = ""


@dataclass
class LandingReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

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


def _number_lines_as_in_the_file(con: duckdb.DuckDBPyConnection, path: Path, file_lines: int) -> None:
    """Give `incoming` the file's own line numbers when its rows are not one line each.

    The reader skips blank lines and a quoted value may span lines, so a row's position is then not
    its line. Counting the file's lines tells (one line per row, the header and the rejected lines
    included, is the common case and costs nothing more); otherwise Python's csv module finds the
    line each row starts on, and the rows the reader kept get those of the lines it did not reject.
    """
    if path.suffix.lower() != ".csv":
        return
    kept, rejected = con.execute(
        "select (select count(*) from incoming_raw), (select count(*) from rejects)"
    ).fetchone()
    with path.open("rb") as fh:  # blank lines at the very end number no row
        fh.seek(max(0, path.stat().st_size - 4096))
        tail = fh.read()
    trailing_blank_lines = max(0, tail[len(tail.rstrip(b"\r\n")) :].count(b"\n") - 1)
    if file_lines - trailing_blank_lines == kept + rejected + 1:
        return
    import pandas as pd  # only for the rare file whose rows are not one line each

    rejected_lines = {line for (line,) in con.execute("select line from rejects").fetchall()}
    starts = []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
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
            f"case when {v} <> trim({v}) "
            f"then '{col.name}: \"' || {v} || '\" has blanks around it (ids are compared exactly)' end"
        )
    if col.allowed:
        allowed = ", ".join(_quote(a) for a in col.allowed)
        problems.append(
            f"case when {present} and {v} not in ({allowed}) "
            f"then '{col.name}: ' || {v} || ' is not one of {'/'.join(col.allowed)}' end"
        )
    if col.pattern:
        problems.append(
            f"case when {present} and not regexp_full_match({v}, {_quote(col.pattern)}) "
            f"then '{col.name}: ' || {v} || ' is not an E.164 number or an extension' end"
        )
    return problems


def _entity_rules(entity: str) -> list[str]:
    """Cross-field checks of one entity."""
    rules = []
    if entity not in ("accounts", "partners"):
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


def _read_file(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Stage a file as all-varchar rows in temp table `incoming` (with line numbers); returns its columns."""
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
    header = _csv_header(path)
    columns = "{" + ", ".join(f"{_quote(c)}: 'VARCHAR'" for c in header) + "}"
    con.execute(
        f"create temp table incoming_raw as select * from read_csv({p}, columns = {columns}, header = true, "
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
        con.execute("create temp view incoming as select rowid + 2 as _line, * from incoming_raw")
        return cols
    con.execute(
        """
        create temp table incoming_numbered as
        with good_lines as (
            select line, row_number() over (order by line) - 1 as k
            from range(2, (select count(*) from incoming_raw) + (select count(*) from rejects) + 2) as t(line)
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


def land_file(con: duckdb.DuckDBPyConnection, path: Path, entity: str) -> FileResult:
    # The file is hashed on a thread while DuckDB reads it (hashlib lets go of the GIL): a file seen
    # before is then read for nothing, which is rare; every new file is read once either way.
    with ThreadPoolExecutor(max_workers=1) as hashing:
        digest_of_file = hashing.submit(sha256_of, path)
        try:
            # Staged outside the transaction: rowids (line order) are only final once committed.
            file_cols: list[str] | None = _read_file(con, path)
            read_error = None
        except (duckdb.Error, LandingError) as exc:
            file_cols, read_error = None, str(exc).splitlines()[0]
        digest, file_lines = digest_of_file.result()
    seen = con.execute("select file_path from raw.landed_files where sha256 = ?", [digest]).fetchone()
    if seen:
        return FileResult(path, entity, "already landed", message=f"same content as {seen[0]}")
    if file_cols is None:
        return FileResult(path, entity, "failed", message=read_error)
    _number_lines_as_in_the_file(con, path, file_lines)

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
        # A quote left open makes the reader take the lines after it into the same row: say which.
        text = "rtrim(csv_line, chr(13) || chr(10))"
        extra_lines = f"(length({text}) - length(replace({text}, chr(10), '')))"
        con.execute(
            f"insert into raw.quarantine select ?, ?, line, {csv_line}, "
            "'malformed CSV line: ' || replace(lower(error_message), 'invalid encoding', 'not UTF-8 text') "
            f"|| case when {extra_lines} > 0 then '; lines ' || line || ' to ' || (line + {extra_lines}) "
            "|| ' were read as this one row (is a quote left open?)' else '' end, ? "
            "from rejects order by line",
            [entity, str(path), landed_at],
        )
        accepted = con.execute("select count(*) from incoming").fetchone()[0] - typed_bad
        malformed = con.execute("select count(*) from rejects").fetchone()[0]
        quarantined = typed_bad + malformed
        landed = accepted + quarantined
        con.execute(
            "insert into raw.landed_files values (?, ?, ?, ?, ?, ?, ?)",
            [str(path), entity, digest, landed, accepted, quarantined, landed_at],
        )
        record_event(
            con,
            "file_landed",
            {
                "file": str(path),
                "entity": entity,
                "rows": landed,
                "accepted": accepted,
                "quarantined": quarantined,
                "sha256": digest,
            },
        )
        con.execute("commit")
    except (duckdb.Error, LandingError) as exc:
        con.execute("rollback")
        return FileResult(path, entity, "failed", message=str(exc).splitlines()[0])
    return FileResult(path, entity, "landed", landed, accepted, quarantined)


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
        entity = path.relative_to(in_dir).parts[0]
        if entity in ENTITIES and path.suffix.lower() in (".csv", ".parquet"):
            found.append((path, entity))
        else:
            unknown.append(path)
    found.sort(key=lambda pair: (LANDING_ORDER.index(pair[1]), str(pair[0])))
    return found, unknown


def land_folder(in_dir: Path, warehouse: Path | None = None) -> LandingReport:
    files, unknown = landing_files(in_dir)
    report = LandingReport()
    for path in unknown:
        report.files.append(FileResult(path, "?", "failed", message="not a CSV/Parquet file in a known entity folder"))
    with connect(warehouse) as con:
        ensure_raw_tables(con)
        con.execute(LUHN_MACRO)
        for path, entity in files:
            report.files.append(land_file(con, path.resolve(), entity))
    return report
