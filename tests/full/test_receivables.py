"""Payments, receivables, autopay and commissions end to end (R-PAY-1..3, R-CAL-5, R-COMM-1..5).

The small fixture is closed for 2026-05 (invoices dated 1 May, due 16 May); payments then land in
steps and the autopay and payout jobs run through the real CLI, Dagster and dbt.
"""

import csv
import re
from decimal import Decimal

import duckdb
from helpers import land_small_with, query, run

PAYMENT_HEADER = "payment_id,account_id,invoice_id,received_at,amount,method,card_brand,last4,is_autopay,status"
INVOICE = {"ACC-1": "INV-202605-ACC-1", "ACC-2": "INV-202605-ACC-2", "ACC-3": "INV-202605-ACC-3"}
COMMISSIONABLE = "('service_fee', 'phone_numbers', 'prorated_charges', 'low_usage_discount', 'contact_center')"


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def card_numbers_in_warehouse(warehouse) -> list[tuple[str, str, str]]:
    """Every 13-19 digit Luhn-valid run in any text column of any table in any schema."""
    found = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON') or data_type like 'VARCHAR[]%'"
        ).fetchall()
        for schema, table, column in columns:
            values = con.execute(f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"').fetchall()
            for (value,) in values:
                for run_ in re.findall(r"[0-9]{13,19}", value or ""):
                    if luhn_valid(run_):
                        found.append((f"{schema}.{table}.{column}", run_, value))
    return found


def totals(warehouse) -> dict[str, Decimal]:
    return dict(query(warehouse, "select account_id, total from published.invoices where invoice_date = '2026-05-01'"))


def test_card_and_bank_numbers_never_reach_the_warehouse(closed_may, warehouse):
    result = land_small_with(
        closed_may,
        {
            "payments/cards.csv": "\n".join(
                [
                    PAYMENT_HEADER,
                    "PAY-1,ACC-1,,2026-05-20T10:00:00Z,50.00,card,visa,4242,false,settled",
                    "PAY-2,ACC-1,,2026-05-20T10:00:00Z,50.00,card,visa,4111111111111111,false,settled",
                    "PAY-3,ACC-2,,2026-05-20T10:00:00Z,50.00,ach,,000123456789,false,settled",
                    "PAY-4,ACC-2,,2026-05-20T10:00:00Z,50.00,card,diners,1234,false,settled",
                    "PAY-5,ACC-3,,2026-05-20T10:00:00Z,50.00,check,visa,,false,settled",
                    "PAY-6,ACC-3,,2026-05-20T10:00:00Z,-5.00,check,,,false,settled",
                    "PAY-7,ACC-3,5500005555555559,2026-05-20T10:00:00Z,50.00,check,,,false,settled",
                    "PAY-8,ACC-1,,2026-05-20T10:00:00Z,50.00,card,visa,4242,false,settled,4012888888881881",
                    "PAY-9,ACC-2,,2026-05-20T10:00:00Z,50.00,ach,,6789,false,settled",
                ]
            )
        },
    )
    assert "cards.csv" in result.output
    reasons = dict(query(warehouse, "select line_number, reason from raw.quarantine where entity = 'payments'"))
    assert reasons == {
        3: "a full card number was landed (never stored: PCI DSS 3.4); send the brand and last four digits only",
        4: "last4: a full bank account number was landed; send the last four digits only (R-PAY-1)",
        5: "card_brand: diners is not one of visa/mastercard/amex/discover",
        6: "card_brand: visa given for a check payment",
        7: "amount: a payment must be positive",
        8: "a full card number was landed (never stored: PCI DSS 3.4); send the brand and last four digits only",
        9: "malformed CSV line: too many columns",
    }
    assert query(warehouse, "select payment_id, last4 from raw.payments order by 1") == [
        ("PAY-1", "4242"),
        ("PAY-9", "6789"),
    ]
    masked = dict(query(warehouse, "select line_number, raw_text from raw.quarantine where entity = 'payments'"))
    assert "****1111" in masked[3] and "****6789" in masked[4] and "****1881" in masked[9]

    run("payout", "2026-05")  # builds fct_payments and the other ledger marts from the landed rows
    assert query(warehouse, "select payment_id, last4, card_brand from marts.fct_payments order by 1") == [
        ("PAY-1", "4242", "visa"),
        ("PAY-9", "6789", None),
    ]
    assert card_numbers_in_warehouse(warehouse) == []
    text_tables = (
        "select count(distinct table_schema || table_name) from information_schema.columns where data_type = 'VARCHAR'"
    )
    assert query(warehouse, text_tables)[0][0] > 30  # raw, quarantine, staging, marts, published, audit
    bank = "%0001234%"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        text_columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
        ).fetchall()
        holding_the_bank_number = [
            (schema, table, column)
            for schema, table, column in text_columns
            if con.execute(f'select count(*) from "{schema}"."{table}" where "{column}" like ?', [bank]).fetchone()[0]
        ]
    assert holding_the_bank_number == []


