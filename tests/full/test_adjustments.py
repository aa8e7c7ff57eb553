"""Adjustments (R-CAL-6, R-INV-2): approved credits land on the next invoice; a dispute raised more
than 15 days after the disputed invoice's date is quarantined with that reason, never applied."""

import duckdb
from click.testing import CliRunner
from helpers import land_small_with, query, run

from callbill.cli import main

ADJUSTMENTS = (
    "adjustment_id,account_id,amount,reason,approved_at,disputed_invoice_id\n"
    "ADJ-1,ACC-1,-25.00,Outage credit,2026-05-10T09:00:00Z,INV-202605-ACC-1\n"
    "ADJ-2,ACC-1,-40.00,Late dispute,2026-05-17T09:00:00Z,INV-202605-ACC-1\n"
    "ADJ-3,ACC-2,-10.00,Unknown invoice,2026-05-12T09:00:00Z,INV-202601-ACC-2\n"
    "ADJ-4,ACC-3,-5.50,Goodwill,2026-05-28T09:00:00Z,\n"
    "ADJ-5,ACC-3,-9.00,Wrong account,2026-05-12T09:00:00Z,INV-202605-ACC-1\n"
    # the 15th day after 1 May, in the evening: still within the window
    "ADJ-6,ACC-1,-3.00,Last day,2026-05-16T18:00:00Z,INV-202605-ACC-1\n"
    "ADJ-4,ACC-3,-7.50,Goodwill,2026-05-28T09:00:00Z,\n"
)


def test_credits_land_on_the_next_invoice_and_late_disputes_are_quarantined(closed_may, warehouse, tmp_path):
    landed = land_small_with(tmp_path, {"adjustments/may_credits.csv": ADJUSTMENTS}).output
    assert "adjustments/may_credits.csv" in landed
    # The small fixture has April's calls only: June (May's usage) closes with the gap accepted (issue #25.2).
    run("close", "2026-06", "--accept-usage-gap", "no May calls in this fixture: the test is about credits")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantined = con.execute(
            "select line_number, reason from raw.quarantine where entity = 'adjustments' order by line_number"
        ).fetchall()
        lines = con.execute(
            "select invoice_id, amount, description from published.invoice_lines "
            "where line_type = 'adjustment' order by invoice_id, description"
        ).fetchall()
        acc1_tax_base = con.execute(
            "select quantity from published.invoice_lines where invoice_id = 'INV-202606-ACC-1' and line_type = 'tax'"
        ).fetchone()[0]
        acc1_lines = con.execute(
            "select sum(amount) filter (where line_type not in ('tax')) from published.invoice_lines "
            "where invoice_id = 'INV-202606-ACC-1'"
        ).fetchone()[0]
        audited = con.execute(
            "select invoice_month::varchar, details->>'invoice_id', details->>'adjustment', details->>'amount' "
            "from audit.billing_events where event_type = 'adjustment_applied' order by event_id"
        ).fetchall()

    assert quarantined == [
        (3, "dispute of INV-202605-ACC-1 dated 2026-05-01 is outside the 15-day dispute window (R-CAL-6)"),
        (4, "disputed_invoice_id: INV-202601-ACC-2 is not a published invoice"),
        (6, "disputed_invoice_id: INV-202605-ACC-1 is an invoice of ACC-1, not of ACC-3"),
        (8, "adjustment_id: ADJ-4 repeats line 5 of this file; send a changed adjustment in a new file"),
    ]
    assert [(i, str(a), d) for i, a, d in lines] == [
        ("INV-202606-ACC-1", "-3.00", "Last day (ADJ-6, re INV-202605-ACC-1)"),
        ("INV-202606-ACC-1", "-25.00", "Outage credit (ADJ-1, re INV-202605-ACC-1)"),
        ("INV-202606-ACC-3", "-5.50", "Goodwill (ADJ-4)"),
    ]
    # R-TAX-1: the credit reduces the taxable subtotal of every other line.
    assert acc1_tax_base == acc1_lines
    # R-AUDIT-1: each applied adjustment is in the audit table with its publication.
    assert audited == [
        ("2026-06-01", "INV-202606-ACC-1", "ADJ-1", "-25.00"),
        ("2026-06-01", "INV-202606-ACC-1", "ADJ-6", "-3.00"),
        ("2026-06-01", "INV-202606-ACC-3", "ADJ-4", "-5.50"),
    ]


