"""`callbill generate`: a realistic, reproducible landing folder (CONTRACT.md, "Landing folder").

Every random draw comes from `numpy.random.default_rng(seed)` and its spawned children (one
stream per entity, one per CDR month), so the same arguments give byte-identical files and a
change to one entity's generator does not reshuffle the others. Calls are generated month by
month as numpy arrays (no Python loop per call) and written by DuckDB; the small tables are
written with pandas. With a platform, the same calls are written as that phone switch's own CDR
files (switches/, switch_tenants/, switch_cdrs/) instead of cdrs/; every other file is unchanged.
With a platform for only the first N accounts (a mixed landing), their calls are the switch's files
and the other accounts' calls stay in cdrs/, the rows of the canonical files without the switch's.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from callbill.landing.contract import ENTITIES
from callbill.landing.switch_formats import SWITCH_FORMATS, SWITCH_TIME_FORMAT

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
DateArray = NDArray[np.datetime64]

# Contract column order per entity (CONTRACT.md, "Landing folder").
COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": (
        "account_id",
        "account_name",
        "billing_country",
        "billing_state",
        "billing_postal_code",
        "plan_id",
        "partner_id",
        "service_start_date",
        "billing_start_date",
        "free_months",
        "contract_term_months",
        "tax_exempt_certificate_id",
        "low_usage_allowance",
        "autopay",
        "invoice_emails",
        "receipt_email",
        "cancel_requested_date",
        "updated_at",
        # optional in the contract; the statement prints them
        "billing_street",
        "billing_city",
    ),
    "subscription_items": (
        "item_id",
        "account_id",
        "product_code",
        "quantity",
        "phone_number",
        "extension",
        "low_usage",
        "start_date",
        "end_date",
        "updated_at",
    ),
    "account_changes": ("change_id", "account_id", "change_type", "changed_at"),
    "cdrs": (
        "call_id",
        "account_id",
        "direction",
        "source_number",
        "destination_number",
        "start_time_utc",
        "end_time_utc",
        "duration_sec",
    ),
    "payments": (
        "payment_id",
        "account_id",
        "invoice_id",
        "received_at",
        "amount",
        "method",
        "card_brand",
        "last4",
        "is_autopay",
        "status",
    ),
    "adjustments": ("adjustment_id", "account_id", "amount", "reason", "approved_at", "disputed_invoice_id"),
    "partners": ("partner_id", "partner_name", "residual_rate", "spiff_amount", "updated_at"),
}

# --- Geography and numbering -------------------------------------------------------------------
# States with their area codes (the rate deck has a 976 premium row for exactly these NPAs),
# a rough share of accounts, hours behind UTC (standard time) and a ZIP code range.
STATES: tuple[str, ...] = ("CA", "TX", "NY", "FL", "IL", "WA", "PA", "MA", "NJ", "GA", "OR", "DE", "CO", "AZ")
STATE_NPAS: dict[str, tuple[int, ...]] = {
    "CA": (415, 213, 310, 619),
    "TX": (512, 214, 713),
    "NY": (212, 718, 518),
    "FL": (305, 407),
    "IL": (312, 773),
    "WA": (206, 509),
    "PA": (215, 412),
    "MA": (617, 508),
    "NJ": (201, 973),
    "GA": (404, 770),
    "OR": (503,),
    "DE": (302,),
    "CO": (303,),
    "AZ": (602,),
}
STATE_WEIGHTS = np.array([14, 11, 10, 9, 7, 6, 6, 6, 6, 6, 5, 4, 5, 5], dtype=float)
STATE_UTC_OFFSET_HOURS = np.array([8, 6, 5, 5, 6, 8, 5, 5, 5, 5, 8, 5, 7, 7], dtype=np.int64)
STATE_ZIP_RANGES = np.array(
    [
        (90001, 96162),
        (75001, 79999),
        (10001, 14925),
        (32003, 34997),
        (60001, 62999),
        (98001, 99403),
        (15001, 19640),
        (1001, 2791),
        (7001, 8989),
        (30002, 31999),
        (97001, 97920),
        (19701, 19980),
        (80001, 81658),
        (85001, 86556),
    ],
    dtype=np.int64,
)
# A few cities per state for the billing address (in the state's ZIP range only roughly).
STATE_CITIES: dict[str, tuple[str, ...]] = {
    "CA": ("San Francisco", "Los Angeles", "San Diego", "Oakland"),
    "TX": ("Austin", "Dallas", "Houston"),
    "NY": ("New York", "Brooklyn", "Albany"),
    "FL": ("Miami", "Orlando"),
    "IL": ("Chicago", "Evanston"),
    "WA": ("Seattle", "Spokane"),
    "PA": ("Philadelphia", "Pittsburgh"),
    "MA": ("Boston", "Worcester"),
    "NJ": ("Newark", "Jersey City"),
    "GA": ("Atlanta", "Marietta"),
    "OR": ("Portland", "Salem"),
    "DE": ("Wilmington", "Dover"),
    "CO": ("Denver", "Boulder"),
    "AZ": ("Phoenix", "Tempe"),
}
STREET_NAMES = (
    "Main", "Oak", "Market", "Broadway", "Washington", "Lincoln", "Park", "Lake", "Hill", "Church",
    "Mill", "River", "Elm", "Spring", "Center", "Franklin", "Jefferson", "Harbor", "Sunset", "Madison",
)  # fmt: skip
STREET_KINDS = ("St", "Ave", "Blvd", "Rd", "Way", "Dr")
STATE_NPA_COUNT = np.array([len(STATE_NPAS[s]) for s in STATES], dtype=np.int64)
STATE_NPA_TABLE = np.array([[*STATE_NPAS[s], 0, 0, 0][:4] for s in STATES], dtype=np.int64)
US_NPAS = np.array([npa for state in STATES for npa in STATE_NPAS[state]], dtype=np.int64)
NPA_POSITION = np.full(1000, -1, dtype=np.int64)  # NPA -> index in US_NPAS, for "another NPA"
NPA_POSITION[US_NPAS] = np.arange(len(US_NPAS))
TOLL_FREE_NPAS = np.array([800, 833, 844, 855, 866, 877, 888], dtype=np.int64)
# Exchanges a subscriber number may use: not N11 (service codes), 555 (fictional) or 976 (premium).
VALID_NXX = np.array([n for n in range(200, 1000) if n % 100 != 11 and n not in (555, 976)], dtype=np.int64)
NANP_COUNTRY = 10**10  # "+1" in front of a 10-digit NANP number, as an integer


@dataclass(frozen=True)
class DialTemplate:
    """Numbers `head * 10**body_digits + body`; NANP bodies are a valid exchange plus 4 digits."""

    weight: float
    heads: tuple[int, ...]
    body_digits: int
    nanp_body: bool = False


# Outbound international mix; every head matches a non-US prefix of seeds/rate_deck.csv.
INTERNATIONAL: dict[str, DialTemplate] = {
    "canada": DialTemplate(0.24, (1416, 1604, 1514, 1403, 1613, 1905, 1647, 1778), 7, nanp_body=True),
    "jamaica": DialTemplate(0.04, (1876,), 7, nanp_body=True),
    "uk_fixed": DialTemplate(0.12, (44207, 44203, 44208), 7),
    "uk_mobile": DialTemplate(0.10, (4474, 4475, 4477, 4478, 4479), 8),
    "germany_fixed": DialTemplate(0.07, (4930,), 8),
    "germany_mobile": DialTemplate(0.05, (49151, 49152, 49157, 49159), 8),
    "mexico": DialTemplate(0.12, (5255, 5233, 5281), 8),
    # Brazil fixed: area code + [2-5] + 7 digits; mobile: area code + 9 + 8 digits.
    "brazil_fixed": DialTemplate(0.05, (55113, 55112, 55213, 55313, 55413, 55513, 55614), 7),
    "brazil_mobile": DialTemplate(0.09, (55119, 55219, 55319, 55419, 55519, 55619, 55719, 55819, 55859, 55199), 8),
    "india": DialTemplate(0.07, (919, 918, 917), 9),
    "philippines": DialTemplate(0.05, (63917, 63918, 63927, 63928), 7),
}
PREMIUM: dict[str, DialTemplate] = {
    "nanp_900": DialTemplate(0.5, (1900,), 7, nanp_body=True),
    "exchange_976": DialTemplate(0.5, tuple(int(f"1{npa}976") for npa in US_NPAS), 4),
}

# --- Calls ---------------------------------------------------------------------------------------
LOCAL, LONG_DISTANCE, INTERNAL, INBOUND, TOLL_FREE, INTERNATIONAL_CALL, PREMIUM_CALL = range(7)
CALL_MIX = np.array([0.34, 0.24, 0.12, 0.18, 0.05, 0.065, 0.005])
DIRECTION_OF_KIND = np.array([1, 1, 2, 0, 0, 1, 1], dtype=np.int8)  # 0 inbound, 1 outbound, 2 internal
MEDIAN_CALL_SECONDS = 90.0
MAX_CALL_SECONDS = 4 * 3600
UNANSWERED_SHARE = 0.05
RESEND_SHARE = 0.002
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# --- Accounts, items, money ---------------------------------------------------------------------
PLANS = ("basic", "standard", "unlimited")
PARTNERS = (
    ("P-001", "Summit Telecom Advisors"),
    ("P-002", "BluePeak Channel Partners"),
    ("P-003", "Cascade Voice Consulting"),
    ("P-004", "Harborline IT Solutions"),
    ("P-005", "Northstar Cloud Brokers"),
)
PRODUCTS = (
    "PHONE_DESK",
    "ATA",
    "PAGING",
    "DID_LOCAL",
    "DID_TOLLFREE",
    "DID_INBOUND",
    "DID_INTL",
    "CC_SEAT",
    "RENTAL_PHONE",
)
PHONE_DESK, ATA, PAGING, DID_LOCAL, DID_TOLLFREE, DID_INBOUND, DID_INTL, CC_SEAT, RENTAL_PHONE = range(9)
# Rough monthly prices to make payment amounts plausible (the seeds hold the real prices).
ROUGH_MONTHLY_PRICE = np.array([24.95, 9.95, 14.95, 4.95, 7.95, 2.95, 14.95, 39.95, 6.95])
NAME_PREFIXES = (
    "Acme",
    "Summit",
    "Blue Ridge",
    "Harbor",
    "Pioneer",
    "Evergreen",
    "Granite",
    "Redwood",
    "Cedar",
    "Lakeside",
    "Riverside",
    "Northgate",
    "Silverline",
    "Keystone",
    "Beacon",
    "Prairie",
    "Coastal",
    "Ironwood",
    "Maple",
    "Sterling",
    "Golden Gate",
    "Liberty",
    "Frontier",
    "Canyon",
    "Bayview",
    "Highland",
    "Oakmont",
    "Crescent",
    "Meridian",
    "Pinnacle",
    "Horizon",
    "Brightwater",
    "Falcon",
    "Juniper",
    "Magnolia",
    "Sequoia",
    "Tidewater",
    "Union Square",
    "Westbrook",
    "Willow Creek",
    "Copper Hill",
    "Stonebridge",
    "Lighthouse",
    "Aspen",
    "Bluebird",
)
NAME_INDUSTRIES = (
    "Logistics",
    "Dental",
    "Legal",
    "Realty",
    "Plumbing",
    "Accounting",
    "Veterinary Clinic",
    "Insurance",
    "Construction",
    "Consulting",
    "Pediatrics",
    "Auto Repair",
    "Marketing",
    "Architects",
    "Bakery",
    "Fitness",
    "Staffing",
    "Property Management",
    "Engineering",
    "Roofing",
    "Landscaping",
    "Physical Therapy",
    "Travel",
    "Printing",
    "Electric",
    "Hardware",
    "Family Medicine",
    "Optometry",
    "Moving",
    "Title Company",
    "Wealth Advisors",
    "Florist",
    "Security",
    "Imaging",
    "Catering",
)
NAME_SUFFIXES = ("LLC", "Inc.", "Group", "Partners", "Co.", "Associates", "Ltd.", "Services")
EMAIL_LOCAL_PARTS = ("accounts", "ap", "finance", "office", "controller", "it", "admin")
ADJUSTMENT_REASONS = (
    "Service outage credit",
    "Goodwill credit",
    "Number porting delay credit",
    "Courtesy credit for late installation",
)
DISPUTE_REASONS = (
    "Disputed international charges",
    "Disputed duplicate number charge",
    "Billing error correction",
)
CHANGE_TYPES = ("caller_id", "e911", "bidirectional")
CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
PAYMENT_OUTCOMES = ("settled", "partial", "failed", "refunded", "chargeback", "unpaid")
PAYMENT_OUTCOME_SHARES = (0.85, 0.08, 0.03, 0.01, 0.005, 0.025)
PAYMENT_METHODS = ("card", "ach", "check")
FAR_FUTURE = np.datetime64("2200-01-01", "D")
START_MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# --- Small helpers --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """The generated months: calls and activity from `first_month` for `months` months."""

    first_month: np.datetime64  # unit M
    months: int

    def month_start(self, offset: int) -> np.datetime64:
        return (self.first_month + offset).astype("datetime64[D]")

    @property
    def first_day(self) -> np.datetime64:
        return self.month_start(0)

    @property
    def last_day(self) -> np.datetime64:
        return self.month_start(self.months) - 1

    def invoice_dates(self) -> list[np.datetime64]:
        """The invoices (1st of the month after each generated month) that bill the generated usage."""
        return [self.month_start(k) for k in range(1, self.months + 1)]


def uniform_days(rng: np.random.Generator, low: DateArray, high: DateArray) -> DateArray:
    """A uniform date in [low, high] per element (low where the range is empty)."""
    span = np.maximum((high - low).astype(np.int64) + 1, 1)
    return low + np.floor(rng.random(len(low)) * span).astype(np.int64)


def add_months(dates: DateArray, months: IntArray) -> DateArray:
    """Calendar month arithmetic, clamped to the month end (Jan 31 + 1 month = Feb 28), like SQL."""
    month = dates.astype("datetime64[M]")
    day_offset = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    last = (target + 1).astype("datetime64[D]") - 1
    return np.minimum(target.astype("datetime64[D]") + day_offset, last)


def month_end(dates: DateArray) -> DateArray:
    return (dates.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1


def at_business_time(rng: np.random.Generator, days: DateArray) -> NDArray[np.datetime64]:
    """A timestamp on each day between 14:00 and 23:00 UTC (US office hours)."""
    seconds = rng.integers(14 * 3600, 23 * 3600, len(days))
    return days.astype("datetime64[s]") + seconds


def fmt_dates(days: DateArray) -> list[str | None]:
    text = np.datetime_as_string(days, unit="D")
    return [None if np.isnat(d) or d >= FAR_FUTURE else t for d, t in zip(days, text, strict=True)]


def fmt_timestamps(stamps: NDArray[np.datetime64]) -> list[str]:
    return [t + "Z" for t in np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s")]


def fmt_cents(cents: IntArray) -> list[str]:
    return [f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}" for c in cents.tolist()]


def fmt_bools(values: BoolArray) -> list[str]:
    return ["true" if v else "false" for v in values.tolist()]


def where_text(mask: BoolArray, texts: list[str]) -> list[str | None]:
    """The text where the mask is set, else null (an empty CSV field)."""
    return [t if m else None for t, m in zip(texts, mask.tolist(), strict=True)]


def fmt_numbers(numbers: IntArray) -> list[str | None]:
    """E.164 text of integer digit strings; 0 means no number."""
    return [f"+{n}" if n else None for n in numbers.tolist()]


def account_ids(indexes: IntArray) -> list[str]:
    return [f"ACC-{i + 1:05d}" for i in indexes.tolist()]


def invoice_id(invoice_date: np.datetime64, account_index: int) -> str:
    yyyymm = str(invoice_date)[:7].replace("-", "")
    return f"INV-{yyyymm}-ACC-{account_index + 1:05d}"


def choose_at_least_one(rng: np.random.Generator, count: int, share: float) -> IntArray:
    """About `share` of `count` indexes (at least one), sorted."""
    k = min(count, max(1, round(share * count)))
    return np.sort(rng.choice(count, size=k, replace=False)).astype(np.int64)


def nanp_bodies(rng: np.random.Generator, size: int) -> IntArray:
    """Random 7-digit subscriber numbers: a valid exchange and a line."""
    return VALID_NXX[rng.integers(0, len(VALID_NXX), size)] * 10_000 + rng.integers(0, 10_000, size)


def counter_bodies(counter: IntArray) -> IntArray:
    """Unique 7-digit subscriber numbers from a counter: 2000000, 2000001, ... skipping bad exchanges."""
    return VALID_NXX[counter // 10_000] * 10_000 + counter % 10_000


def dial(rng: np.random.Generator, templates: dict[str, DialTemplate], size: int) -> IntArray:
    """`size` numbers drawn from a weighted mix of dial templates (vectorised)."""
    specs = list(templates.values())
    weights = np.array([s.weight for s in specs])
    which = rng.choice(len(specs), size=size, p=weights / weights.sum())
    numbers = np.zeros(size, dtype=np.int64)
    for k, spec in enumerate(specs):
        rows = np.flatnonzero(which == k)
        heads = np.array(spec.heads, dtype=np.int64)[rng.integers(0, len(spec.heads), len(rows))]
        if spec.nanp_body:
            bodies = nanp_bodies(rng, len(rows))
        else:
            bodies = rng.integers(0, 10**spec.body_digits, len(rows))
        numbers[rows] = heads * 10**spec.body_digits + bodies
    return numbers


def write_csv(frame: pd.DataFrame, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return len(frame)


# --- Accounts -------------------------------------------------------------------------------------
@dataclass
class Accounts:
    """Account attributes as arrays (index i is ACC-{i+1:05d})."""

    names: list[str]
    domains: list[str]
    state: IntArray
    plan: IntArray
    phones: IntArray
    service_start: DateArray
    free_months: IntArray
    billing_start: DateArray
    cancel_requested: DateArray  # FAR_FUTURE when none
    cancel_end: DateArray  # first day without service; FAR_FUTURE when not cancelled
    autopay: BoolArray
    call_weight: NDArray[np.float64]

    @property
    def count(self) -> int:
        return len(self.state)

    @property
    def first_invoice(self) -> DateArray:
        """R-PRORATE-1: billing from the 1st is invoiced that day, else on the next month's 1st."""
        month = self.billing_start.astype("datetime64[M]").astype("datetime64[D]")
        return np.where(self.billing_start == month, month, month_end(self.billing_start) + 1)


