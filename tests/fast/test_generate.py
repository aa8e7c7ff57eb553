"""Tests of `callbill.generate`: the synthetic landing folder behind `callbill generate`."""

from __future__ import annotations

import calendar
import csv
import hashlib
import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from helpers import REPO_ROOT

from callbill.cli import main
from callbill.generate import generate_landing
from callbill.generate.reference import STATE_CITIES
from callbill.generate.switches import unmapped_tenant_ids

SEEDS = REPO_ROOT / "seeds"
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
        # the contract's optional columns, which the generator fills
        "billing_street",
        "billing_city",
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
    # The statement's street address: every account has one, in a city of its billing state.
    street = re.compile(r"[0-9]{1,4} [A-Z][a-z]+ [A-Z][a-z]+(, Suite [0-9]{3})?")
    assert all(street.fullmatch(row["billing_street"]) for row in accounts)
    assert {(r["billing_state"], r["billing_city"]) for r in accounts} <= {
        (state, city) for state, cities in STATE_CITIES.items() for city in cities
    }
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


# --- --platform: the calls as a phone switch's own CDR files (CDR_FORMATS.md) ---------------------
SWITCH_SMALL = {"accounts": 5, "start_month": "2026-02", "months": 3, "calls_per_account_month": 40, "seed": 5}
CHICAGO = ZoneInfo("America/Chicago")
SWITCH_IDS = {"asterisk": "pbx1", "freeswitch": "fs1"}
ROTATED = ["Master.csv.2", "Master.csv.1", "Master.csv"]  # oldest month first
ASTERISK_INTEGERS = (12, 13)  # duration, billsec: the only unquoted fields
FREESWITCH_FIELDS = 15


@pytest.fixture(scope="module")
def switch_landings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """The canonical landing and one per platform, all from the same seed."""
    root = tmp_path_factory.mktemp("switches")
    return {
        platform: (root / platform, generate_landing(root / platform, platform=platform, **SWITCH_SMALL))
        for platform in ("asterisk", "freeswitch")
    } | {"canonical": (root / "canonical", generate_landing(root / "canonical", **SWITCH_SMALL))}


def switch_lines(folder: Path, platform: str) -> dict[str, list[bytes]]:
    cdr_dir = folder / "switch_cdrs" / SWITCH_IDS[platform]
    return {name: (cdr_dir / name).read_bytes().splitlines(keepends=True) for name in ROTATED}


def parse_line(line: bytes) -> list[str]:
    return next(csv.reader([line.decode("utf-8")]))


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def records(folder: Path, platform: str) -> list[list[str]]:
    """Every record once, in file order (a record repeated by the rotation counted once)."""
    seen, result = set(), []
    key = 16 if platform == "asterisk" else 10  # uniqueid / uuid
    for lines in switch_lines(folder, platform).values():
        for line in lines:
            fields = parse_line(line)
            if fields[key] not in seen:
                seen.add(fields[key])
                result.append(fields)
    return result


def e164(text: str) -> str:
    """A number as a US switch has it, back to E.164 (or an extension), by the R-CDR rules."""
    assert text.isdigit() or (text.startswith("+") and text[1:].isdigit()), text
    if text.startswith("+"):
        return text
    if text.startswith("011"):
        return "+" + text[3:]
    if len(text) == 10:
        return "+1" + text
    if len(text) == 11 and text.startswith("1"):
        return "+" + text
    assert 2 <= len(text) <= 6, text
    return text


def utc_text(local: str) -> str:
    """A switch time (America/Chicago wall clock) as the canonical UTC timestamp text."""
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHICAGO)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_calls(switch_landings) -> list[dict[str, str]]:
    return month_cdr_rows(switch_landings["canonical"][0])


def as_canonical(account_id: str, direction: str, source: str, destination: str, answer: str, billsec: str):
    return (account_id, direction, e164(source), e164(destination), utc_text(answer), int(billsec))


def canonical_tuple(row: dict[str, str]):
    return (
        row["account_id"],
        row["direction"],
        row["source_number"],
        row["destination_number"],
        row["start_time_utc"],
        int(row["duration_sec"]),
    )


