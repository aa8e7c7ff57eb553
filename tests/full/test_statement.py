"""R-INV-4: a published invoice as a PDF statement, its text read back with pypdf; and the call detail
CSV (R-RATE-6) whose invoice_line_id the statement's line references name.

`months_with_payments`: the small fixture closed for 2026-04, then, with more files landed, for
2026-05..2026-06: ACC-2 (billed from May) pays 100.00 of its first invoice on 20 May (a failed
payment of 50.00 the next day pays nothing) and has a street address; ACC-1 asks to cancel on
12 May, so service ends 31 May and June is its final invoice; a March call of ACC-1 lands after
April is published (R-LATE-1) and goes on May at March's UK mobile rate, beside April's call at the
new rate; in May ACC-1 uses 990 plan minutes on one call, then 30 internal minutes that cross the
bundle of 1,000 (R-RATE-5)."""

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ACCOUNT_HEADER, CDR_HEADER, FIXTURES, land_small_with, query, run, warehouse_at
from pypdf import PdfReader

from callbill.cli import main

PAYMENT_HEADER = "payment_id,account_id,invoice_id,received_at,amount,method,card_brand,last4,is_autopay,status"
EXTRA_FILES = {
    "accounts/z_address_and_cancellation.csv": f"""{ACCOUNT_HEADER},billing_street,billing_city
ACC-1,Acme,US,TX,78701,basic,,2025-01-01,2025-01-01,0,12,,0,true,a@x.example,a@x.example,2026-05-12,2026-05-12T00:00:00Z,100 Congress Ave,Austin
ACC-2,Beta,US,CA,94105,standard,P-001,2026-02-10,,2,24,,0,false,b@x.example,b@x.example,,2026-05-02T00:00:00Z,"500 Howard St, Suite 300",San Francisco""",  # noqa: E501
    "cdrs/z_more.csv": f"""{CDR_HEADER}
L1,ACC-1,outbound,+15125550100,+447700900123,2026-03-20T12:00:00Z,,120
A30,ACC-3,internal,101,102,2026-04-30T22:00:00Z,,60
M1,ACC-1,outbound,+15125550100,+15125551234,2026-05-10T15:00:00Z,,59400
M2,ACC-1,internal,101,102,2026-05-11T15:00:00Z,,1800
M3,ACC-1,outbound,+15125550100,+447700900123,2026-05-31T20:00:00Z,,60""",
    "payments/p.csv": f"""{PAYMENT_HEADER}
P-1,ACC-2,INV-202605-ACC-2,2026-05-20T10:00:00Z,100.00,card,Visa,1111,false,settled
P-2,ACC-2,,2026-05-21T10:00:00Z,50.00,card,Visa,1111,false,failed""",
}


@pytest.fixture(scope="module")
def months_with_payments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("statements")
    with warehouse_at(root):
        run("land", str(FIXTURES / "landing_small"))
        run("close", "2026-04")
        land_small_with(root, EXTRA_FILES)  # L1 lands after April is published: a late call
        run("close", "2026-05..2026-06")
    return root / "warehouse" / "callbill.duckdb"


def statement_text(warehouse: Path, account_id: str, month: str, out: Path) -> list[str]:
    """The PDF's text, line by line."""
    run("--warehouse", str(warehouse), "statement", account_id, month, "--out", str(out))
    return "\n".join(page.extract_text() for page in PdfReader(out).pages).splitlines()


def amount_of(lines: list[str], label: str) -> Decimal:
    """The amount at the end of the line that starts with label (one such line)."""
    found = [line for line in lines if line.startswith(label)]
    assert len(found) == 1, (label, found)
    return Decimal(found[0].rsplit(" ", 1)[1].replace(",", ""))


def call_detail(warehouse: Path, account_id: str, month: str, out: Path) -> list[dict[str, str]]:
    run("--warehouse", str(warehouse), "calls", account_id, month, "--out", str(out))
    with out.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_statement_pdf_carries_the_published_total_due_date_and_payment_instructions(closed_may, tmp_path):
    out = tmp_path / "ACC-2-2026-05.pdf"

    result = CliRunner().invoke(main, ["statement", "ACC-2", "2026-05", "--out", str(out)])

    assert result.exit_code == 0, result.output + result.stderr
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Invoice INV-202605-ACC-2" in text
    assert "Due date 2026-05-16" in text.replace("\n", " ")
    assert "274.70" in text  # the published total (test_close_small derives it from the rules)
    assert "Desk phone × 2, 20 days of April 2026" in text
    assert "Universal Service Fund fee" in text
    assert "PO Box 412252" in text
    assert "ACH" in text and "Discover" in text