def company_names(rng: np.random.Generator, count: int) -> tuple[list[str], list[str]]:
    """Plausible company names (few repeats) and a matching e-mail domain."""
    pairs = np.resize(rng.permutation(len(NAME_PREFIXES) * len(NAME_INDUSTRIES)), count)
    suffixes = rng.integers(0, len(NAME_SUFFIXES), count)
    names, domains = [], []
    for pair, suffix in zip(pairs.tolist(), suffixes.tolist(), strict=True):
        prefix, industry = divmod(pair, len(NAME_INDUSTRIES))
        prefix, industry = NAME_PREFIXES[prefix], NAME_INDUSTRIES[industry]
        names.append(f"{prefix} {industry} {NAME_SUFFIXES[suffix]}")
        domains.append(re.sub(r"[^a-z0-9]+", "-", f"{prefix} {industry}".lower()).strip("-") + ".example")
    return names, domains


def cancellation_end(requested: DateArray) -> DateArray:
    """R-CANCEL-1: >= 10 days before month end ends that month, else the next; returns the day after."""
    last = month_end(requested)
    days_before = (last - requested).astype(np.int64)
    end = np.where(days_before >= 10, last, month_end(last + 1))
    return np.where(requested >= FAR_FUTURE, FAR_FUTURE, end + 1)