def account_of(tenant: str) -> str:
    assert tenant.startswith("cust-") and len(tenant) == 10, tenant
    return "ACC-" + tenant[5:]


@pytest.mark.parametrize("platform", ["asterisk", "freeswitch"])
def test_switch_landing_has_switch_files_instead_of_cdrs(switch_landings, platform):
    folder, counts = switch_landings[platform]
    switch_id = SWITCH_IDS[platform]
    assert not (folder / "cdrs").exists() and "cdrs" not in counts
    assert sorted(p.name for p in (folder / "switch_cdrs" / switch_id).iterdir()) == sorted(ROTATED)
    contexts = "from-pstn;from-trunk" if platform == "asterisk" else "public"
    assert (folder / "switches" / "switches.csv").read_text() == (
        "switch_id,platform,timezone,country_code,inbound_contexts,updated_at\n"
        f"{switch_id},{platform},America/Chicago,US,{contexts},2026-02-01T00:00:00Z\n"
    )
    lines = sum(len(v) for v in switch_lines(folder, platform).values())
    assert counts["switches"] == 1
    assert counts["switch_cdrs"] + counts["switch_cdrs_repeated"] == lines
    assert counts["switch_cdrs"] == len(records(folder, platform))


@pytest.mark.parametrize("platform", ["asterisk", "freeswitch"])
def test_non_call_files_are_those_of_the_canonical_run(switch_landings, platform):
    canonical, switch = digests(switch_landings["canonical"][0]), digests(switch_landings[platform][0])
    others = {name: digest for name, digest in canonical.items() if not name.startswith("cdrs/")}
    assert len(others) == 7
    assert {name: switch[name] for name in others} == others
    assert set(switch) - set(others) == {
        "switches/switches.csv",
        "switch_tenants/switch_tenants.csv",
        *(f"switch_cdrs/{SWITCH_IDS[platform]}/{name}" for name in ROTATED),
    }


@pytest.mark.parametrize("platform", ["asterisk", "freeswitch"])
def test_busiest_account_of_the_first_month_has_no_tenant_row(switch_landings, platform):
    folder, counts = switch_landings[platform]
    first_month = Counter(
        row["account_id"] for row in read_rows(folder.parent / "canonical" / "cdrs" / "cdrs_2026-02.csv")
    )
    busiest = max(sorted(first_month), key=lambda account: first_month[account])
    assert counts["unmapped_tenants"] == [busiest] == unmapped_tenant_ids(folder)
    tenants = read_rows(folder / "switch_tenants" / "switch_tenants.csv")
    assert list(tenants[0]) == ["switch_id", "tenant_key", "account_id", "updated_at"]
    assert [row["account_id"] for row in tenants] == [f"ACC-{i:05d}" for i in range(1, 6) if f"ACC-{i:05d}" != busiest]
    for row in tenants:
        assert row["switch_id"] == SWITCH_IDS[platform] and row["updated_at"] == "2026-02-01T00:00:00Z"
        assert row["tenant_key"] == "cust-" + row["account_id"][4:]
    # Its calls are in the switch's files all the same, under its (not yet mapped) key.
    key = 0 if platform == "asterisk" else 12
    assert any(account_of(r[key]) == busiest for r in records(folder, platform))


@pytest.mark.parametrize("platform", ["asterisk", "freeswitch"])
def test_rotated_file_repeats_the_first_records_of_the_next(switch_landings, platform):
    folder, counts = switch_landings[platform]
    files = list(switch_lines(folder, platform).values())
    repeated = 0
    for older, newer in zip(files, files[1:], strict=False):
        count = next(k for k in range(len(newer), 0, -1) if older[-k:] == newer[:k])
        assert 1 <= count <= 3
        assert older[-count - 1] not in newer  # the month's own records before the repeat
        repeated += count
    assert repeated == counts["switch_cdrs_repeated"]
    assert counts["switch_cdrs"] > 400


