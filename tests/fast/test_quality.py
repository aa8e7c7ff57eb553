"""Great Expectations suites of expectations/ validate real rows with GX (no mocks)."""

import pandas as pd

from callbill.quality.suites import SUITES_DIR, load_suite, load_suites, validate


def test_every_suite_file_loads_and_targets_a_public_mart():
    suites = {s.name: s for s in load_suites()}
    assert set(suites) == {"invoices_balance", "account_invoice_coverage", "revenue_assurance", "invoice_change_review"}
    assert {s.asset for s in suites.values()} == {"fct_invoices", "fct_rated_calls"}
    assert [n for n, s in sorted(suites.items()) if not s.blocking] == ["invoice_change_review"]


def test_unbalanced_and_negative_invoices_fail_with_their_rows():
    suite = load_suite(SUITES_DIR / "invoices_balance.json")
    rows = pd.DataFrame(
        {
            "invoice_id": ["INV-202605-A", "INV-202605-B", "INV-202605-C"],
            "total_cents": [10000, 5001, -200],
            "line_sum_cents": [10000, 5000, -200],
            "subtotal_plus_tax_cents": [10000, 5001, -200],
            "subtotal_before_adjustments_cents": [10000, 5001, -200],
            "usf_cents": [100, 100, 0],
            "usf_cap_cents": [100, 99, 0],
        }
    )
    failures = {f["check"]: f for f in validate(suite, rows)}
    assert set(failures) == {
        "invoice total equals the sum of its lines",
        "no negative charges before adjustments and tax",
        "USF line within factor × interstate share × base",
    }
    assert failures["invoice total equals the sum of its lines"]["failing_rows"] == 1
    assert failures["invoice total equals the sum of its lines"]["first_failing_rows"][0]["invoice_id"] == (
        "INV-202605-B"
    )
    assert (
        failures["no negative charges before adjustments and tax"]["first_failing_rows"][0]["invoice_id"]
        == "INV-202605-C"
    )


def test_balanced_invoices_pass():
    suite = load_suite(SUITES_DIR / "invoices_balance.json")
    rows = pd.DataFrame(
        {
            "invoice_id": ["INV-202605-A"],
            "total_cents": [12345],
            "line_sum_cents": [12345],
            "subtotal_plus_tax_cents": [12345],
            "subtotal_before_adjustments_cents": [12345],
            "usf_cents": [0],
            "usf_cap_cents": [0],
        }
    )
    assert validate(suite, rows) == []