def test_partial_unreferenced_and_charged_back_payments(closed_may, warehouse):
    total = totals(warehouse)
    land_small_with(
        closed_may,
        {
            "payments/june.csv": "\n".join(
                [
                    PAYMENT_HEADER,
                    # ACC-1 pays 100.00 of its invoice before the autopay run of 10 May.
                    f"PAY-A1,ACC-1,{INVOICE['ACC-1']},2026-05-08T10:00:00Z,100.00,card,visa,4242,false,settled",
                    # ACC-2 pays its balance without naming an invoice, in part.
                    "PAY-B1,ACC-2,,2026-06-05T10:00:00Z,100.00,ach,,6789,false,settled",
                    # ACC-3 pays in full, then the payment is charged back (next file).
                    f"PAY-C1,ACC-3,{INVOICE['ACC-3']},2026-05-20T10:00:00Z,{total['ACC-3']},card,amex,1005,false,settled",
                ]
            )
        },
    )
    autopay = run("autopay", "2026-05")
    assert "autopay date       2026-05-10" in autopay.output
    # ACC-1 alone has autopay on; it owes its total less the 100.00 received on 8 May.
    charge_file = warehouse.parent / "exports" / "autopay" / "autopay_2026-05.csv"
    assert list(csv.DictReader(charge_file.open())) == [
        {
            "autopay_date": "2026-05-10",
            "account_id": "ACC-1",
            "invoice_id": INVOICE["ACC-1"],
            "amount": str(total["ACC-1"] - Decimal("100.00")),
            "payment_method": "visa ****4242",
        }
    ]

    receivables = {
        r[0]: r[1:]
        for r in query(
            warehouse, "select account_id, amount_paid, open_amount, aging_bucket from marts.fct_receivables"
        )
    }
    assert receivables["ACC-1"][:2] == (Decimal("100.00"), total["ACC-1"] - Decimal("100.00"))
    assert receivables["ACC-2"][:2] == (Decimal("100.00"), total["ACC-2"] - Decimal("100.00"))
    assert receivables["ACC-3"] == (total["ACC-3"], Decimal("0.00"), "paid")
    assert receivables["ACC-1"][2] == "over 90"  # due 16 May; as of today (2026-11-28 or later)

    land_small_with(
        closed_may,
        {
            "payments/chargebacks.csv": "\n".join(
                [
                    PAYMENT_HEADER,
                    f"PAY-C1,ACC-3,{INVOICE['ACC-3']},2026-05-20T10:00:00Z,{total['ACC-3']},card,amex,1005,false,chargeback",
                ]
            )
        },
    )
    run("payout", "2026-05")
    reopened = query(warehouse, "select amount_paid, open_amount from marts.fct_receivables where account_id = 'ACC-3'")
    assert reopened == [(Decimal("0.00"), total["ACC-3"])]
    # May's autopay run has been made (rebuilt since): ACC-1 is chased for what it still owes (R-CAL-5).
    assert query(warehouse, "select account_id, past_due_amount from marts.rpt_dunning_list") == [
        ("ACC-1", total["ACC-1"] - Decimal("100.00")),
        ("ACC-2", total["ACC-2"] - Decimal("100.00")),
        ("ACC-3", total["ACC-3"]),
    ]
    assert query(warehouse, "select status, applied_amount from marts.fct_payments where payment_id = 'PAY-C1'") == [
        ("chargeback", Decimal("0.00"))
    ]


def test_an_autopay_account_is_not_chased_before_its_autopay_has_run(closed_may, warehouse):
    """R-CAL-5, issue 25.9: closed as of today, May's invoices are months past due. ACC-1 has autopay on,
    and the autopay run of 10 May, which charges its card, was never made: the billing team does not
    chase it. ACC-2 and ACC-3 pay by hand and are chased for their whole invoice."""
    total = totals(warehouse)
    assert query(warehouse, "select account_id, autopay, past_due_amount from marts.rpt_dunning_list") == [
        ("ACC-2", False, total["ACC-2"]),
        ("ACC-3", False, total["ACC-3"]),
    ]


def test_residual_on_the_15th_and_spiff_only_after_full_payment(closed_may, warehouse):
    total = totals(warehouse)
    basis = query(
        warehouse,
        f"select sum(amount) from published.invoice_lines where account_id = 'ACC-2' and line_type in {COMMISSIONABLE}",
    )[0][0]
    land_small_with(
        closed_may,
        {"payments/first.csv": f"{PAYMENT_HEADER}\nPAY-B1,ACC-2,,2026-06-05T10:00:00Z,100.00,ach,,6789,false,settled"},
    )
    may = run("payout", "2026-05")
    residual = (basis * Decimal("0.15")).quantize(Decimal("0.01"))
    assert "payout date        2026-05-15" in may.output
    payout_file = warehouse.parent / "exports" / "payouts" / "2026-05" / "payout_2026-05_P-001.csv"
    assert list(csv.DictReader(payout_file.open())) == [
        {
            "partner_id": "P-001",
            "account_id": "ACC-2",
            "invoice_id": INVOICE["ACC-2"],
            "commission_type": "residual",
            "basis_amount": str(basis),
            "amount": str(residual),
            "earned_date": "2026-05-01",
        }
    ]
    assert query(warehouse, "select count(*) from marts.fct_commissions where commission_type = 'spiff'") == [(0,)]

    rest = total["ACC-2"] - Decimal("100.00")
    land_small_with(
        closed_may,
        {"payments/rest.csv": f"{PAYMENT_HEADER}\nPAY-B2,ACC-2,,2026-06-12T16:00:00Z,{rest},ach,,6789,false,settled"},
    )
    july = run("payout", "2026-07")
    assert "payout_2026-07_P-001.csv     1 row(s)  USD       150.00" in july.output
    assert query(
        warehouse,
        "select commission_type, basis_amount, amount, earned_date::varchar, payout_date::varchar "
        "from marts.fct_commissions where commission_type = 'spiff'",
    ) == [("spiff", total["ACC-2"], Decimal("150.00"), "2026-06-12", "2026-07-15")]
    events = query(
        warehouse, "select count(*) from audit.billing_events where event_type in ('commission_payout', 'autopay_file')"
    )
    assert events == [(2,)]