def build_accounts(rng: np.random.Generator, count: int, window: Window) -> Accounts:
    names, domains = company_names(rng, count)
    state = rng.choice(len(STATES), size=count, p=STATE_WEIGHTS / STATE_WEIGHTS.sum())
    plan = rng.choice(len(PLANS), size=count, p=[0.4, 0.4, 0.2])
    phones = np.clip(np.round(rng.lognormal(np.log(6.0), 0.9, count)), 1, 60).astype(np.int64)

    earliest = (window.first_month - 18).astype("datetime64[D]")
    latest = window.month_start(1) - 1
    service_start = uniform_days(rng, np.full(count, earliest), np.full(count, latest))
    free_months = rng.choice([0, 1, 2], size=count, p=[0.88, 0.08, 0.04]).astype(np.int64)
    # A few accounts start mid-month in the start month so that invoices of the generated months
    # carry prorated first periods (R-PRORATE-1), with or without free months.
    late = rng.choice(count, size=min(count, max(3, round(0.03 * count))), replace=False)
    service_start[late] = window.first_day + rng.integers(1, 27, len(late))
    free_months[late] = rng.integers(0, 3, len(late))
    billing_start = add_months(service_start, free_months)

    cancel_requested = np.full(count, FAR_FUTURE)
    cancelling = choose_at_least_one(rng, count, 0.03)
    low = np.maximum(service_start[cancelling] + 1, window.first_day)
    cancel_requested[cancelling] = uniform_days(rng, low, np.full(len(cancelling), window.last_day))
    cancel_requested[cancel_requested > window.last_day] = FAR_FUTURE

    weight = phones**0.8 * rng.lognormal(0.0, 0.5, count)
    return Accounts(
        names=names,
        domains=domains,
        state=state.astype(np.int64),
        plan=plan.astype(np.int64),
        phones=phones,
        service_start=service_start,
        free_months=free_months,
        billing_start=billing_start,
        cancel_requested=cancel_requested,
        cancel_end=cancellation_end(cancel_requested),
        autopay=rng.random(count) < 0.5,
        call_weight=weight / weight.mean(),
    )


def account_emails(rng: np.random.Generator, domains: list[str]) -> tuple[list[str], list[str]]:
    """1-3 invoice recipients (primary first) and one receipt address per account."""
    extra_counts = rng.choice([0, 1, 2], size=len(domains), p=[0.5, 0.35, 0.15])
    receipt_to_primary = rng.random(len(domains)) < 0.6
    invoice_emails, receipts = [], []
    for domain, extra, to_primary in zip(domains, extra_counts, receipt_to_primary, strict=True):
        others = [EMAIL_LOCAL_PARTS[o] for o in rng.choice(len(EMAIL_LOCAL_PARTS), size=extra, replace=False)]
        invoice_emails.append(";".join(f"{local}@{domain}" for local in ["billing", *others]))
        receipts.append(f"billing@{domain}" if to_primary else f"receipts@{domain}")
    return invoice_emails, receipts


def accounts_frame(rng: np.random.Generator, accounts: Accounts) -> pd.DataFrame:
    count = accounts.count
    zip_low, zip_high = STATE_ZIP_RANGES[accounts.state, 0], STATE_ZIP_RANGES[accounts.state, 1]
    postal = zip_low + np.floor(rng.random(count) * (zip_high - zip_low + 1)).astype(np.int64)
    has_partner = rng.random(count) < 0.4
    partner = rng.integers(0, len(PARTNERS), count)
    # ~10% leave billing_start_date empty: the loader derives it (R-START-1).
    given = rng.random(count) >= 0.1
    term = rng.choice([12, 24, 36], size=count, p=[0.5, 0.3, 0.2])
    exempt = rng.random(count) < 0.08
    certificate = rng.integers(10_000, 100_000, count)
    allowance = np.where(accounts.phones >= 20, rng.integers(2, 6, count), 0)
    invoice_emails, receipts = account_emails(rng, accounts.domains)
    streets, cities = billing_addresses(rng, accounts.state)  # drawn last: the columns above are unchanged
    return pd.DataFrame(
        {
            "account_id": account_ids(np.arange(count)),
            "account_name": accounts.names,
            "billing_country": ["US"] * count,
            "billing_state": [STATES[s] for s in accounts.state.tolist()],
            "billing_postal_code": [f"{z:05d}" for z in postal.tolist()],
            "plan_id": [PLANS[p] for p in accounts.plan.tolist()],
            "partner_id": where_text(has_partner, [PARTNERS[p][0] for p in partner]),
            "service_start_date": fmt_dates(accounts.service_start),
            "billing_start_date": fmt_dates(np.where(given, accounts.billing_start, FAR_FUTURE)),
            "free_months": accounts.free_months.tolist(),
            "contract_term_months": term.tolist(),
            "tax_exempt_certificate_id": where_text(exempt, [f"TX-EX-{c}" for c in certificate]),
            "low_usage_allowance": allowance.tolist(),
            "autopay": fmt_bools(accounts.autopay),
            "invoice_emails": invoice_emails,
            "receipt_email": receipts,
            "cancel_requested_date": fmt_dates(accounts.cancel_requested),
            "updated_at": fmt_timestamps(at_business_time(rng, accounts.service_start)),
            "billing_street": streets,
            "billing_city": cities,
        },
        columns=list(COLUMNS["accounts"]),
    )


def billing_addresses(rng: np.random.Generator, state: IntArray) -> tuple[list[str], list[str]]:
    """A street address (some with a suite) and a city of the account's state."""
    count = len(state)
    number = rng.integers(1, 9900, count)
    street = rng.integers(0, len(STREET_NAMES), count)
    kind = rng.integers(0, len(STREET_KINDS), count)
    suite = np.where(rng.random(count) < 0.3, rng.integers(100, 900, count), 0)
    city = rng.random(count)
    streets, cities = [], []
    for k, s in enumerate(state.tolist()):
        line = f"{number[k]} {STREET_NAMES[street[k]]} {STREET_KINDS[kind[k]]}"
        streets.append(f"{line}, Suite {suite[k]}" if suite[k] else line)
        options = STATE_CITIES[STATES[s]]
        cities.append(options[int(city[k] * len(options))])
    return streets, cities


@dataclass
class AutopayChanges:
    """Autopay switched by a later account version: from `changed_on` on, `autopay` is the new value."""

    changed_on: DateArray  # FAR_FUTURE when unchanged
    autopay: BoolArray

    def autopay_on(self, accounts: Accounts, index: IntArray, day: np.datetime64) -> BoolArray:
        return np.where(self.changed_on[index] <= day, self.autopay[index], accounts.autopay[index])


def account_updates(
    rng: np.random.Generator, accounts: Accounts, current: pd.DataFrame, window: Window
) -> tuple[pd.DataFrame, AutopayChanges]:
    """A second, later version of ~3% of accounts: a new name, autopay switched, or another recipient."""
    chosen = choose_at_least_one(rng, accounts.count, 0.03)
    rows = current.iloc[chosen].copy()
    low = np.maximum(accounts.service_start[chosen] + 1, window.first_day)
    day = uniform_days(rng, low, np.full(len(chosen), window.last_day))
    kind = rng.integers(0, 3, len(chosen))
    changes = AutopayChanges(np.full(accounts.count, FAR_FUTURE), accounts.autopay.copy())
    names, autopays = rows["account_name"].tolist(), rows["autopay"].tolist()
    emails = rows["invoice_emails"].tolist()
    for k, (index, what) in enumerate(zip(chosen.tolist(), kind.tolist(), strict=True)):
        if what == 0:
            names[k] = names[k].rsplit(" ", 1)[0] + " Holdings"
        elif what == 1:
            changes.changed_on[index], changes.autopay[index] = day[k], not accounts.autopay[index]
            autopays[k] = "true" if changes.autopay[index] else "false"
        elif emails[k].count(";") < 4:
            emails[k] += f";payables@{accounts.domains[index]}"
    rows["account_name"], rows["autopay"], rows["invoice_emails"] = names, autopays, emails
    rows["updated_at"] = fmt_timestamps(at_business_time(rng, day))
    return rows.reset_index(drop=True), changes


# --- Subscription items ---------------------------------------------------------------------------
@dataclass
class Items:
    """Subscription items in item_id order, as arrays."""

    account: IntArray
    product: IntArray
    quantity: IntArray
    number: IntArray  # E.164 digits, 0 = none
    extension: IntArray  # 0 = none
    low_usage: BoolArray
    start: DateArray
    end: DateArray  # FAR_FUTURE = open
    updated_at: NDArray[np.datetime64]


@dataclass
class Pool:
    """Per-account lists (e.g. the numbers an account can call from), flattened with offsets."""

    values: IntArray
    offset: IntArray
    count: IntArray

    @classmethod
    def of(cls, account: IntArray, values: IntArray, accounts: int) -> Pool:
        """`account` must be sorted: items are in account order."""
        count = np.bincount(account, minlength=accounts).astype(np.int64)
        return cls(values.astype(np.int64), np.cumsum(count) - count, count)

    def pick(self, rng: np.random.Generator, account: IntArray) -> IntArray:
        position = np.floor(rng.random(len(account)) * self.count[account]).astype(np.int64)
        return self.values[self.offset[account] + position]


@dataclass
class CallPools:
    local_dids: Pool  # outbound caller IDs
    inbound_dids: Pool  # local and inbound-only numbers
    extensions: Pool  # desk phones
    toll_free: IntArray  # one per account, 0 = none


