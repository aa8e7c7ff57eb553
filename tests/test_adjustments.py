"""Adjustments (R-CAL-6, R-INV-2): approved credits land on the next invoice; a dispute raised more
than 15 days after the disputed invoice's date is quarantined with that reason, never applied."""

import shutil
from pathlib import Path

import duckdb
from click.testing import CliRunner

from orchestration.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
ADJUSTMENTS = (
    "adjustment_id,account_id,amount,reason,approved_at,disputed_invoice_id\n"
    "ADJ-1,ACC-1,-25.00,Outage credit,2026-05-10T09:00:00Z,INV-202605-ACC-1\n"
    "ADJ-2,ACC-1,-40.00,Late dispute,2026-05-17T09:00:00Z,INV-202605-ACC-1\n"
    "ADJ-3,ACC-2,-10.00,Unknown invoice,2026-05-12T09:00:00Z,INV-202601-ACC-2\n"
    "ADJ-4,ACC-3,-5.50,Goodwill,2026-05-28T09:00:00Z,\n"
)


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result


def test_credits_land_on_the_next_invoice_and_late_disputes_are_quarantined(warehouse, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", landing)
    run("land", str(landing))
    run("close", "2026-05")
    (landing / "adjustments").mkdir()
    (landing / "adjustments" / "may_credits.csv").write_text(ADJUSTMENTS)
    landed = run("land", str(landing)).output
    assert "adjustments/may_credits.csv" in landed
    run("close", "2026-06")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantined = con.execute(
            "select line_number, reason from raw.quarantine where entity = 'adjustments' order by line_number"
        ).fetchall()
        lines = con.execute(
            "select invoice_id, amount, description from published.invoice_lines "
            "where line_type = 'adjustment' order by invoice_id"
        ).fetchall()
        acc1_tax_base = con.execute(
            "select quantity from published.invoice_lines where invoice_id = 'INV-202606-ACC-1' and line_type = 'tax'"
        ).fetchone()[0]
        acc1_lines = con.execute(
            "select sum(amount) filter (where line_type not in ('tax')) from published.invoice_lines "
            "where invoice_id = 'INV-202606-ACC-1'"
        ).fetchone()[0]

    assert quarantined == [
        (3, "dispute of INV-202605-ACC-1 dated 2026-05-01 is outside the 15-day dispute window (R-CAL-6)"),
        (4, "disputed_invoice_id: INV-202601-ACC-2 is not a published invoice"),
    ]
    assert [(i, str(a), d) for i, a, d in lines] == [
        ("INV-202606-ACC-1", "-25.00", "Outage credit (ADJ-1, re INV-202605-ACC-1)"),
        ("INV-202606-ACC-3", "-5.50", "Goodwill (ADJ-4)"),
    ]
    # R-TAX-1: the credit reduces the taxable subtotal of every other line.
    assert acc1_tax_base == acc1_lines
