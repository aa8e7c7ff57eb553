"""Tests of `orchestration.generate`: the synthetic landing folder behind `callbill generate`."""

from __future__ import annotations

import calendar
import csv
import hashlib
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from orchestration.generate import generate_landing

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SMALL = {"accounts": 20, "start_month": "2026-02", "months": 2, "calls_per_account_month": 50}

# CONTRACT.md, "Landing folder": the columns of each entity, in order (written out here on purpose,
# not imported from the generator, so that a change on either side shows up).
CONTRACT_COLUMNS = {
    "accounts": [
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
    ],
    "subscription_items": [
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
    ],
    "account_changes": ["change_id", "account_id", "change_type", "changed_at"],
    "cdrs": [
        "call_id",
        "account_id",
        "direction",
        "source_number",
        "destination_number",
        "start_time_utc",
        "end_time_utc",
        "duration_sec",
    ],
    "payments": [
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
    ],
    "adjustments": ["adjustment_id", "account_id", "amount", "reason", "approved_at", "disputed_invoice_id"],
    "partners": ["partner_id", "partner_name", "residual_rate", "spiff_amount", "updated_at"],
}
# The US area codes the generator uses for domestic numbers (REFERENCE_FACTS / the rate deck's 976 rows).
US_NPAS = {
    "415",
    "213",
    "310",
    "619",
    "512",
    "214",
    "713",
    "212",
    "718",
    "518",
    "305",
    "407",
    "312",
    "773",
    "206",
    "509",
    "215",
    "412",
    "617",
    "508",
    "201",
    "973",
    "404",
    "770",
    "503",
    "302",
    "303",
    "602",
}


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("landing") / "out"
    return out, generate_landing(out, seed=7, **SMALL)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def entity_rows(folder: Path, entity: str) -> list[dict[str, str]]:
    return [row for path in sorted((folder / entity).glob("*.csv")) for row in read_rows(path)]


def month_cdr_rows(folder: Path) -> list[dict[str, str]]:
    return [row for path in sorted((folder / "cdrs").glob("cdrs_2*.csv")) for row in read_rows(path)]


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month end (R-START-1 as SQL computes it)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def test_same_seed_gives_byte_identical_files(landing, tmp_path):
    folder, _ = landing
    again = tmp_path / "again"
    generate_landing(again, seed=7, **SMALL)
    first, second = digests(folder), digests(again)
    assert len(first) == 10  # one file per entity, plus account updates, a second month and resends
    assert first == second


def test_different_seed_gives_different_cdrs(landing, tmp_path):
    folder, _ = landing
    other = tmp_path / "other"
    generate_landing(other, seed=8, **SMALL)
    for name in ("cdrs_2026-02.csv", "cdrs_2026-03.csv"):
        assert (folder / "cdrs" / name).read_bytes() != (other / "cdrs" / name).read_bytes()


def test_files_and_returned_row_counts(landing):
    folder, counts = landing
    assert sorted(p.name for p in (folder / "cdrs").iterdir()) == [
        "cdrs_2026-02.csv",
        "cdrs_2026-03.csv",
        "cdrs_resend.csv",
    ]
    assert counts["accounts"] == 20 == len(read_rows(folder / "accounts" / "accounts.csv"))
    assert counts["accounts_updates"] == len(read_rows(folder / "accounts" / "accounts_updates.csv"))
    assert counts["cdrs"] == len(month_cdr_rows(folder))
    assert counts["cdrs_resend"] == len(read_rows(folder / "cdrs" / "cdrs_resend.csv"))
    for entity in ("subscription_items", "payments", "adjustments", "account_changes", "partners"):
        assert counts[entity] == len(entity_rows(folder, entity)), entity
    # ~20 accounts x 2 months x 50 calls, a little less for accounts that start late in the month.
    assert 1_200 < counts["cdrs"] < 2_600


def test_every_file_has_the_contract_header_in_order(landing):
    folder, _ = landing
    for entity, columns in CONTRACT_COLUMNS.items():
        files = sorted((folder / entity).glob("*.csv"))
        assert files, entity
        for path in files:
            with path.open(encoding="utf-8", newline="") as fh:
                assert next(csv.reader(fh)) == columns, path.name


def test_files_use_unix_newlines(landing):
    folder, _ = landing
    for path in folder.rglob("*.csv"):
        data = path.read_bytes()
        assert b"\r" not in data and data.endswith(b"\n"), path.name


def test_all_nine_product_codes_appear(landing):
    folder, _ = landing
    products = {row["product_code"] for row in read_rows(SEEDS / "products.csv")}
    items = entity_rows(folder, "subscription_items")
    assert len(products) == 9
    assert {row["product_code"] for row in items} == products


def test_items_numbers_unique_and_extensions_unique_per_account(landing):
    folder, _ = landing
    items = entity_rows(folder, "subscription_items")
    numbers = [row["phone_number"] for row in items if row["phone_number"]]
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        if number.startswith("+1"):
            exchange = number[5:8]
            assert exchange not in ("555", "976") and exchange[1:] != "11", number
    extensions = Counter((row["account_id"], row["extension"]) for row in items if row["extension"])
    assert max(extensions.values()) == 1
    assert all(len(ext) == 3 for _, ext in extensions)
    local = [row for row in items if row["product_code"] == "DID_LOCAL"]
    states = {row["account_id"]: row["billing_state"] for row in entity_rows(folder, "accounts")}
    assert all(row["phone_number"][2:5] in US_NPAS for row in local)
    assert len({states[row["account_id"]] for row in local}) > 1