def item_counts(rng: np.random.Generator, accounts: Accounts) -> dict[int, IntArray]:
    """How many items of each product every account has (every product appears at least once)."""
    n, phones = accounts.count, accounts.phones

    def some(share: float, low: int = 1, high: int = 1) -> IntArray:
        return np.where(rng.random(n) < share, rng.integers(low, high + 1, n), 0).astype(np.int64)

    counts = {
        PHONE_DESK: phones.copy(),
        ATA: some(0.25, 1, 2),
        PAGING: some(0.12),
        DID_LOCAL: 1 + phones // 3,
        DID_TOLLFREE: some(0.6),
        DID_INBOUND: some(0.2, 1, 3),
        DID_INTL: some(0.05),
        CC_SEAT: some(0.15),
        RENTAL_PHONE: some(0.2),
    }
    for values in counts.values():
        if values.sum() == 0:
            values[rng.integers(0, n)] = 1
    return counts


def item_numbers(rng: np.random.Generator, accounts: Accounts, account: IntArray, product: IntArray) -> IntArray:
    """Unique numbers for the DIDs: US numbers from one global counter, international from another."""
    numbers = np.zeros(len(account), dtype=np.int64)
    us = np.isin(product, [DID_LOCAL, DID_INBOUND, DID_TOLLFREE])
    counter = np.cumsum(us) - 1
    state = accounts.state[account]
    npa = STATE_NPA_TABLE[state, np.floor(rng.random(len(account)) * STATE_NPA_COUNT[state]).astype(np.int64)]
    toll_free = product == DID_TOLLFREE
    npa[toll_free] = TOLL_FREE_NPAS[rng.integers(0, len(TOLL_FREE_NPAS), int(toll_free.sum()))]
    numbers[us] = NANP_COUNTRY + npa[us] * 10**7 + counter_bodies(counter[us])
    # International DIDs alternate between London (+44 20 38..) and Berlin (+49 30 2..).
    intl = np.flatnonzero(product == DID_INTL)
    k = np.arange(len(intl))
    numbers[intl] = np.where(k % 2 == 0, 442038 * 10**6 + k, 49302 * 10**7 + k)
    return numbers


def build_items(rng: np.random.Generator, accounts: Accounts, window: Window) -> Items:
    counts = item_counts(rng, accounts)
    parts = []
    for product, per_account in counts.items():
        account = np.repeat(np.arange(accounts.count), per_account)
        seq = np.arange(len(account)) - np.repeat(np.cumsum(per_account) - per_account, per_account)
        parts.append((account, np.full(len(account), product), seq))
    account, product, seq = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.lexsort((seq, product, account))
    account, product, seq = account[order], product[order], seq[order]
    size = len(account)

    quantity = np.ones(size, dtype=np.int64)
    quantity[product == CC_SEAT] = rng.integers(2, 11, int((product == CC_SEAT).sum()))
    quantity[product == RENTAL_PHONE] = rng.integers(1, 6, int((product == RENTAL_PHONE).sum()))
    # Extensions 101.. for desk phones, then ATAs, then paging devices: unique within the account.
    phones, atas = counts[PHONE_DESK][account], counts[ATA][account]
    extension = np.select(
        [product == PHONE_DESK, product == ATA, product == PAGING],
        [101 + seq, 101 + phones + seq, 101 + phones + atas + seq],
        0,
    )
    start, end = item_dates(rng, accounts, window, account, product, seq)
    updated = np.where(end < FAR_FUTURE, np.maximum(start, end - rng.integers(3, 22, size)), start)
    return Items(
        account=account,
        product=product,
        quantity=quantity,
        number=item_numbers(rng, accounts, account, product),
        extension=extension,
        low_usage=low_usage_flags(rng, accounts, account, product),
        start=start,
        end=end,
        updated_at=at_business_time(rng, updated),
    )


def item_dates(
    rng: np.random.Generator,
    accounts: Accounts,
    window: Window,
    account: IntArray,
    product: IntArray,
    seq: IntArray,
) -> tuple[DateArray, DateArray]:
    """Start with the account; ~5% added mid-month in the generated months, ~2% ended there.

    The core items (two desk phones, the main number, the toll-free number) never move, so that
    every account keeps numbers and extensions to call from for the whole window."""
    size = len(account)
    start = accounts.service_start[account].copy()
    end = np.full(size, FAR_FUTURE)
    first_phones = (product == PHONE_DESK) & (seq < 2)
    core = first_phones | ((product == DID_LOCAL) & (seq == 0)) | (product == DID_TOLLFREE)
    last_service_day = np.minimum(window.last_day, accounts.cancel_end[account] - 1)

    added = ~core & (rng.random(size) < 0.06)
    low = np.maximum(start + 1, window.first_day)
    day = uniform_days(rng, low, last_service_day)
    day = np.where(day == day.astype("datetime64[M]").astype("datetime64[D]"), day + 1, day)  # not the 1st
    added &= day <= last_service_day
    start[added] = day[added]

    ended = ~core & ~added & (rng.random(size) < 0.025)
    day = uniform_days(rng, np.maximum(start + 1, window.first_day), last_service_day)
    ended &= day <= last_service_day
    end[ended] = day[ended]
    return start, end


def low_usage_flags(rng: np.random.Generator, accounts: Accounts, account: IntArray, product: IntArray) -> BoolArray:
    """Accounts with >= 20 phones may declare low-usage phones (R-LOWUSE-1), sometimes more than allowed."""
    flags = np.zeros(len(account), dtype=bool)
    declaring = np.flatnonzero((accounts.phones >= 20) & (rng.random(accounts.count) < 0.6))
    phone_rows = np.flatnonzero(product == PHONE_DESK)
    first_phone = np.searchsorted(account[phone_rows], np.arange(accounts.count))
    for index in declaring.tolist():
        wanted = min(int(rng.integers(1, 8)), int(accounts.phones[index]))
        chosen = rng.choice(int(accounts.phones[index]), size=wanted, replace=False)
        flags[phone_rows[first_phone[index] + chosen]] = True
    return flags


def items_frame(items: Items) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [f"IT-{i:06d}" for i in range(1, len(items.account) + 1)],
            "account_id": account_ids(items.account),
            "product_code": [PRODUCTS[p] for p in items.product.tolist()],
            "quantity": items.quantity.tolist(),
            "phone_number": fmt_numbers(items.number),
            "extension": [str(e) if e else None for e in items.extension.tolist()],
            "low_usage": fmt_bools(items.low_usage),
            "start_date": fmt_dates(items.start),
            "end_date": fmt_dates(items.end),
            "updated_at": fmt_timestamps(items.updated_at),
        },
        columns=list(COLUMNS["subscription_items"]),
    )


def call_pools(items: Items, accounts: Accounts) -> CallPools:
    """What calls may use: items live from the service start and never ended (see item_dates)."""
    stable = (items.start == accounts.service_start[items.account]) & (items.end >= FAR_FUTURE)
    local = stable & (items.product == DID_LOCAL)
    inbound = stable & np.isin(items.product, [DID_LOCAL, DID_INBOUND])
    phones = stable & (items.product == PHONE_DESK)
    toll_free = np.zeros(accounts.count, dtype=np.int64)
    rows = np.flatnonzero(stable & (items.product == DID_TOLLFREE))
    toll_free[items.account[rows]] = items.number[rows]
    return CallPools(
        local_dids=Pool.of(items.account[local], items.number[local], accounts.count),
        inbound_dids=Pool.of(items.account[inbound], items.number[inbound], accounts.count),
        extensions=Pool.of(items.account[phones], items.extension[phones], accounts.count),
        toll_free=toll_free,
    )


# --- Calls ----------------------------------------------------------------------------------------
def call_start_seconds(
    rng: np.random.Generator,
    accounts: Accounts,
    account: IntArray,
    first_day: IntArray,
    days: IntArray,
    last: IntArray,
) -> IntArray:
    """Uniform over each account's active days, fewer at weekends, mostly in local office hours."""
    size = len(account)
    day = first_day + np.floor(rng.random(size) * days).astype(np.int64)
    weekend = ((day + 3) % 7 >= 5) & (rng.random(size) < 0.7)  # 1970-01-01 was a Thursday
    redraw = np.floor(rng.random(int(weekend.sum())) * days[weekend]).astype(np.int64)
    day[weekend] = first_day[weekend] + redraw
    office = rng.random(size) < 0.8
    local_seconds = rng.integers(8 * 3600, 18 * 3600, size)
    utc_offset = STATE_UTC_OFFSET_HOURS[accounts.state[account]] * 3600
    seconds = np.where(office, local_seconds + utc_offset, rng.integers(0, 86_400, size))
    start = day * 86_400 + seconds
    # Evening office hours run past UTC midnight: keep the call inside the account's window.
    return np.where(start >= last * 86_400, start - 86_400, start)


def call_kinds(rng: np.random.Generator, pools: CallPools, account: IntArray) -> IntArray:
    kind = np.searchsorted(np.cumsum(CALL_MIX), rng.random(len(account)) * CALL_MIX.sum(), side="right")
    kind = np.minimum(kind, len(CALL_MIX) - 1)
    kind[(kind == INTERNAL) & (pools.extensions.count[account] < 2)] = LOCAL
    kind[(kind == TOLL_FREE) & (pools.toll_free[account] == 0)] = INBOUND
    return kind