def test_statement_shows_the_name_and_exemption_certificate_the_invoice_was_published_with(closed_may, tmp_path):
    """R-TAX-2, R-INV-2: ACC-3 was exempt (TX-EX-1) when May was published. A later version of the
    account, renamed and without a certificate, does not change May's statement."""
    renamed = (
        "ACC-3,Gamma Holdings,US,OR,97201,unlimited,,2025-06-01,2025-06-01,0,12,,0,false,"
        "c@x.example,c@x.example,,2026-06-01T00:00:00Z"
    )
    land_small_with(closed_may, {"accounts/renamed.csv": f"{ACCOUNT_HEADER}\n{renamed}"})
    out = tmp_path / "ACC-3-2026-05.pdf"

    result = CliRunner().invoke(main, ["statement", "ACC-3", "2026-05", "--out", str(out)])

    assert result.exit_code == 0, result.output + result.stderr
    text = " ".join(page.extract_text() for page in PdfReader(out).pages).replace("\n", " ")
    assert "Account ACC-3  Gamma Billing" in text and "Holdings" not in text
    assert "Tax exemption certificate TX-EX-1" in text


def test_second_month_statement_shows_the_partial_payment_balance_forward_and_total_due(months_with_payments, tmp_path):
    """The acceptance test of #25.5: ACC-2's June statement, after 100.00 of May's 274.70 was paid."""
    lines = statement_text(months_with_payments, "ACC-2", "2026-06", tmp_path / "acc2_june.pdf")
    totals = dict(
        query(months_with_payments, "select invoice_id, total from published.invoices where account_id = 'ACC-2'")
    )
    # May: test_close_small derives 274.70 from the rules. June, by hand: devices 2 × 24.95, seats
    # 2 × 39.95, a local number 4.95 = 134.75 recurring; USF 0.370 × 0.649 × (49.90 + 4.95) = 13.17,
    # RRF 3 % and California's SLRRF 1.25 % of 134.75 = 4.04 and 1.68; tax 7.25 % of 153.64 = 11.14.
    assert totals == {"INV-202605-ACC-2": Decimal("274.70"), "INV-202606-ACC-2": Decimal("164.78")}

    assert lines[1] == "Statement"
    assert "Invoice INV-202606-ACC-2" in lines
    # the billing street address (landed in the optional columns), the city, state and ZIP
    address = lines.index("Billing address Beta")
    assert lines[address + 1 : address + 3] == ["500 Howard St, Suite 300", "San Francisco, CA 94105"]
    assert amount_of(lines, "Previous balance (invoice INV-202605-ACC-2 of 2026-05-01)") == Decimal("274.70")
    # the failed payment of 21 May pays nothing
    assert amount_of(lines, "Payments received since 2026-05-01") == Decimal("-100.00")
    assert not any(line.startswith("Credit applied") for line in lines)
    assert amount_of(lines, "Balance forward") == Decimal("174.70")
    assert amount_of(lines, "New charges (this invoice's total)") == Decimal("164.78")
    assert amount_of(lines, "Total due (USD)") == Decimal("339.48")  # 274.70 - 100.00 + 164.78
    assert "New charges 164.78" in lines and "Total due 339.48" in lines  # the summary's own lines
    # column headers, one unit per column
    assert "Ref Description Quantity Unit price (USD) Amount (USD)" in lines
    assert "Ref Description Charged on (USD) Rate (%) Amount (USD)" in lines


def test_first_statement_has_no_previous_invoice(months_with_payments, tmp_path):
    lines = statement_text(months_with_payments, "ACC-2", "2026-05", tmp_path / "acc2_may.pdf")
    assert amount_of(lines, "Previous balance (first invoice)") == Decimal("0.00")
    assert amount_of(lines, "Payments received") == Decimal("0.00")  # P-1 came after the invoice date
    assert amount_of(lines, "Balance forward") == Decimal("0.00")
    assert amount_of(lines, "Total due (USD)") == Decimal("274.70")


def test_final_invoice_says_it_is_final_and_why(months_with_payments, tmp_path):
    lines = statement_text(months_with_payments, "ACC-1", "2026-06", tmp_path / "acc1_june.pdf")
    assert lines[1] == "Final invoice"
    assert "Final invoice: service ended 2026-05-31 after cancellation requested 2026-05-12." in lines
    may = statement_text(months_with_payments, "ACC-1", "2026-05", tmp_path / "acc1_may.pdf")
    assert may[1] == "Statement" and not any(line.startswith("Final invoice") for line in may)


