"""R-LATE-1 and R-INV-2: a call that lands after its invoice was published goes on the next one;
the published invoice does not change. R-RATE-6: the call detail of an invoice as CSV."""

import csv
from pathlib import Path

import duckdb
from click.testing import CliRunner
from helpers import CDR_HEADER, land_small_with, run

from callbill.cli import main

LATE_CALL = f"{CDR_HEADER}\nC900,ACC-1,outbound,+15125550100,+442079460000,2026-04-20T15:00:00Z,,120"


def published_may(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return (
            con.execute(
                "select * from published.invoice_lines where invoice_date = '2026-05-01' order by invoice_line_id"
            ).fetchall()
            + con.execute(
                "select * from published.invoices where invoice_date = '2026-05-01' order by invoice_id"
            ).fetchall()
        )


def test_late_call_is_billed_on_the_next_invoice_and_the_published_one_stays(closed_may, warehouse, tmp_path):
    before = published_may(warehouse)

    land_small_with(tmp_path, {"cdrs/late_resend.csv": LATE_CALL})
    assert "reproduced" in run("close", "2026-05").output  # re-close: the late call stays off May
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Every month built was published: the re-close rated no call and kept May's as published.
        kept, published, late = con.execute(
            "select (select count(*) from marts.fct_rated_calls where invoice_date = '2026-05-01'), "
            "(select count(*) from published.rated_calls where invoice_date = '2026-05-01'), "
            "(select count(*) from marts.fct_rated_calls where call_id = 'C900')"
        ).fetchone()
    assert kept == published > 0 and late == 0
    # The only call landed since is April's late one: May's usage has not landed, so June closes with
    # the gap accepted (issue #25.2); the test is about where the late call is billed.
    run("close", "2026-06", "--accept-usage-gap", "no May calls in this fixture: the test is about a late call")

    assert published_may(warehouse) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        call = con.execute(
            "select invoice_id, invoice_date, is_late, billable_seconds, total_cost from published.rated_calls "
            "where call_id = 'C900'"
        ).fetchone()
        line = con.execute(
            "select l.amount, l.quantity, l.description from published.invoice_lines l "
            "join published.rated_calls c using (invoice_line_id) where c.call_id = 'C900'"
        ).fetchone()
        landed_through = con.execute(
            "select invoice_date, calls_landed_through from published.invoice_months order by invoice_date"
        ).fetchall()
        late_landed_at = con.execute("select _landed_at from raw.cdrs where call_id = 'C900'").fetchone()[0]
        may_calls = con.execute(
            "select count(*) from published.rated_calls where invoice_date = '2026-05-01' and account_id = 'ACC-1'"
        ).fetchone()[0]
    assert call[:4] == ("INV-202606-ACC-1", __import__("datetime").date(2026, 6, 1), True, 120)
    assert str(call[4]) == "0.05000000"  # 2 min x 0.025 to London
    assert (str(line[0]), str(line[1])) == ("0.05", "2.0000")
    assert line[2] == "International minutes to United Kingdom, May 2026"
    assert may_calls == 6  # C1..C5 and C8 (0 s), and no C900
    # Each month records the last landing its close read: C900 landed after May's, and is June's.
    assert [month.isoformat() for month, _ in landed_through] == ["2026-05-01", "2026-06-01"]
    assert landed_through[0][1] < late_landed_at == landed_through[1][1]


def test_call_detail_csv_of_a_published_invoice(closed_may, warehouse, tmp_path):
    """(The call detail of a draft invoice: tests/full/test_draft_reclose.py.)"""
    out = tmp_path / "acc1_may.csv"
    assert f"wrote 5 billed calls to {out}" in run("calls", "ACC-1", "2026-05", "--out", str(out)).output
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["call_id"] for r in rows] == ["C1", "C2", "C3", "C4", "C5"]
    brazil = rows[3]
    assert (brazil["destination_number"], brazil["duration_sec"], brazil["billable_minutes"]) == (
        "+5511987654321",
        "31",
        "0.6000",
    )
    assert (brazil["rate_per_minute"], brazil["total_cost"], brazil["call_type"]) == (
        "0.110000",
        "0.06600000",
        "international",
    )
    missing = CliRunner().invoke(main, ["calls", "ACC-404", "2026-05", "--out", str(out)])
    assert missing.exit_code == 1
    assert "no invoice for account ACC-404 dated 2026-05-01" in missing.stderr