def test_accounts_states_from_tax_rates_and_proration_cases(landing):
    folder, _ = landing
    accounts = read_rows(folder / "accounts" / "accounts.csv")
    taxed_states = {row["state"] for row in read_rows(SEEDS / "tax_rates.csv")}
    assert {row["billing_state"] for row in accounts} <= taxed_states
    assert {row["plan_id"] for row in accounts} <= {"basic", "standard", "unlimited"}
    assert [row["account_id"] for row in accounts[:2]] == ["ACC-00001", "ACC-00002"]
    # R-START-1 / R-PRORATE-1: some billing starts fall mid-month inside the generated months.
    mid_month_starts = []
    for row in accounts:
        service_start = date.fromisoformat(row["service_start_date"])
        assert service_start <= date(2026, 2, 28)
        billing_start = (
            date.fromisoformat(row["billing_start_date"])
            if row["billing_start_date"]
            else add_months(service_start, int(row["free_months"]))
        )
        if billing_start >= date(2026, 2, 1) and billing_start.day != 1:
            mid_month_starts.append(row["account_id"])
    assert len(mid_month_starts) >= 3


def test_resent_calls_are_exact_copies_of_month_rows(landing):
    folder, _ = landing
    month_rows = {row["call_id"]: row for row in month_cdr_rows(folder)}
    resent = read_rows(folder / "cdrs" / "cdrs_resend.csv")
    assert len(month_rows) == len(month_cdr_rows(folder))  # call ids unique across months
    for row in resent:
        assert row == month_rows[row["call_id"]]


def test_call_ids_ascend_and_calls_start_in_their_file_month(landing):
    folder, _ = landing
    for month in ("2026-02", "2026-03"):
        rows = read_rows(folder / "cdrs" / f"cdrs_{month}.csv")
        ids = [row["call_id"] for row in rows]
        assert ids == sorted(ids) and len(ids[0]) == 13 and ids[0].startswith("C")
        assert all(row["start_time_utc"].startswith(month) for row in rows)


def test_directions_and_numbers(landing):
    folder, _ = landing
    rows = month_cdr_rows(folder)
    assert {row["direction"] for row in rows} == {"inbound", "outbound", "internal"}
    for row in rows:
        if row["direction"] == "internal":
            assert len(row["source_number"]) == 3 and len(row["destination_number"]) == 3
            assert row["source_number"] != row["destination_number"]
        else:
            assert row["source_number"].startswith("+") and row["destination_number"].startswith("+")
            assert len(row["destination_number"]) <= 16  # E.164: at most 15 digits


def test_calls_only_after_service_start(landing):
    folder, _ = landing
    accounts = read_rows(folder / "accounts" / "accounts.csv")
    service_start = {row["account_id"]: row["service_start_date"] for row in accounts}
    for row in month_cdr_rows(folder):
        assert row["start_time_utc"][:10] >= service_start[row["account_id"]]


def test_international_and_premium_destinations_match_the_rate_deck(landing):
    folder, _ = landing
    deck = read_rows(SEEDS / "rate_deck.csv")
    foreign_or_premium = [
        row["prefix"] for row in deck if row["country_code"] != "US" or row["number_type"] == "premium"
    ]
    checked = Counter()
    for row in month_cdr_rows(folder):
        if row["direction"] != "outbound":
            continue
        digits = row["destination_number"][1:]
        domestic = digits.startswith("1") and digits[1:4] in US_NPAS and digits[4:7] != "976"
        if domestic:
            continue
        assert any(digits.startswith(prefix) for prefix in foreign_or_premium), row["destination_number"]
        premium = digits.startswith("1900") or digits[4:7] == "976"
        checked["premium" if premium else "international"] += 1
    assert checked["international"] > 0 and checked["premium"] > 0


def test_end_minus_start_is_the_duration(landing):
    folder, _ = landing
    durations = []
    for row in month_cdr_rows(folder):
        seconds = int(row["duration_sec"])
        assert parse_ts(row["end_time_utc"]) - parse_ts(row["start_time_utc"]) == timedelta(seconds=seconds)
        durations.append(seconds)
    assert 0 in durations and max(durations) <= 4 * 3600


def test_payments_reference_invoices_of_the_generated_months(landing):
    folder, _ = landing
    payments = entity_rows(folder, "payments")
    assert payments and payments[0]["payment_id"] == "PAY-0000001"
    for row in payments:
        if row["invoice_id"]:
            assert row["invoice_id"][:11] in ("INV-202603-", "INV-202604-")
            assert row["invoice_id"].endswith(row["account_id"])
        assert row["method"] in ("card", "ach", "check")
        assert bool(row["card_brand"]) == (row["method"] == "card")
        assert bool(row["last4"]) == (row["method"] != "check")
        if row["status"] == "settled" and row["invoice_id"]:
            assert 0 < float(row["amount"]) <= 3000


def test_non_empty_out_dir_is_refused(tmp_path):
    (tmp_path / "already-here.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        generate_landing(tmp_path, **SMALL)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start_month": "2026-13"}, "YYYY-MM"),
        ({"start_month": "26-02"}, "YYYY-MM"),
        ({"accounts": 0}, "accounts"),
        ({"months": 0}, "months"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        generate_landing(tmp_path / "out", **{**SMALL, **arguments})
    assert not (tmp_path / "out").exists()