def test_lines_show_units_rates_as_money_and_one_destinations_lines_together(months_with_payments, tmp_path):
    """ACC-1's May invoice: the late March call to a UK mobile at March's 0.09 and April's call at
    0.085 are two lines of one destination, under its name; a fee's base is not a quantity."""
    lines = statement_text(months_with_payments, "ACC-1", "2026-05", tmp_path / "acc1_may.pdf")
    uk = lines.index("Calls to United Kingdom mobile")
    assert [line.split(" ", 1)[1] for line in lines[uk + 1 : uk + 3]] == [
        "International minutes to United Kingdom mobile, April 2026 1 0.085 0.09",
        "International minutes to United Kingdom mobile, April 2026 2 0.09 0.18",
    ]
    assert "Ref Description Minutes Per minute (USD) Amount (USD)" in lines
    assert any(line.endswith("Desk phone × 3, May 2026 3 24.95 74.85") for line in lines)
    # the regulatory recovery fee: 3 % of the recurring base, in USD (not a quantity of 96.79)
    base = query(
        months_with_payments,
        "select quantity, amount from published.invoice_lines where invoice_id = 'INV-202605-ACC-1' "
        "and line_type = 'rrf'",
    )[0]
    assert any(line.endswith(f"Regulatory recovery fee {base[0]:,.2f} 3 {base[1]}") for line in lines)


def test_each_line_reference_names_the_line_its_calls_are_billed_on(months_with_payments, tmp_path):
    """The Ref printed on a line is the end of the invoice_line_id the call detail gives its calls, and
    those calls' costs, summed and rounded once, are the line's amount."""
    lines = statement_text(months_with_payments, "ACC-1", "2026-06", tmp_path / "acc1_june.pdf")
    calls = call_detail(months_with_payments, "ACC-1", "2026-06", tmp_path / "acc1_june.csv")
    by_line: dict[str, Decimal] = {}
    for call in calls:
        line_id = call["invoice_line_id"]
        by_line[line_id] = by_line.get(line_id, Decimal(0)) + Decimal(call["total_cost"])
    assert len(by_line) == 3  # the plan's minutes, the minutes beyond it, the UK mobile minutes
    for line_id, cost in by_line.items():
        ref = line_id.removeprefix("INV-202606-ACC-1-")
        printed = [line for line in lines if line.startswith(ref + " ")]
        assert len(printed) == 1, ref
        assert Decimal(printed[0].rsplit(" ", 1)[1]) == cost.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    plan = [line for line in lines if "Plan minutes used, May 2026" in line][0]
    beyond = [line for line in lines if "Outbound minutes beyond the plan, May 2026" in line][0]
    assert plan.endswith(" 1000 0.00 0.00") and beyond.endswith(" 20 0.039 0.78")


def test_call_detail_says_what_was_in_the_plan_with_local_time_and_extensions(months_with_payments, tmp_path):
    calls = {c["call_id"]: c for c in call_detail(months_with_payments, "ACC-1", "2026-06", tmp_path / "june.csv")}
    assert list(calls) == ["M1", "M2", "M3"]
    columns = list(calls["M1"])
    # the guide's columns, then the switch, file and line, in their order; then the new ones
    assert columns[:16] == [
        "call_id", "source_number", "destination_number", "start_time_utc", "end_time_utc", "duration_sec",
        "billable_minutes", "total_cost", "rate_per_minute", "call_type", "destination", "is_late",
        "invoice_line_id", "switch_id", "source_file", "source_line",
    ]  # fmt: skip
    assert columns[16:] == ["included", "included_seconds", "start_time_local", "end_time_local", "time_zone"]
    pick = ("included", "included_seconds", "billable_minutes", "total_cost", "destination")
    # 990 minutes in the plan; the internal call takes the plan's last 10 minutes and 20 beyond it
    # at basic's 0.039 (R-RATE-5); the UK mobile call is outside the plan at the deck's 0.085
    assert [tuple(calls[c][k] for k in pick) for c in calls] == [
        ("true", "59400", "990.0000", "0.00000000", "United States"),
        ("true", "600", "30.0000", "0.78000000", "extension 102"),
        ("false", "0", "1.0000", "0.08500000", "United Kingdom mobile"),
    ]
    assert (calls["M2"]["source_number"], calls["M2"]["destination_number"]) == ("101", "102")
    # Texas: Central time, daylight saving in May (UTC-5)
    m1 = calls["M1"]
    assert (m1["start_time_utc"], m1["start_time_local"], m1["time_zone"]) == (
        "2026-05-10 15:00:00",
        "2026-05-10 10:00:00",
        "America/Chicago",
    )
    assert (calls["M3"]["end_time_utc"], calls["M3"]["end_time_local"]) == (
        "2026-05-31 20:01:00",
        "2026-05-31 15:01:00",
    )