def test_asterisk_lines_are_cdr_csv_byte_for_byte(switch_landings):
    folder, _ = switch_landings["asterisk"]
    lines = [line for lines in switch_lines(folder, "asterisk").values() for line in lines]
    unanswered = 0
    for line in lines:
        assert line.endswith(b"\n") and b"\r" not in line
        fields = parse_line(line)
        assert len(fields) == 18, line
        # Strings quoted (inner quotes doubled, empty as ""), duration/billsec bare, no answer as nothing.
        rebuilt = [f if k in ASTERISK_INTEGERS or (k == 10 and not f) else quoted(f) for k, f in enumerate(fields)]
        assert line.decode() == ",".join(rebuilt) + "\n"
        accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata = fields[:9]
        start, answer, end, duration, billsec, disposition, amaflags, uniqueid, userfield = fields[9:]
        assert accountcode.startswith("cust-") and dcontext in ("from-internal", "from-pstn")
        assert clid.endswith(f'" <{src}>') and clid.startswith('"')
        assert channel.startswith("PJSIP/") and dstchannel.startswith("PJSIP/") and lastapp == "Dial"
        assert lastdata.startswith("PJSIP/") and lastdata.endswith(",,tT")
        assert amaflags == "DOCUMENTATION" and userfield == ""
        epoch, sequence = uniqueid.split(".")
        assert int(sequence) >= 0 and epoch == str(int(parse_ts(utc_text(start)).replace(tzinfo=UTC).timestamp()))
        seconds = (parse_ts(utc_text(end)) - parse_ts(utc_text(start))).total_seconds()
        assert int(duration) == seconds
        if disposition == "ANSWERED":
            assert 0 <= (parse_ts(utc_text(answer)) - parse_ts(utc_text(start))).total_seconds() <= 20
            assert int(billsec) == (parse_ts(utc_text(end)) - parse_ts(utc_text(answer))).total_seconds() > 0
        else:
            assert disposition in ("NO ANSWER", "BUSY") and answer == "" and billsec == "0"
            assert re.search(rb'"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",,"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",\d+,0,"', line)
            unanswered += 1
    assert unanswered > 0
    assert len({parse_line(line)[16] for line in lines}) == len(records(folder, "asterisk"))
    assert any(b'"""' in line and b'"" <' in line for line in lines)  # a clid with its quotes doubled


def test_freeswitch_lines_are_example_template_byte_for_byte(switch_landings):
    folder, _ = switch_landings["freeswitch"]
    rows = records(folder, "freeswitch")
    for lines in switch_lines(folder, "freeswitch").values():
        for line in lines:
            fields = parse_line(line)
            assert len(fields) == FREESWITCH_FIELDS, line
            assert line.decode() == ",".join(quoted(f) for f in fields) + "\n"  # every field quoted
    by_uuid = {row[10]: k for k, row in enumerate(rows)}
    assert all(uuid.UUID(u).version == 4 and str(uuid.UUID(u)) == u for u in by_uuid)
    b_legs = {row[11] for row in rows if row[11]}
    assert b_legs and len(b_legs) < len(rows) // 2
    for k, row in enumerate(rows):
        assert row[3] in ("default", "public") and row[12].startswith("cust-") and row[13:] == ["PCMU", "PCMU"]
        assert int(row[7]) == (parse_ts(utc_text(row[6])) - parse_ts(utc_text(row[4]))).total_seconds()
        if row[5]:
            assert row[9] == "NORMAL_CLEARING" and int(row[8]) > 0
        else:
            assert row[9] in ("NO_ANSWER", "USER_BUSY", "ORIGINATOR_CANCEL") and row[8] == "0"
        if row[11]:  # an a-leg naming its b-leg: the next record, same times and customer, no b-leg of its own
            b_leg = rows[k + 1]
            assert by_uuid[row[11]] == k + 1 and b_leg[10] == row[11] and b_leg[11] == ""
            assert b_leg[4:10] == row[4:10] and b_leg[12] == row[12] and row[5]
    assert sum(1 for row in rows if not row[5]) > 0