def payout_rows(warehouse, month: str) -> list[tuple[str, str, str]]:
    path = warehouse.parent / "exports" / "payouts" / month / f"payout_{month}_P-001.csv"
    return [(r["commission_type"], r["invoice_id"], r["amount"]) for r in csv.DictReader(path.open())]


def test_a_commission_is_paid_once_late_if_need_be_and_a_reversed_spiff_is_clawed_back(closed_may, warehouse):
    total = totals(warehouse)
    run("payout", "2026-05")
    assert [row[0] for row in payout_rows(warehouse, "2026-05")] == ["residual"]
    # ACC-2's first invoice is not paid yet, and May's residual was paid in May: nothing payable
    assert "nothing payable" in run("payout", "2026-06").output
    # Paid in full on 20 May, but the payment lands after the payout of 15 June ran: the spiff was
    # due then, and the next payout pays it instead of never.
    full = f"PAY-B1,ACC-2,,2026-05-20T10:00:00Z,{total['ACC-2']},ach,,6789,false,settled"
    land_small_with(closed_may, {"payments/late.csv": f"{PAYMENT_HEADER}\n{full}"})
    july = run("payout", "2026-07")
    assert "payout_2026-07_P-001.csv     1 row(s)  USD       150.00" in july.output
    assert payout_rows(warehouse, "2026-07") == [("spiff", INVOICE["ACC-2"], "150.00")]
    assert query(
        warehouse, "select payout_date::varchar from marts.fct_commissions where commission_type = 'spiff'"
    ) == [("2026-06-15",)]
    # The payment is charged back after the spiff was paid: August's payout claws it back, once.
    land_small_with(
        closed_may, {"payments/chargeback.csv": f"{PAYMENT_HEADER}\n{full.replace('settled', 'chargeback')}"}
    )
    run("payout", "2026-08")
    assert payout_rows(warehouse, "2026-08") == [("clawback", INVOICE["ACC-2"], "-150.00")]
    assert "nothing payable" in run("payout", "2026-09").output
    # A payout run again rewrites the file it sent, as it was: July still paid the spiff.
    run("payout", "2026-07")
    assert payout_rows(warehouse, "2026-07") == [("spiff", INVOICE["ACC-2"], "150.00")]
    assert query(
        warehouse,
        "select payout_date::varchar, commission_type, amount::varchar from published.commission_payouts "
        "where account_id = 'ACC-2' and commission_type <> 'residual' order by payout_date",
    ) == [("2026-07-15", "spiff", "150.00"), ("2026-08-15", "clawback", "-150.00")]


def test_payouts_sent_before_the_payout_ledger_are_not_paid_again(closed_may, warehouse):
    from callbill.warehouse import connect, record_event

    # A warehouse whose May payout ran before the ledger: its audit event has no `reproduced`.
    with connect(warehouse) as con:
        record_event(con, "commission_payout", {"payout_date": "2026-05-15", "partners": {}, "total": "33.69"})
    assert "nothing payable" in run("payout", "2026-06").output  # May's residual was paid in May
    run("payout", "2026-05")  # May's file, as it was sent
    assert [row[0] for row in payout_rows(warehouse, "2026-05")] == ["residual"]
    assert query(warehouse, "select count(*) from audit.billing_events where event_type = 'payout_ledger_started'") == [
        (1,)
    ]


def test_a_payment_naming_another_accounts_invoice_is_quarantined(closed_may, warehouse):
    # It would pay neither that invoice nor, as credit, the payer's own: nothing, without a word.
    wrong = f"PAY-X1,ACC-2,{INVOICE['ACC-1']},2026-05-20T10:00:00Z,10.00,ach,,6789,false,settled"
    land_small_with(closed_may, {"payments/wrong_invoice.csv": f"{PAYMENT_HEADER}\n{wrong}"})
    assert query(warehouse, "select line_number, reason from raw.quarantine where entity = 'payments'") == [
        (2, f"invoice_id: {INVOICE['ACC-1']} is an invoice of another account, not of ACC-2")
    ]
    assert query(warehouse, "select count(*) from raw.payments where payment_id = 'PAY-X1'") == [(0,)]
