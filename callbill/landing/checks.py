"""The checks a landed row must pass, as SQL over the staged file: each column's type and format, each
entity's cross-field rules, a switch record's structure (R-CDR). A failed check is a quarantine reason."""

from __future__ import annotations

from callbill.landing.contract import (
    CARD_BRANDS,
    CAST_TYPES,
    DATE,
    DISPUTE_WINDOW_DAYS,
    E164_OR_EXTENSION,
    ENTITIES,
    MAX_CALL_SECONDS,
    MONEY,
    NOT_A_WHOLE_NUMBER_GLOB,
    RATE,
    SQL_TYPES,
    TIMESTAMP,
    TIMESTAMP_COMMON_GLOB,
    UTC_OFFSET,
    Column,
)
from callbill.landing.switch_formats import SWITCH_TIME_GLOB, SwitchFormat
from callbill.months import project_vars


def quote_sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def typed_expr(col: Column, cast: str | None = None) -> str:
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


def cast_column(name: str) -> str:
    return f'"_cast_{name}"'


def with_casts(source: str, columns: tuple[Column, ...]) -> str:
    """The source with each typed column's plain try_cast once, as `_cast_<name>`: the checks of a
    row (its type, then the rules across fields) read it instead of casting again."""
    casts = [
        f'try_cast("{c.name}" as {SQL_TYPES[c.type]}) as {cast_column(c.name)}' for c in columns if c.type in CAST_TYPES
    ]
    return f"(select *, {', '.join(casts)} from {source})" if casts else source


def problem_exprs(col: Column) -> list[str]:
    """SQL expressions, each null when the value is fine, else the reason."""
    v = f'"{col.name}"'
    cast = cast_column(col.name)
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
                    or ({v} glob {quote_sql(TIMESTAMP_COMMON_GLOB)} and {cast} is not null)
                    or (regexp_full_match(trim({v}), {quote_sql(TIMESTAMP)}) and {typed_expr(col, cast)} is not null)
                    then null
                when regexp_full_match(trim({v}), {quote_sql(UTC_OFFSET)})
                    then '{col.name}: ' || {v} || ' has a UTC offset; timestamps are in UTC (YYYY-MM-DDTHH:MM:SSZ)'
                else '{col.name}: ' || {v} || ' is not {expected[col.type]}'
            end"""
        )
    elif col.type == "date":
        problems.append(
            f"case when {present} "
            f"and (not regexp_full_match(trim({v}), {quote_sql(DATE)}) or {typed_expr(col, cast)} is null) "
            f"then '{col.name}: ' || {v} || ' is not {expected[col.type]}' end"
        )
    elif col.type in ("money", "rate"):
        pattern = MONEY if col.type == "money" else RATE
        problems.append(
            f"case when {present} and not regexp_full_match(trim({v}), {quote_sql(pattern)}) "
            f"then '{col.name}: ' || {v} || ' is not {expected[col.type]}' end"
        )
    elif col.type == "integer":
        # DuckDB's cast rounds 12.5 to 13 and reads 1e3 and 0x10: only digits, a sign and blanks pass.
        problems.append(
            f"case when {present} and ({v} glob {quote_sql(NOT_A_WHOLE_NUMBER_GLOB)} "
            f"or {typed_expr(col, cast)} is null) "
            f"then '{col.name}: ' || {v} || ' is not {expected[col.type]}' end"
        )
    elif col.type != "varchar":
        problems.append(
            f"case when {present} and ({typed_expr(col, cast)}) is null "
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
        allowed = ", ".join(quote_sql(a) for a in col.allowed)
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
            f"case when {present} and not regexp_full_match({v}, {quote_sql(col.pattern)}) "
            f"then '{col.name}: ' || {v} || ' is not {expected_form}' end"
        )
    return problems


def entity_rules(entity: str) -> list[str]:
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
            f"case when {cast_column('duration_sec')} < 0 then 'duration_sec: negative duration' end",
            f"case when {cast_column('duration_sec')} > {MAX_CALL_SECONDS} "
            "then 'duration_sec: ' || duration_sec || ' s is more than 24 hours' end",
            f"case when {cast_column('end_time_utc')} < {cast_column('start_time_utc')} "
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
            f"case when {cast_column('quantity')} < 1 "
            "then 'quantity: ' || quantity || ' is not a number of units (1 or more)' end"
        )
        rules.append(
            f"case when {cast_column('end_date')} < {cast_column('start_date')} "
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
    brands = ", ".join(quote_sql(b) for b in CARD_BRANDS)
    return [
        f"case when {cast_column('amount')} <= 0 then 'amount: a payment must be positive' end",
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
    approved_at = cast_column("approved_at")
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


def masked(text_expr: str, pattern: str) -> str:
    return f"regexp_replace({text_expr}, {quote_sql(pattern)}, '****\\1', 'g')"


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


def switch_record_problems(switch_format: SwitchFormat) -> list[str]:
    """Structure only (R-CDR): times and integers that parse, required fields, an answer time on an
    answered record. What the values mean is the staging models' work."""
    problems = []
    for name in switch_format.required:
        problems.append(f"case when \"{name}\" is null then 'missing {name}' end")
    for name in switch_format.times:
        problems.append(
            f'case when "{name}" is not null and not ("{name}" glob {quote_sql(SWITCH_TIME_GLOB)} '
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