def asterisk_calls(rows: list[list[str]]) -> tuple[list[tuple], list[tuple]]:
    """Asterisk records back to canonical calls: (answered, unanswered) as canonical_tuple gives them."""
    answered, unanswered = [], []
    for row in rows:
        src, dst, dcontext = row[1], row[2], row[3]
        internal = dcontext == "from-internal" and len(src) <= 6
        direction = "inbound" if dcontext == "from-pstn" else "internal" if internal else "outbound"
        if row[14] == "ANSWERED":
            answered.append(as_canonical(account_of(row[0]), direction, src, dst, row[10], row[13]))
        else:
            unanswered.append((account_of(row[0]), direction, e164(src), e164(dst), utc_text(row[9])))
    return answered, unanswered


def test_asterisk_records_are_the_canonical_calls(switch_landings):
    """Answer time back to UTC, numbers back to E.164: exactly the canonical calls of the same seed."""
    folder, _ = switch_landings["asterisk"]
    rows = records(folder, "asterisk")
    answered, unanswered = asterisk_calls(rows)
    calls = canonical_calls(switch_landings)
    assert answered == [canonical_tuple(row) for row in calls if row["duration_sec"] != "0"]
    assert unanswered == [canonical_tuple(row)[:5] for row in calls if row["duration_sec"] == "0"]
    # The numbers as dialled: both domestic forms, both international forms, extensions.
    dialled = [row[2] for row in rows if row[3] == "from-internal"]
    assert {len(d) for d in dialled if d.isdigit() and not d.startswith("011")} >= {3, 10, 11}
    assert any(d.startswith("011") for d in dialled) and any(d.startswith("+") for d in dialled)
    assert all(len(row[1]) == 10 for row in rows if row[3] == "from-pstn")


def test_freeswitch_a_legs_are_the_canonical_calls(switch_landings):
    folder, _ = switch_landings["freeswitch"]
    rows = records(folder, "freeswitch")
    b_legs = {row[11] for row in rows if row[11]}
    answered, unanswered = [], []
    for row in rows:
        name, src, dst, context, start, answer = row[:6]
        if row[10] in b_legs:
            a_leg = next(r for r in rows if r[11] == row[10])
            if context == "public":
                assert len(dst) == 3 and src == a_leg[1]  # the desk phone that answered
            else:
                assert e164(dst) == e164(a_leg[2]) and src == a_leg[1]
            continue
        direction = "inbound" if context == "public" else "internal" if len(src) <= 6 else "outbound"
        if answer:
            answered.append(as_canonical(account_of(row[12]), direction, src, dst, answer, row[8]))
        else:
            unanswered.append((account_of(row[12]), direction, e164(src), e164(dst), utc_text(start)))
    calls = canonical_calls(switch_landings)
    assert answered == [canonical_tuple(row) for row in calls if row["duration_sec"] != "0"]
    assert unanswered == [canonical_tuple(row)[:5] for row in calls if row["duration_sec"] == "0"]


def test_same_seed_gives_the_same_switch_files(switch_landings, tmp_path):
    folder, _ = switch_landings["freeswitch"]
    generate_landing(tmp_path / "again", platform="freeswitch", **SWITCH_SMALL)
    assert digests(tmp_path / "again") == digests(folder)


def test_no_unmapped_tenants_maps_every_account(tmp_path):
    counts = generate_landing(
        tmp_path / "out", platform="asterisk", unmapped_tenants=0, **{**SWITCH_SMALL, "months": 1}
    )
    assert counts["unmapped_tenants"] == [] and counts["switch_tenants"] == 5
    assert sorted(p.name for p in (tmp_path / "out" / "switch_cdrs" / "pbx1").iterdir()) == ["Master.csv"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"platform": "kamailio"}, "platform"), ({"platform": "asterisk", "unmapped_tenants": 6}, "unmapped_tenants")],
)
def test_bad_switch_arguments_are_refused(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        generate_landing(tmp_path / "out", **{**SWITCH_SMALL, **arguments})
    assert not (tmp_path / "out").exists()


def test_cli_platform_option(tmp_path, warehouse):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["generate", str(out), "--accounts", "3", "--months", "1", "--calls-per-account-month", "10"]
        + ["--platform", "freeswitch"],
    )
    assert result.exit_code == 0, result.output
    assert "switch_cdrs" in result.output and "unmapped_tenants     ACC-" in result.output
    assert (out / "switch_cdrs" / "fs1" / "Master.csv").is_file() and not (out / "cdrs").exists()
    refused = CliRunner().invoke(main, ["generate", str(tmp_path / "x"), "--platform", "kamailio"])
    assert refused.exit_code == 2 and "kamailio" in refused.output


