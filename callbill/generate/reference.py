"""What the generated landing is made of: the contract's columns, the geography and numbering plan, the
call mix, the accounts' plans, products, names and payment habits. Columns, plans, prices and card
brands are read from the loader and the seeds, not copied."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from callbill.landing.contract import ENTITIES

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
DateArray = NDArray[np.datetime64]
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed_rows(seed: str) -> list[dict[str, str]]:
    with (SEEDS / f"{seed}.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def seed_column(seed: str, key: str, column: str, keys: tuple[str, ...]) -> list[str]:
    """The seed's `column` for each of `keys`, in their order."""
    values = {row[key]: row[column] for row in seed_rows(seed)}
    return [values[k] for k in keys]


# The contract's columns per entity, in its order (the loader's ENTITIES): the generator writes what
# the loader reads, the optional columns too.
COLUMNS: dict[str, tuple[str, ...]] = {
    entity: tuple(column.name for column in ENTITIES[entity])
    for entity in ("accounts", "subscription_items", "account_changes", "cdrs", "payments", "adjustments", "partners")
}

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
PLANS = tuple(row["plan_id"] for row in seed_rows("plans"))  # basic, standard, unlimited
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
# Monthly prices, to make payment amounts plausible: the products seed's.
MONTHLY_PRICE = np.array([float(price) for price in seed_column("products", "product_code", "monthly_price", PRODUCTS)])
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
PAYMENT_OUTCOMES = ("settled", "partial", "failed", "refunded", "chargeback", "unpaid")
PAYMENT_OUTCOME_SHARES = (0.85, 0.08, 0.03, 0.01, 0.005, 0.025)
PAYMENT_METHODS = ("card", "ach", "check")
FAR_FUTURE = np.datetime64("2200-01-01", "D")
START_MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