def test_a_changed_input_for_a_published_month_becomes_a_correction_on_the_next_invoice(warehouse, tmp_path):
    land_small_with(tmp_path)
    run("close", "2026-04")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        april_before = con.execute("select * from published.invoice_lines where invoice_date = '2026-04-01'").fetchall()
    # ACC-1 had 4 desk phones since 2025, not 3: a corrected item version lands after April was published.
    land_small_with(
        tmp_path,
        {
            "subscription_items/corrected.csv": (
                "item_id,account_id,product_code,quantity,phone_number,extension,low_usage,start_date,end_date,"
                "updated_at\nIT-1,ACC-1,PHONE_DESK,4,,101,false,2025-01-01,,2026-04-20T00:00:00Z"
            )
        },
    )

    refused = CliRunner().invoke(main, ["close", "2026-04"])
    assert refused.exit_code == 1
    assert "already published and 1 rebuilt invoice(s) differ" in refused.stderr
    # #25.7: the refusal (the failed step of the run's page too) names the first invoice that differs.
    assert "(e.g. INV-202604-ACC-1: published total " in refused.stderr
    run("close", "2026-05")
    # No May calls in the small fixture: June closes with the usage gap accepted (issue #25.2).
    run("close", "2026-06", "--accept-usage-gap", "no May calls in this fixture: the test is about corrections")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        corrections = con.execute(
            "select invoice_id, amount, description from published.invoice_lines "
            "where line_type = 'adjustment' order by invoice_id"
        ).fetchall()
        april_after = con.execute("select * from published.invoice_lines where invoice_date = '2026-04-01'").fetchall()
        may_desks = con.execute(
            "select quantity, amount from published.invoice_lines "
            "where invoice_id = 'INV-202605-ACC-1' and line_type = 'service_fee'"
        ).fetchone()
    # R-INV-2: April stays as published; May carries the missed desk phone once, June nothing more.
    assert april_after == april_before
    assert [(i, str(a), d) for i, a, d in corrections] == [
        ("INV-202605-ACC-1", "24.95", "Correction to INV-202604-ACC-1: Desk phone × 4, April 2026"),
    ]
    assert (str(may_desks[0]), str(may_desks[1])) == ("4.0000", "99.80")