# --- --platform-accounts: the switch's files for the first N accounts, cdrs/ for the others ----------
MIXED = {**SWITCH_SMALL, "accounts": 8, "calls_per_account_month": 100}  # resent calls of both kinds
ON_SWITCH = 3  # ACC-00001..ACC-00003


@pytest.fixture(scope="module")
def mixed_landings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """The canonical landing and a mixed one per platform (the first 3 of 8 accounts on the switch)."""
    root = tmp_path_factory.mktemp("mixed")
    return {
        platform: (
            root / platform,
            generate_landing(root / platform, platform=platform, platform_accounts=ON_SWITCH, **MIXED),
        )
        for platform in ("asterisk", "freeswitch")
    } | {"canonical": (root / "canonical", generate_landing(root / "canonical", **MIXED))}


def on_switch(account_id: str) -> bool:
    return int(account_id.removeprefix("ACC-")) <= ON_SWITCH


@pytest.mark.parametrize("platform", ["asterisk", "freeswitch"])
def test_mixed_landing_keeps_the_other_accounts_calls_in_cdrs(mixed_landings, platform):
    """cdrs/ holds the canonical rows (call ids, resent rows) of ACC-00004..8 and nothing else."""
    folder, counts = mixed_landings[platform]
    canonical_folder, canonical_counts = mixed_landings["canonical"]
    canonical, mixed = month_cdr_rows(canonical_folder), month_cdr_rows(folder)
    assert mixed == [row for row in canonical if not on_switch(row["account_id"])]
    assert {row["account_id"] for row in mixed} == {f"ACC-{i:05d}" for i in range(4, 9)}
    for name in ("cdrs_2026-02.csv", "cdrs_2026-03.csv", "cdrs_2026-04.csv", "cdrs_resend.csv"):
        rows = read_rows(canonical_folder / "cdrs" / name)
        assert read_rows(folder / "cdrs" / name) == [row for row in rows if not on_switch(row["account_id"])]
    resent = read_rows(folder / "cdrs" / "cdrs_resend.csv")
    assert resent and counts["cdrs_resend"] == len(resent) < canonical_counts["cdrs_resend"]
    # The switch has the rest: together they are the canonical run's calls.
    assert counts["cdrs"] == len(mixed) and 0 < len(mixed) < len(canonical)
    switch_calls = sum(1 for row in canonical if on_switch(row["account_id"]))
    if platform == "asterisk":  # one record per call (FreeSWITCH adds b-legs)
        assert counts["switch_cdrs"] == switch_calls == canonical_counts["cdrs"] - counts["cdrs"]
    assert counts["switch_cdrs"] == len(records(folder, platform))


def test_mixed_asterisk_records_are_the_canonical_calls_of_the_first_accounts(mixed_landings):
    folder, _ = mixed_landings["asterisk"]
    rows = records(folder, "asterisk")
    assert {account_of(row[0]) for row in rows} == {"ACC-00001", "ACC-00002", "ACC-00003"}
    answered, unanswered = asterisk_calls(rows)
    calls = [row for row in month_cdr_rows(mixed_landings["canonical"][0]) if on_switch(row["account_id"])]
    assert answered == [canonical_tuple(row) for row in calls if row["duration_sec"] != "0"]
    assert unanswered == [canonical_tuple(row)[:5] for row in calls if row["duration_sec"] == "0"]
    assert len(answered) + len(unanswered) == len(calls) > 200


