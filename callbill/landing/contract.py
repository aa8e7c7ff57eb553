"""The landing contract (CONTRACT.md): the entities of a landing folder, their columns and types, the
formats a value must have, and the order entities land in."""

from __future__ import annotations

from dataclasses import dataclass

from callbill.landing.switch_formats import SWITCH_FORMATS

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
    optional: bool = False  # a file may leave the column out (its rows then have no value)


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
        # The street address the statement prints (CONTRACT.md: optional, a file without them lands).
        _c("billing_street", optional=True),
        _c("billing_city", optional=True),
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