def test_credits_route_to_the_first_invoice_and_past_the_last_one_are_listed_unapplied(warehouse, tmp_path):
    from test_unbilled_calls import CANCELLED

    header = "adjustment_id,account_id,amount,reason,approved_at,disputed_invoice_id\n"
    credits = (
        header
        # ACC-2 signed on 10 February with 2 free months: its first invoice is May's, not April's.
        + "ADJ-10,ACC-2,-12.00,Installation goodwill,2026-03-15T09:00:00Z,\n"
        # ACC-5's service ended 31 March: April's invoice is its last, and this credit routes to May.
        + "ADJ-11,ACC-5,-20.00,Porting delay,2026-04-20T09:00:00Z,\n"
        # On April's invoice, which bills nothing else: a negative total (tax included) publishes.
        + "ADJ-14,ACC-5,-8.00,Outage credit,2026-03-25T09:00:00Z,\n"
    )
    items = "item_id,account_id,product_code,quantity,phone_number,extension,low_usage,start_date,end_date,updated_at\n"
    desk = "IT-50,ACC-5,PHONE_DESK,{quantity},,501,false,2025-01-01,,{updated}"
    land_small_with(
        tmp_path,
        {
            "accounts/cancelled.csv": CANCELLED,
            "adjustments/credits.csv": credits,
            "subscription_items/acc5.csv": items + desk.format(quantity=2, updated="2025-01-01T00:00:00Z"),
        },
    )
    run("close", "2026-03")  # ACC-5's last month of service: its 2 desk phones billed in advance
    april_close = run("close", "2026-04")
    april = april_close.output
    assert "unapplied adjust." not in april
    # ACC-5's April total moved more than the review share: a warning to review, not a failure.
    assert "check warned: gx_invoice_change_review" in april_close.stderr
    assert "check failed" not in april_close.stderr
    land_small_with(
        tmp_path,
        {
            # ACC-5 had 1 desk phone, not 2: corrected after its last invoice was published (R-INV-2).
            "subscription_items/acc5_fix.csv": items + desk.format(quantity=1, updated="2026-04-25T00:00:00Z"),
            # Approved in March, landed after April (its invoice) was published: on May's, once.
            "adjustments/late.csv": header + "ADJ-12,ACC-1,-7.00,Late credit,2026-03-20T09:00:00Z,",
        },
    )
    may = run("close", "2026-05").output
    # ADJ-13 lands after May, the month it routes to, was published: June's close lists it. And ACC-5
    # had 3 desk phones after all: the correction May listed moves from -24.95 to +24.95.
    land_small_with(
        tmp_path,
        {
            "adjustments/after_may.csv": header + "ADJ-13,ACC-5,-3.00,Refund,2026-04-25T09:00:00Z,",
            "subscription_items/acc5_three.csv": items + desk.format(quantity=3, updated="2026-05-20T00:00:00Z"),
        },
    )
    # The fixture's calls end in April: June (May's usage) needs the usage gap accepted (issue #25.2).
    run("close", "2026-05..2026-06", "--no-publish", "--accept-usage-gap", "no May calls in this fixture")
    june_draft = query(
        warehouse,
        "select adjustment_id, entry_type, amount::varchar from marts.fct_unapplied_adjustments "
        "where invoice_date = '2026-06-01' order by kind",
    )
    assert [row[1:] for row in june_draft] == [("listed", "-3.00"), ("amount_changed", "49.90")]
    # 2 desk phones after all, as March's invoice billed: nothing to correct, and June withdraws the
    # refund May listed.
    land_small_with(
        tmp_path, {"subscription_items/acc5_two.csv": items + desk.format(quantity=2, updated="2026-05-25T00:00:00Z")}
    )
    # May again (reproduced) and June: nothing listed twice; June's usage gap accepted as above
    june = run("close", "2026-05..2026-06", "--accept-usage-gap", "no May calls in this fixture").output

    assert "open check failures: none" in run("status").output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = con.execute(
            "select invoice_id, amount, description from published.invoice_lines where line_type = 'adjustment' "
            "order by invoice_id"
        ).fetchall()
        check_events = con.execute(
            "select distinct event_type, coalesce(details->>'suite', details->>'check') from audit.billing_events "
            "where event_type like 'check_%' order by all"
        ).fetchall()
        acc5_april = con.execute(
            "select subtotal::varchar, tax_total::varchar, total::varchar from published.invoices "
            "where invoice_id = 'INV-202604-ACC-5'"
        ).fetchone()
        unapplied = con.execute(
            "select adjustment_id, kind, account_id, invoice_date::varchar, amount, description, related_invoice_id, "
            "routed_invoice_date::varchar, last_invoice_date::varchar from marts.fct_unapplied_adjustments "
            "order by invoice_date, kind"
        ).fetchall()
    assert [(i, str(a), d) for i, a, d in lines] == [
        ("INV-202604-ACC-5", "-8.00", "Outage credit (ADJ-14)"),
        ("INV-202605-ACC-1", "-7.00", "Late credit (ADJ-12)"),  # and not again on June's
        ("INV-202605-ACC-2", "-12.00", "Installation goodwill (ADJ-10)"),
    ]
    # Warnings only (a GX suite's and the dbt test that lists the unapplied adjustments, #25.10).
    assert check_events == [
        ("check_warned", "invoice_change_review"),
        ("check_warned", "unapplied_adjustments_to_review"),
    ]
    # Texas sales tax 6.25 % of the -8.00 credit (R-TAX-1): -0.50.
    assert acc5_april == ("-8.00", "-0.50", "-8.50")
    may_1, june_1, last = "2026-05-01", "2026-06-01", "2026-04-01"
    assert [(*row[1:4], str(row[4]), *row[5:]) for row in unapplied] == [
        ("adjustment", "ACC-5", may_1, "-20.00", "Porting delay", None, may_1, last),
        (
            "correction",
            "ACC-5",
            may_1,
            "-24.95",
            "Correction to INV-202603-ACC-5: Desk phone × 1, March 2026",
            "INV-202603-ACC-5",
            may_1,
            last,
        ),
        ("adjustment", "ACC-5", june_1, "-3.00", "Refund", None, may_1, last),
        (
            "correction",
            "ACC-5",
            june_1,
            "24.95",
            "Correction to INV-202603-ACC-5: Desk phone × 1, March 2026",
            "INV-202603-ACC-5",
            None,
            None,
        ),
    ]
    # A correction is keyed by the line it corrects: March's desk phone line of ACC-5.
    assert [row[0] for row in unapplied[::2]] == ["ADJ-11", "ADJ-13"]
    assert unapplied[1][0].startswith("correction|INV-202603-ACC-5-")
    assert "unapplied adjust.  2 (USD -44.95, after the account's last invoice)" in may
    assert "unapplied adjust.  4 (USD -23.00, after the account's last invoice)" in june  # May and June
    assert "unapplied_adjustments_to_review" in may.split("checks warned")[1].splitlines()[0]