@pytest.mark.parametrize("platform", ["asterisk", "freeswitch"])
def test_mixed_landing_maps_only_the_switch_accounts(mixed_landings, platform):
    """Tenant rows for ACC-00001..3 only, less the busiest of those three in the first month."""
    folder, counts = mixed_landings[platform]
    first_month = Counter(
        row["account_id"]
        for row in read_rows(mixed_landings["canonical"][0] / "cdrs" / "cdrs_2026-02.csv")
        if on_switch(row["account_id"])
    )
    busiest = max(sorted(first_month), key=lambda account: first_month[account])
    assert counts["unmapped_tenants"] == [busiest] == unmapped_tenant_ids(folder)
    tenants = read_rows(folder / "switch_tenants" / "switch_tenants.csv")
    assert [row["account_id"] for row in tenants] == sorted({"ACC-00001", "ACC-00002", "ACC-00003"} - {busiest})
    assert counts["switch_tenants"] == 2


@pytest.mark.parametrize("platform", ["asterisk", "freeswitch"])
def test_mixed_landing_has_both_kinds_of_call_files_and_the_same_other_files(mixed_landings, platform):
    canonical, mixed = digests(mixed_landings["canonical"][0]), digests(mixed_landings[platform][0])
    others = {name: digest for name, digest in canonical.items() if not name.startswith("cdrs/")}
    assert {name: mixed[name] for name in others} == others
    assert set(mixed) - set(others) == {
        *(name for name in canonical if name.startswith("cdrs/")),
        "switches/switches.csv",
        "switch_tenants/switch_tenants.csv",
        *(f"switch_cdrs/{SWITCH_IDS[platform]}/{name}" for name in ROTATED),
    }


def test_platform_accounts_of_every_account_is_the_platform_landing(switch_landings, tmp_path):
    folder, counts = switch_landings["asterisk"]
    again = generate_landing(tmp_path / "all", platform="asterisk", platform_accounts=5, **SWITCH_SMALL)
    assert again == counts and digests(tmp_path / "all") == digests(folder)


def test_mixed_landing_without_unmapped_tenants(tmp_path):
    counts = generate_landing(tmp_path / "out", platform="asterisk", platform_accounts=2, unmapped_tenants=0, **MIXED)
    tenants = read_rows(tmp_path / "out" / "switch_tenants" / "switch_tenants.csv")
    assert [row["account_id"] for row in tenants] == ["ACC-00001", "ACC-00002"]
    assert counts["unmapped_tenants"] == [] == unmapped_tenant_ids(tmp_path / "out")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"platform_accounts": 3}, "platform_accounts needs a platform"),
        ({"platform": "asterisk", "platform_accounts": 0}, "platform_accounts must be an integer >= 1"),
        ({"platform": "asterisk", "platform_accounts": 9}, r"platform_accounts must be at most accounts \(8\)"),
        (
            {"platform": "asterisk", "platform_accounts": 2, "unmapped_tenants": 3},
            r"unmapped_tenants must be at most platform_accounts \(2\)",
        ),
    ],
)
def test_bad_platform_accounts_are_refused(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        generate_landing(tmp_path / "out", **{**MIXED, **arguments})
    assert not (tmp_path / "out").exists()


def test_cli_platform_accounts_option(tmp_path, warehouse):
    out = tmp_path / "out"
    arguments = ["generate", str(out), "--accounts", "4", "--months", "1", "--calls-per-account-month", "20"]
    result = CliRunner().invoke(main, [*arguments, "--platform", "asterisk", "--platform-accounts", "2"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^cdrs +\d", result.output, re.M) and re.search(r"^switch_cdrs +\d", result.output, re.M)
    assert {row["account_id"] for row in read_rows(out / "cdrs" / "cdrs_2026-02.csv")} == {"ACC-00003", "ACC-00004"}
    assert {account_of(parse_line(line)[0]) for line in (out / "switch_cdrs" / "pbx1" / "Master.csv").open("rb")} == {
        "ACC-00001",
        "ACC-00002",
    }
    refused = CliRunner().invoke(main, ["generate", str(tmp_path / "x"), "--platform-accounts", "2"])
    assert refused.exit_code == 1 and "platform_accounts needs a platform" in refused.output