def call_numbers(
    rng: np.random.Generator, pools: CallPools, account: IntArray, kind: IntArray
) -> tuple[IntArray, IntArray]:
    """Source and destination digits per call (extensions for internal calls)."""
    size = len(account)
    source, destination = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
    outbound = np.flatnonzero(DIRECTION_OF_KIND[kind] == 1)
    source[outbound] = pools.local_dids.pick(rng, account[outbound])
    source_npa = (source // 10**7) % 1000

    rows = np.flatnonzero(kind == LOCAL)
    destination[rows] = NANP_COUNTRY + source_npa[rows] * 10**7 + nanp_bodies(rng, len(rows))
    rows = np.flatnonzero(kind == LONG_DISTANCE)
    other = (NPA_POSITION[source_npa[rows]] + rng.integers(1, len(US_NPAS), len(rows))) % len(US_NPAS)
    destination[rows] = NANP_COUNTRY + US_NPAS[other] * 10**7 + nanp_bodies(rng, len(rows))
    rows = np.flatnonzero(kind == INTERNATIONAL_CALL)
    destination[rows] = dial(rng, INTERNATIONAL, len(rows))
    rows = np.flatnonzero(kind == PREMIUM_CALL)
    destination[rows] = dial(rng, PREMIUM, len(rows))

    rows = np.flatnonzero((kind == INBOUND) | (kind == TOLL_FREE))
    caller_npa = US_NPAS[rng.integers(0, len(US_NPAS), len(rows))]
    source[rows] = NANP_COUNTRY + caller_npa * 10**7 + nanp_bodies(rng, len(rows))
    rows = np.flatnonzero(kind == INBOUND)
    destination[rows] = pools.inbound_dids.pick(rng, account[rows])
    rows = np.flatnonzero(kind == TOLL_FREE)
    destination[rows] = pools.toll_free[account[rows]]

    rows = np.flatnonzero(kind == INTERNAL)
    extensions = pools.extensions
    count, offset = extensions.count[account[rows]], extensions.offset[account[rows]]
    caller = np.floor(rng.random(len(rows)) * count).astype(np.int64)
    callee = (caller + 1 + np.floor(rng.random(len(rows)) * (count - 1)).astype(np.int64)) % count
    source[rows], destination[rows] = extensions.values[offset + caller], extensions.values[offset + callee]
    return source, destination


def call_durations(rng: np.random.Generator, size: int) -> IntArray:
    """Long-tailed (lognormal, median 90 s, capped at 4 h); ~5% unanswered at 0 s."""
    seconds = np.ceil(rng.lognormal(np.log(MEDIAN_CALL_SECONDS), 1.25, size)).astype(np.int64)
    seconds = np.clip(seconds, 1, MAX_CALL_SECONDS)
    seconds[rng.random(size) < UNANSWERED_SHARE] = 0
    return seconds


def month_calls(
    rng: np.random.Generator,
    accounts: Accounts,
    pools: CallPools,
    window: Window,
    offset: int,
    calls_per_account_month: int,
    first_call_no: int,
) -> pd.DataFrame:
    """All calls that start in one generated month, numbered in start order from `first_call_no`."""
    month_first = window.month_start(offset)
    month_last = window.month_start(offset + 1)
    # Calls only while the account has service: from the service start to the cancellation.
    first = np.maximum(accounts.service_start, month_first).astype(np.int64)
    last = np.minimum(accounts.cancel_end, month_last).astype(np.int64)
    days = np.maximum(last - first, 0)
    month_days = (month_last - month_first).astype(np.int64)
    expected = calls_per_account_month * accounts.call_weight * days / month_days
    per_account = rng.poisson(expected)
    account = np.repeat(np.arange(accounts.count), per_account)

    start = call_start_seconds(rng, accounts, account, first[account], days[account], last[account])
    kind = call_kinds(rng, pools, account)
    source, destination = call_numbers(rng, pools, account, kind)
    duration = call_durations(rng, len(account))
    order = np.argsort(start, kind="stable")
    return pd.DataFrame(
        {
            "call_no": np.arange(first_call_no, first_call_no + len(account), dtype=np.int64),
            "account_no": account[order] + 1,
            "direction_code": DIRECTION_OF_KIND[kind[order]],
            "source": source[order],
            "destination": destination[order],
            "start_s": start[order],
            "duration_sec": duration[order],
        }
    )


def copy_calls(con: duckdb.DuckDBPyConnection, calls: pd.DataFrame, path: Path) -> int:
    """Write calls as contract CSV with DuckDB (parallel, ordered by call id)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con.register("calls", calls)
    number = "case when direction_code = 2 then {0}::varchar else '+' || {0}::varchar end"
    con.execute(
        f"""
        copy (
            select
                'C' || lpad(call_no::varchar, 12, '0') as call_id,
                'ACC-' || lpad(account_no::varchar, 5, '0') as account_id,
                case direction_code when 0 then 'inbound' when 1 then 'outbound' else 'internal' end
                    as direction,
                {number.format("source")} as source_number,
                {number.format("destination")} as destination_number,
                strftime(make_timestamp(start_s * 1000000), '{TIMESTAMP_FORMAT}') as start_time_utc,
                strftime(make_timestamp((start_s + duration_sec) * 1000000), '{TIMESTAMP_FORMAT}')
                    as end_time_utc,
                duration_sec
            from (select * from calls order by call_no)
        ) to '{str(path).replace("'", "''")}' (header, delimiter ',')
        """
    )
    con.unregister("calls")
    return len(calls)


def write_cdrs(
    rng: np.random.Generator,
    accounts: Accounts,
    pools: CallPools,
    window: Window,
    calls_per_account_month: int,
    out_dir: Path,
) -> dict[str, int]:
    """One file per month plus cdrs_resend.csv: ~0.2% of all calls again, byte for byte (R-RATE-7)."""
    month_rngs = rng.spawn(window.months)
    resend_rng = rng.spawn(1)[0]
    resends, written, next_call_no = [], 0, 1
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        for offset, month_rng in enumerate(month_rngs):
            calls = month_calls(month_rng, accounts, pools, window, offset, calls_per_account_month, next_call_no)
            next_call_no += len(calls)
            month = str(window.first_month + offset)
            written += copy_calls(con, calls, out_dir / "cdrs" / f"cdrs_{month}.csv")
            resends.append(calls.iloc[np.flatnonzero(resend_rng.random(len(calls)) < RESEND_SHARE)])
            del calls
        resent = copy_calls(con, pd.concat(resends, ignore_index=True), out_dir / "cdrs" / "cdrs_resend.csv")
    return {"cdrs": written, "cdrs_resend": resent}


# --- Switch CDRs (CDR_FORMATS.md; CONTRACT.md "Landing folder": switches/, switch_tenants/, switch_cdrs/) ---
@dataclass(frozen=True)
class Unanswered:
    """An outcome of a call nobody answered: the switch's word for it, its share and its seconds of ringing."""

    cause: str
    share: float
    ring_min: int
    ring_max: int


@dataclass(frozen=True)
class Switch:
    """The one phone switch a `--platform` landing describes (a US switch on Central time)."""

    switch_id: str
    platform: str
    timezone: str
    country_code: str
    inbound_contexts: tuple[str, ...]  # the first is the context of every generated inbound call
    user_context: str  # where the switch's users dial from (outbound and internal calls)
    answered: str  # disposition / hangup cause of an answered call
    unanswered: tuple[Unanswered, ...]


SWITCHES: dict[str, Switch] = {
    "asterisk": Switch(
        "pbx1",
        "asterisk",
        "America/Chicago",
        "US",
        ("from-pstn", "from-trunk"),
        "from-internal",
        "ANSWERED",
        (Unanswered("NO ANSWER", 0.7, 8, 45), Unanswered("BUSY", 0.3, 0, 4)),
    ),
    "freeswitch": Switch(
        "fs1",
        "freeswitch",
        "America/Chicago",
        "US",
        ("public",),
        "default",
        "NORMAL_CLEARING",
        (
            Unanswered("NO_ANSWER", 0.45, 8, 45),
            Unanswered("USER_BUSY", 0.2, 0, 4),
            Unanswered("ORIGINATOR_CANCEL", 0.35, 2, 30),
        ),
    ),
}
PLATFORMS = tuple(SWITCHES)
# The landing's own column lists: the generator writes what the loader reads.
SWITCH_COLUMNS = tuple(c.name for c in ENTITIES["switches"])
SWITCH_TENANT_COLUMNS = tuple(c.name for c in ENTITIES["switch_tenants"])
ASTERISK_FIELD_NAMES = SWITCH_FORMATS["asterisk"].columns  # loguniqueid and loguserfield on: 18 fields
FREESWITCH_CDR_COLUMNS = SWITCH_FORMATS["freeswitch"].columns
MAX_RINGING_SECONDS = 20  # before an answered call is picked up
LONG_DIAL_SHARE_DOMESTIC = 0.35  # 1 + 10 digits; the rest dial 10 digits
LONG_DIAL_SHARE_INTERNATIONAL = 0.15  # + and the digits; the rest dial 011
B_LEG_SHARE = 0.3  # FreeSWITCH legs=ab: answered calls that also write their b-leg


def tenant_key(account_no: int) -> str:
    """The switch's customer key (`accountcode`) of ACC-00017: cust-00017."""
    return f"cust-{account_no:05d}"


def cdr_file_names(months: int) -> list[str]:
    """logrotate names, oldest month first: Master.csv.<K-1>, ..., Master.csv.1, Master.csv."""
    return [f"Master.csv.{months - 1 - k}" if k < months - 1 else "Master.csv" for k in range(months)]


def random_uuid_words(rng: np.random.Generator, size: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """Random version-4 UUIDs as two 64-bit halves (formatted by DuckDB)."""
    words = rng.integers(0, np.iinfo(np.uint64).max, size=(2, size), dtype=np.uint64, endpoint=True)
    high = (words[0] & np.uint64(0xFFFF_FFFF_FFFF_0FFF)) | np.uint64(0x4000)
    low = (words[1] & np.uint64(0x3FFF_FFFF_FFFF_FFFF)) | np.uint64(0x8000_0000_0000_0000)
    return high, low


def switch_records(
    rng: np.random.Generator,
    switch: Switch,
    calls: pd.DataFrame,
    pools: CallPools,
    names: tuple[list[str], IntArray],
    first_seq: int,
) -> pd.DataFrame:
    """The CDR records of a month's canonical calls, in file order, as numbers for DuckDB to format.

    The answer is the canonical start (an unanswered call starts then); ringing comes before it.
    FreeSWITCH b-legs follow their a-leg. `seq` numbers the calls for channel names and uniqueids."""
    size = len(calls)
    account = calls["account_no"].to_numpy(np.int64)
    destination = calls["destination"].to_numpy(np.int64)
    start = calls["start_s"].to_numpy(np.int64)
    duration = calls["duration_sec"].to_numpy(np.int64)
    answered = duration > 0

    shares = np.array([u.share for u in switch.unanswered])
    outcome = np.where(answered, 0, 1 + rng.choice(len(shares), size=size, p=shares / shares.sum()))
    ring_min = np.array([0, *(u.ring_min for u in switch.unanswered)], dtype=np.int64)[outcome]
    ring_max = np.array([MAX_RINGING_SECONDS, *(u.ring_max for u in switch.unanswered)], dtype=np.int64)[outcome]
    ring = ring_min + np.floor(rng.random(size) * (ring_max - ring_min + 1)).astype(np.int64)
    nanp = (destination >= NANP_COUNTRY) & (destination < 2 * NANP_COUNTRY)
    long_share = np.where(nanp, LONG_DIAL_SHARE_DOMESTIC, LONG_DIAL_SHARE_INTERNATIONAL)
    long_dial = rng.random(size) < long_share
    extension = pools.extensions.pick(rng, account - 1)  # the desk phone that dialled out or rang
    freeswitch = switch.platform == "freeswitch"
    b_leg = answered & (rng.random(size) < B_LEG_SHARE) if freeswitch else np.zeros(size, dtype=bool)

    legs = 1 + b_leg.astype(np.int64)
    call = np.repeat(np.arange(size), legs)
    a_leg = np.cumsum(legs) - legs
    leg = np.zeros(len(call), dtype=np.int8)
    leg[a_leg[b_leg] + 1] = 1
    unique_names, name_code = names
    columns = {
        "seq": first_seq + call,
        "account_no": account[call].astype(np.int32),
        "name": pd.Categorical.from_codes(name_code[account[call] - 1], categories=unique_names),
        "direction_code": calls["direction_code"].to_numpy(np.int8)[call],
        "source": calls["source"].to_numpy(np.int64)[call],
        "destination": destination[call],
        "long_dial": long_dial[call],
        "extension": extension[call].astype(np.int32),
        "start_s": np.where(answered, start - ring, start)[call],
        "answer_s": start[call],
        "end_s": np.where(answered, start + duration, start + ring)[call],
        "duration": (ring + duration)[call].astype(np.int32),
        "billsec": duration[call].astype(np.int32),
        "outcome": outcome.astype(np.int8)[call],
        "leg": leg,
    }
    if freeswitch:
        high, low = random_uuid_words(rng, len(call))
        has_bleg = np.zeros(len(call), dtype=bool)
        has_bleg[a_leg[b_leg]] = True
        bleg_high, bleg_low = np.zeros(len(call), dtype=np.uint64), np.zeros(len(call), dtype=np.uint64)
        bleg_high[has_bleg], bleg_low[has_bleg] = high[a_leg[b_leg] + 1], low[a_leg[b_leg] + 1]
        columns |= {"uuid_hi": high, "uuid_lo": low, "has_bleg": has_bleg, "bleg_hi": bleg_high, "bleg_lo": bleg_low}
    return pd.DataFrame(columns)


def held_number_sql(column: str) -> str:
    """A number as a US switch holds it: 10 digits for +1, else + and the digits."""
    nanp = f"({column} >= {NANP_COUNTRY} and {column} < {2 * NANP_COUNTRY})"
    return f"case when {nanp} then ({column} - {NANP_COUNTRY})::varchar else '+' || {column}::varchar end"


def dialled_number_sql(column: str) -> str:
    """A number as a US user dials it: 10 or 1 + 10 digits for +1, else 011 or + and the digits."""
    nanp = f"({column} >= {NANP_COUNTRY} and {column} < {2 * NANP_COUNTRY})"
    return (
        f"case when {nanp} then (case when long_dial then {column}::varchar"
        f" else ({column} - {NANP_COUNTRY})::varchar end)"
        f" else (case when long_dial then '+' else '011' end) || {column}::varchar end"
    )


def local_time_sql(switch: Switch, column: str) -> str:
    return f"strftime(timezone('{switch.timezone}', to_timestamp({column})), '{SWITCH_TIME_FORMAT}')"


def uuid_sql(high: str, low: str) -> str:
    """8-4-4-4-12 lowercase hex of two 64-bit halves already formatted as 16 hex digits."""
    return (
        f"substr({high}, 1, 8) || '-' || substr({high}, 9, 4) || '-' || substr({high}, 13, 4)"
        f" || '-' || substr({low}, 1, 4) || '-' || substr({low}, 5, 12)"
    )


def record_fields_sql(switch: Switch) -> str:
    """Per record: the fields both platforms share, as the switch writes them (in file order)."""
    causes = " ".join(f"when {k} then '{u.cause}'" for k, u in enumerate(switch.unanswered, start=1))
    hex_formats = (
        ", format('{:016x}', uuid_hi) as uuid_h, format('{:016x}', uuid_lo) as uuid_l,"
        " format('{:016x}', bleg_hi) as bleg_h, format('{:016x}', bleg_lo) as bleg_l"
        if switch.platform == "freeswitch"
        else ""
    )
    return f"""
        select
            *,
            'cust-' || lpad(account_no::varchar, 5, '0') as tenant_key,
            case when direction_code = 2 then source::varchar else {held_number_sql("source")} end as src,
            case direction_code
                when 2 then destination::varchar
                when 0 then {held_number_sql("destination")}
                else {dialled_number_sql("destination")}
            end as dst,
            case when direction_code = 0 then '{switch.inbound_contexts[0]}' else '{switch.user_context}' end
                as context,
            {local_time_sql(switch, "start_s")} as start_time,
            case when outcome = 0 then {local_time_sql(switch, "answer_s")} end as answer_time,
            {local_time_sql(switch, "end_s")} as end_time,
            case outcome when 0 then '{switch.answered}' {causes} end as cause
            {hex_formats}
        from records  -- in file order: the connection preserves insertion order (no sort of 10 M rows)
    """


def copy_switch_records(con: duckdb.DuckDBPyConnection, switch: Switch, records: pd.DataFrame, path: Path) -> int:
    """Write records as the switch writes them: no header, its own quoting (DuckDB COPY, in order)."""
    con.register("records", records)
    fields = record_fields_sql(switch)
    target = str(path).replace("'", "''")
    if switch.platform == "asterisk":
        # Strings quoted (an empty one as ""), duration and billsec bare, a missing answer as nothing.
        channel = "lpad(lower(hex(2 * seq)), 8, '0')"
        other_channel = "lpad(lower(hex(2 * seq + 1)), 8, '0')"
        query = f"""
            select
                tenant_key as accountcode,
                src,
                dst,
                context as dcontext,
                '"' || case when direction_code = 0 then src else name::varchar end || '" <' || src || '>' as clid,
                'PJSIP/' || case direction_code when 0 then 'trunk' when 2 then source::varchar
                    else extension::varchar end || '-' || {channel} as channel,
                'PJSIP/' || case direction_code when 0 then extension::varchar when 2 then destination::varchar
                    else 'trunk' end || '-' || {other_channel} as dstchannel,
                'Dial' as lastapp,
                'PJSIP/' || case direction_code when 0 then extension::varchar || ',,tT'
                    when 2 then destination::varchar || ',,tT' else dst || '@trunk,,tT' end as lastdata,
                start_time,
                answer_time,
                end_time,
                duration,
                billsec,
                cause as disposition,
                'DOCUMENTATION' as amaflags,
                start_s::varchar || '.' || (2 * seq)::varchar as uniqueid,
                '' as userfield
            from ({fields})
        """
        quoted = ", ".join(c for c in ASTERISK_FIELD_NAMES if c not in ("duration", "billsec"))
        options = f"header false, delimiter ',', force_quote ({quoted})"
    else:
        # Every field quoted; an empty one (no answer, no b-leg) is "".
        query = f"""
            select
                case when direction_code = 0 then src else name::varchar end as caller_id_name,
                src as caller_id_number,
                case when leg = 1 and direction_code = 1 then '+' || destination::varchar
                    when leg = 1 and direction_code = 0 then extension::varchar
                    else dst end as destination_number,
                context,
                start_time as start_stamp,
                coalesce(answer_time, '') as answer_stamp,
                end_time as end_stamp,
                duration::varchar as duration,
                billsec::varchar as billsec,
                cause as hangup_cause,
                {uuid_sql("uuid_h", "uuid_l")} as uuid,
                case when has_bleg then {uuid_sql("bleg_h", "bleg_l")} else '' end as bleg_uuid,
                tenant_key as accountcode,
                'PCMU' as read_codec,
                'PCMU' as write_codec
            from ({fields})
        """
        options = "header false, delimiter ',', force_quote *"
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy ({query}) to '{target}' ({options})")
    con.unregister("records")
    return len(records)


def repeat_rotated_heads(paths: list[Path], counts: list[int]) -> int:
    """A rotation that wrote records twice: the first counts[k] lines of file k end file k-1 too."""
    repeated = 0
    for older, newer, count in zip(paths, paths[1:], counts[1:], strict=False):
        with newer.open("rb") as fh:
            head = b"".join(fh.readline() for _ in range(count))
        with older.open("ab") as fh:
            fh.write(head)
        repeated += count
    return repeated


def split_off_canonical(
    con: duckdb.DuckDBPyConnection,
    calls: pd.DataFrame,
    resend_rng: np.random.Generator,
    switch_accounts: int,
    path: Path,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """A month's calls of the accounts after the first `switch_accounts` written as write_cdrs writes
    them (the same rows and call ids, without the switch's); returns the switch's calls, the canonical
    calls resent (write_cdrs' draw over all the month's calls, the switch's left out) and rows written."""
    on_switch = calls["account_no"].to_numpy(np.int64) <= switch_accounts
    resent = resend_rng.random(len(calls)) < RESEND_SHARE
    written = copy_calls(con, calls[~on_switch], path)
    return calls[on_switch].reset_index(drop=True), calls[resent & ~on_switch], written


def most_calls(calls: pd.DataFrame, accounts: int, count: int) -> IntArray:
    """Indexes of the `count` accounts with the most calls (ties: the lower account number first)."""
    per_account = np.bincount(calls["account_no"].to_numpy(np.int64) - 1, minlength=accounts)
    return np.argsort(-per_account, kind="stable")[:count].astype(np.int64)


def write_switch_cdrs(
    rng: np.random.Generator,
    accounts: Accounts,
    pools: CallPools,
    window: Window,
    calls_per_account_month: int,
    out_dir: Path,
    platform: str,
    unmapped_tenants: int,
    switch_accounts: int | None = None,
) -> dict[str, int | list[str]]:
    """The calls of write_cdrs (the same stream, the same calls) as one switch's CDR files, one per month.

    Also the switch (switches/) and its customer keys (switch_tenants/), except for the
    `unmapped_tenants` accounts with the most calls in the first month: their key has no row yet.

    With `switch_accounts` below the number of accounts, only the calls of the first `switch_accounts`
    accounts are the switch's (and only they have keys; the unmapped ones are among them); the other
    accounts' calls go to cdrs/ as write_cdrs writes them (split_off_canonical)."""
    switch = SWITCHES[platform]
    switch_accounts = accounts.count if switch_accounts is None else switch_accounts
    mixed = switch_accounts < accounts.count
    month_rngs = rng.spawn(window.months)  # write_cdrs' first spawn: the same canonical calls
    resend_rng = rng.spawn(1)[0] if mixed else None  # write_cdrs' second spawn: the same resent calls
    switch_rngs = rng.spawn(window.months)
    unique_names, name_code = np.unique(np.array(accounts.names, dtype=object), return_inverse=True)
    names = (unique_names.tolist(), name_code.astype(np.int64))
    paths = [out_dir / "switch_cdrs" / switch.switch_id / name for name in cdr_file_names(window.months)]
    repeats, written, next_call_no, next_seq = [], 0, 1, 1
    resends, canonical_written = [], 0
    unmapped = np.zeros(0, dtype=np.int64)
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.execute("set preserve_insertion_order = true")  # the records are written in frame order
        for offset, (month_rng, switch_rng) in enumerate(zip(month_rngs, switch_rngs, strict=True)):
            calls = month_calls(month_rng, accounts, pools, window, offset, calls_per_account_month, next_call_no)
            next_call_no += len(calls)
            if resend_rng is not None:
                path = out_dir / "cdrs" / f"cdrs_{window.first_month + offset}.csv"
                calls, resent, count = split_off_canonical(con, calls, resend_rng, switch_accounts, path)
                resends.append(resent)
                canonical_written += count
            if offset == 0:
                unmapped = np.sort(most_calls(calls, switch_accounts, unmapped_tenants))
            records = switch_records(switch_rng, switch, calls, pools, names, next_seq)
            next_seq += len(calls)
            del calls
            written += copy_switch_records(con, switch, records, paths[offset])
            count = max(1, round(RESEND_SHARE * len(records))) if len(records) else 0
            if platform == "freeswitch" and count and records["has_bleg"].iat[count - 1]:
                count += 1  # keep an a-leg and its b-leg together
            repeats.append(count)
            del records
        canonical = {}
        if mixed:
            resent = copy_calls(con, pd.concat(resends, ignore_index=True), out_dir / "cdrs" / "cdrs_resend.csv")
            canonical = {"cdrs": canonical_written, "cdrs_resend": resent}
    repeated = repeat_rotated_heads(paths, repeats)

    updated_at = f"{window.first_day}T00:00:00Z"
    switches = pd.DataFrame(
        [
            [
                switch.switch_id,
                switch.platform,
                switch.timezone,
                switch.country_code,
                ";".join(switch.inbound_contexts),
                updated_at,
            ]
        ],
        columns=list(SWITCH_COLUMNS),
    )
    mapped = np.setdiff1d(np.arange(switch_accounts), unmapped)
    tenants = pd.DataFrame(
        {
            "switch_id": switch.switch_id,
            "tenant_key": [tenant_key(i + 1) for i in mapped.tolist()],
            "account_id": account_ids(mapped),
            "updated_at": updated_at,
        },
        columns=list(SWITCH_TENANT_COLUMNS),
    )
    return canonical | {
        "switches": write_csv(switches, out_dir / "switches" / "switches.csv"),
        "switch_tenants": write_csv(tenants, out_dir / "switch_tenants" / "switch_tenants.csv"),
        "switch_cdrs": written,
        "switch_cdrs_repeated": repeated,
        "unmapped_tenants": account_ids(unmapped),
    }


def unmapped_tenant_ids(landing: Path) -> list[str]:
    """Accounts of a generated landing whose calls are in its switch files under a customer key that
    has no switch_tenants row (cust-00017 is ACC-00017's key)."""
    landing = Path(landing)
    switches = pd.read_csv(landing / "switches" / "switches.csv", dtype=str)
    keys: set[str] = set()
    for switch_id, platform in zip(switches["switch_id"], switches["platform"], strict=True):
        column = SWITCH_FORMATS[platform].columns.index("accountcode")
        for path in sorted((landing / "switch_cdrs" / switch_id).iterdir()):
            with path.open(newline="", encoding="utf-8") as fh:
                keys |= {row[column] for row in csv.reader(fh)}
    tenants = pd.read_csv(landing / "switch_tenants" / "switch_tenants.csv", dtype=str)["tenant_key"]
    return sorted("ACC-" + key.removeprefix("cust-") for key in keys - set(tenants))


# --- Money and account activity -------------------------------------------------------------------
def rough_monthly_cents(items: Items, accounts: Accounts) -> IntArray:
    """A plausible monthly bill per account: recurring charges plus ~30% usage, fees and taxes."""
    recurring = np.bincount(
        items.account, weights=ROUGH_MONTHLY_PRICE[items.product] * items.quantity, minlength=accounts.count
    )
    return np.round(recurring * 130).astype(np.int64)


def invoice_payments(
    rng: np.random.Generator,
    accounts: Accounts,
    autopay: AutopayChanges,
    monthly_cents: IntArray,
    invoice_date: np.datetime64,
) -> pd.DataFrame:
    """One payment attempt per invoice of `invoice_date` (none for ~2.5%: left open for receivables)."""
    # Only invoices that exist: billing has started and service had not ended before the date.
    index = np.flatnonzero((accounts.first_invoice <= invoice_date) & (accounts.cancel_end >= invoice_date))
    size = len(index)
    outcome = rng.choice(len(PAYMENT_OUTCOMES), size=size, p=PAYMENT_OUTCOME_SHARES)
    on_autopay = autopay.autopay_on(accounts, index, invoice_date)
    method = np.where(on_autopay, rng.choice(2, size=size, p=[0.6, 0.4]), rng.choice(3, size=size, p=[0.4, 0.3, 0.3]))
    method[outcome == PAYMENT_OUTCOMES.index("chargeback")] = 0  # chargebacks happen on cards
    # R-CAL-5: autopay charges on the 10th of the invoice month; others pay 3-20 days after the date.
    delay = np.where(on_autopay, 9, rng.integers(3, 21, size))
    received = at_business_time(rng, np.full(size, invoice_date) + delay)
    amount = np.round(monthly_cents[index] * rng.lognormal(0.0, 0.12, size))
    amount = np.clip(amount, 5_000, 300_000).astype(np.int64)
    partial = outcome == PAYMENT_OUTCOMES.index("partial")
    share = rng.uniform(0.2, 0.8, int(partial.sum()))
    amount[partial] = np.maximum(np.round(amount[partial] * share), 100)
    against_balance = rng.random(size) < 0.05  # R-PAY-2: no invoice given, applied oldest first
    frame = pd.DataFrame(
        {
            "account": index,
            "invoice_id": where_text(~against_balance, [invoice_id(invoice_date, i) for i in index]),
            "received": received,
            "amount": amount,
            "method": method,
            "autopay": on_autopay,
            "outcome": outcome,
        }
    )
    return frame[outcome != PAYMENT_OUTCOMES.index("unpaid")]


def payments_frame(
    rng: np.random.Generator, accounts: Accounts, autopay: AutopayChanges, items: Items, window: Window
) -> pd.DataFrame:
    """Payments of the invoices that bill the generated months, numbered in the order received."""
    brand = rng.choice(len(CARD_BRANDS), size=accounts.count, p=[0.5, 0.3, 0.12, 0.08])
    card_last4, ach_last4 = rng.integers(0, 10_000, accounts.count), rng.integers(0, 10_000, accounts.count)
    monthly = rough_monthly_cents(items, accounts)
    paid = pd.concat(
        [invoice_payments(rng, accounts, autopay, monthly, day) for day in window.invoice_dates()],
        ignore_index=True,
    )
    paid = paid.sort_values(["received", "account"], kind="stable").reset_index(drop=True)
    account, method = paid["account"].to_numpy(np.int64), paid["method"].to_numpy(np.int64)
    outcome = paid["outcome"].to_numpy(np.int64)
    last4 = np.where(method == 0, card_last4[account], ach_last4[account])
    return pd.DataFrame(
        {
            "payment_id": [f"PAY-{i:07d}" for i in range(1, len(paid) + 1)],
            "account_id": account_ids(account),
            "invoice_id": paid["invoice_id"].tolist(),
            "received_at": fmt_timestamps(paid["received"].to_numpy()),
            "amount": fmt_cents(paid["amount"].to_numpy(np.int64)),
            "method": [PAYMENT_METHODS[m] for m in method],
            "card_brand": where_text(method == 0, [CARD_BRANDS[b] for b in brand[account]]),
            "last4": where_text(method < 2, [f"{d:04d}" for d in last4]),
            "is_autopay": fmt_bools(paid["autopay"].to_numpy(bool)),
            # A partial payment settles like any other; only its amount is lower.
            "status": ["settled" if o == 1 else PAYMENT_OUTCOMES[o] for o in outcome],
        },
        columns=list(COLUMNS["payments"]),
    )


def adjustments_frame(rng: np.random.Generator, accounts: Accounts, window: Window) -> pd.DataFrame:
    """Approved credits for ~2% of accounts; about a quarter come out of a dispute (R-CAL-6: <= 15 days)."""
    # Accounts whose invoices of the whole window exist (billing started, not cancelling).
    billed = np.flatnonzero((accounts.first_invoice <= window.month_start(1)) & (accounts.cancel_end >= FAR_FUTURE))
    candidates = billed if len(billed) else np.arange(accounts.count)
    chosen = candidates[choose_at_least_one(rng, len(candidates), 0.02 * accounts.count / len(candidates))]
    size = len(chosen)
    # Disputes need an invoice dated inside the window that is followed by at least 15 days of it.
    disputable = window.invoice_dates()[:-1]
    disputed = (rng.random(size) < 0.25) & bool(disputable)
    invoice_pick = rng.integers(0, max(len(disputable), 1), size)
    low = np.maximum(accounts.service_start[chosen] + 1, window.first_day)
    approved_day = uniform_days(rng, low, np.full(size, window.last_day))
    credit = -rng.choice([1_000, 1_500, 2_500, 3_000, 5_000, 7_500, 10_000], size=size)
    dispute_credit = -rng.integers(500, 15_000, size)
    days_after_invoice = rng.integers(2, 15, size)
    reasons, invoices = [], []
    for k in range(size):
        if disputed[k]:
            invoice_date = disputable[invoice_pick[k]]
            approved_day[k] = invoice_date + days_after_invoice[k]
            credit[k] = dispute_credit[k]
            reasons.append(DISPUTE_REASONS[int(rng.integers(0, len(DISPUTE_REASONS)))])
            invoices.append(invoice_id(invoice_date, int(chosen[k])))
        else:
            reasons.append(ADJUSTMENT_REASONS[int(rng.integers(0, len(ADJUSTMENT_REASONS)))])
            invoices.append(None)
    approved_at = at_business_time(rng, approved_day)
    order = np.argsort(approved_at, kind="stable")
    return pd.DataFrame(
        {
            "adjustment_id": [f"ADJ-{i:05d}" for i in range(1, size + 1)],
            "account_id": account_ids(chosen[order]),
            "amount": fmt_cents(credit[order]),
            "reason": [reasons[k] for k in order],
            "approved_at": fmt_timestamps(approved_at[order]),
            "disputed_invoice_id": [invoices[k] for k in order],
        },
        columns=list(COLUMNS["adjustments"]),
    )


def account_changes_frame(rng: np.random.Generator, accounts: Accounts, window: Window) -> pd.DataFrame:
    """One caller-ID / E911 / bidirectional change for ~5% of accounts (R-FEE-1)."""
    chosen = choose_at_least_one(rng, accounts.count, 0.05)
    low = np.maximum(accounts.service_start[chosen], window.first_day)
    high = np.minimum(window.last_day, accounts.cancel_end[chosen] - 1)
    changed_at = at_business_time(rng, uniform_days(rng, low, np.maximum(high, low)))
    change_type = rng.integers(0, len(CHANGE_TYPES), len(chosen))
    order = np.argsort(changed_at, kind="stable")
    return pd.DataFrame(
        {
            "change_id": [f"CHG-{i:05d}" for i in range(1, len(chosen) + 1)],
            "account_id": account_ids(chosen[order]),
            "change_type": [CHANGE_TYPES[t] for t in change_type[order].tolist()],
            "changed_at": fmt_timestamps(changed_at[order]),
        },
        columns=list(COLUMNS["account_changes"]),
    )


def partners_frame(rng: np.random.Generator, window: Window) -> pd.DataFrame:
    count = len(PARTNERS)
    residual_steps = rng.integers(40, 81, count)  # 0.1000 .. 0.2000 in steps of 0.0025
    spiff = rng.integers(4, 21, count) * 2_500
    signed = np.full(count, (window.first_month - 24).astype("datetime64[D]")) + rng.integers(0, 60, count)
    return pd.DataFrame(
        {
            "partner_id": [p[0] for p in PARTNERS],
            "partner_name": [p[1] for p in PARTNERS],
            "residual_rate": [f"{q * 25 / 10_000:.6f}" for q in residual_steps.tolist()],
            "spiff_amount": fmt_cents(spiff),
            "updated_at": fmt_timestamps(at_business_time(rng, signed)),
        },
        columns=list(COLUMNS["partners"]),
    )


# --- Entry point ------------------------------------------------------------------------------------
def parse_start_month(start_month: str) -> np.datetime64:
    match = START_MONTH_PATTERN.match(start_month) if isinstance(start_month, str) else None
    if not match or int(match.group(1)) < 1971:
        raise ValueError(f"start_month must be YYYY-MM (e.g. 2026-02), got {start_month!r}")
    return np.datetime64(start_month, "M")


def check_arguments(
    out_dir: Path,
    accounts: int,
    months: int,
    calls_per_account_month: int,
    seed: int,
    platform: str | None = None,
    unmapped_tenants: int = 1,
    platform_accounts: int | None = None,
) -> None:
    for name, value, minimum in (
        ("accounts", accounts, 1),
        ("months", months, 1),
        ("calls_per_account_month", calls_per_account_month, 0),
        ("seed", seed, 0),
        ("unmapped_tenants", unmapped_tenants, 0),
        *([("platform_accounts", platform_accounts, 1)] if platform_accounts is not None else []),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if accounts > 99_999:
        raise ValueError(f"accounts must be at most 99999 (ids are ACC-00001..ACC-99999), got {accounts}")
    if platform is not None and platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)} (or none for cdrs/), got {platform!r}")
    if platform_accounts is not None and platform is None:
        raise ValueError("platform_accounts needs a platform: the accounts whose calls are the switch's files")
    if platform_accounts is not None and platform_accounts > accounts:
        raise ValueError(f"platform_accounts must be at most accounts ({accounts}), got {platform_accounts}")
    on_switch = accounts if platform_accounts is None else platform_accounts
    if unmapped_tenants > on_switch:
        what = "accounts" if platform_accounts is None else "platform_accounts"
        raise ValueError(f"unmapped_tenants must be at most {what} ({on_switch}), got {unmapped_tenants}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"OUT_DIR {out_dir} is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise ValueError(f"OUT_DIR {out_dir} is not empty: generate into a new or empty folder")


def generate_landing(
    out_dir: Path,
    accounts: int = 300,
    start_month: str = "2026-02",
    months: int = 3,
    calls_per_account_month: int = 1100,
    seed: int = 42,
    platform: str | None = None,
    unmapped_tenants: int = 1,
    platform_accounts: int | None = None,
) -> dict[str, int | list[str]]:
    """Write a landing folder and return the rows written per file group.

    Accounts and items start on or before `start_month`; calls, payments, adjustments and changes
    cover `months` months from it, so closing each following month bills them.

    With `platform` (asterisk, freeswitch) the calls are that switch's own CDR files instead of
    cdrs/ (write_switch_cdrs): the same calls, and every other file byte for byte the same. The
    returned "unmapped_tenants" lists the accounts whose customer key has no switch_tenants row.
    With `platform_accounts` N (default: all), only the calls of ACC-00001..N are the switch's files,
    and only they have switch_tenants rows (the unmapped ones are among them); the other accounts'
    calls are in cdrs/ as without a platform (the same rows, call ids and resent rows).
    """
    out_dir = Path(out_dir)
    first_month = parse_start_month(start_month)
    check_arguments(
        out_dir, accounts, months, calls_per_account_month, seed, platform, unmapped_tenants, platform_accounts
    )
    window = Window(first_month, months)
    out_dir.mkdir(parents=True, exist_ok=True)

    streams = np.random.default_rng(seed).spawn(8)
    account_rng, update_rng, item_rng, cdr_rng, payment_rng, adjustment_rng, change_rng, partner_rng = streams
    table = build_accounts(account_rng, accounts, window)
    current = accounts_frame(account_rng, table)
    updates, autopay = account_updates(update_rng, table, current, window)
    items = build_items(item_rng, table, window)

    rows: dict[str, int | list[str]] = {
        "accounts": write_csv(current, out_dir / "accounts" / "accounts.csv"),
        "accounts_updates": write_csv(updates, out_dir / "accounts" / "accounts_updates.csv"),
        "subscription_items": write_csv(items_frame(items), out_dir / "subscription_items" / "subscription_items.csv"),
    }
    cdr_arguments = (cdr_rng, table, call_pools(items, table), window, calls_per_account_month, out_dir)
    if platform is None:
        rows |= write_cdrs(*cdr_arguments)
    else:
        rows |= write_switch_cdrs(*cdr_arguments, platform, unmapped_tenants, platform_accounts)
    rows["payments"] = write_csv(
        payments_frame(payment_rng, table, autopay, items, window), out_dir / "payments" / "payments.csv"
    )
    rows["adjustments"] = write_csv(
        adjustments_frame(adjustment_rng, table, window), out_dir / "adjustments" / "adjustments.csv"
    )
    rows["account_changes"] = write_csv(
        account_changes_frame(change_rng, table, window), out_dir / "account_changes" / "account_changes.csv"
    )
    rows["partners"] = write_csv(partners_frame(partner_rng, window), out_dir / "partners" / "partners.csv")
    return rows
