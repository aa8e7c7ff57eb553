"""Drafts: what a close with --no-publish leaves (drafts, their call detail, no statement), and a
draft re-close after one more day of calls landed bills what a draft close from scratch on the
same landing bills, to the cent (issue #27): nothing of the first draft survives that should not."""

from pathlib import Path

from click.testing import CliRunner
from helpers import CDR_HEADER, land_small_with, query, run, warehouse_at

from callbill.cli import main
from callbill.close import dagster_instance

NEW_DAY = "\n".join(
    [
        CDR_HEADER,
        "D1,ACC-1,outbound,+15125550100,+15125559876,2026-04-20T09:00:00Z,,600",
        "D2,ACC-1,outbound,+15125550100,+447700900123,2026-04-20T10:00:00Z,,95",
        # 1,000 minutes: crosses ACC-1's bundle after the minutes its kept calls drew (R-RATE-5).
        "D4,ACC-1,outbound,+15125550100,+15125554321,2026-04-25T09:00:00Z,,60000",
        # Started before C7, landed after it: ACC-2's minutes are drawn again in call-start order.
        "D3,ACC-2,outbound,+14155550100,+12125550123,2026-04-14T11:00:00Z,,60000",
    ]
)


def newest_run_messages() -> list[str]:
    with dagster_instance() as instance:
        run = instance.get_runs(limit=1)[0]
        return [event.user_message for event in instance.all_logs(run.run_id)]


def may_drafts(warehouse: Path) -> dict[str, list[tuple]]:
    return {
        "invoices": query(
            warehouse,
            "select invoice_id, subtotal::varchar, tax_total::varchar, total::varchar from marts.fct_invoices "
            "where invoice_date = '2026-05-01' order by 1",
        ),
        "lines": query(
            warehouse,
            "select invoice_line_id, line_type, quantity::varchar, amount::varchar from marts.fct_invoice_lines "
            "where invoice_date = '2026-05-01' order by 1",
        ),
        "calls": query(
            warehouse,
            "select call_id, included_minutes_used::varchar, overage_minutes::varchar, total_cost::varchar "
            "from marts.fct_rated_calls where invoice_date = '2026-05-01' order by 1",
        ),
    }


def test_a_draft_re_close_after_a_new_day_bills_what_a_draft_close_from_scratch_bills(warehouse, tmp_path):
    land_small_with(tmp_path)
    run("close", "2026-05", "--no-publish")
    first = may_drafts(warehouse)
    # --no-publish stops at the drafts.
    assert query(warehouse, "select count(*) from published.invoices") == [(0,)]
    assert query(warehouse, "select count(*), min(status) from marts.fct_invoices") == [(3, "draft")]
    out = tmp_path / "acc1_may.csv"
    draft = run("calls", "ACC-1", "2026-05", "--out", str(out)).output
    assert f"wrote 5 calls of the draft invoice (not published; a close may still change it) to {out}" in draft
    # A draft has call detail but no statement: customers get statements of published invoices only.
    refused = CliRunner().invoke(main, ["statement", "ACC-2", "2026-05", "--out", str(tmp_path / "x.pdf")])
    assert refused.exit_code == 1
    assert "no published invoice for account ACC-2 dated 2026-05-01" in refused.stderr
    assert not (tmp_path / "x.pdf").exists()
    land_small_with(tmp_path, {"cdrs/new_day.csv": NEW_DAY})
    run("close", "2026-05", "--no-publish")
    reclosed = may_drafts(warehouse)
    # ACC-1's new calls all start after its last rated call: its six calls are kept and the new day's
    # three rated; D3 started before ACC-2's C7, so ACC-2's month is rated afresh (int_rating_inputs).
    assert query(
        warehouse,
        "select account_id, call_count, kept_through is not null, kept_bundle_minutes::varchar "
        "from intermediate.int_rating_inputs order by 1",
    ) == [("ACC-1", 9, True, "2.0000"), ("ACC-2", 2, False, None)]
    assert (
        "rating: 11 calls in 2 account-months of unpublished months; 1 account-months kept from the build "
        "before (only their new calls rated), 1 rated afresh"
    ) in newest_run_messages()

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with warehouse_at(scratch):
        run("land", str(tmp_path / "landing"))
        run("close", "2026-05", "--no-publish")
    from_scratch = may_drafts(scratch / "warehouse" / "callbill.duckdb")

    assert reclosed == from_scratch
    assert [call[0] for call in reclosed["calls"]] == ["C1", "C2", "C3", "C4", "C5", "C7", "C8", "D1", "D2", "D3", "D4"]
    # ACC-2's service began on 10 April (two free months from 10 February): C6 is not billed. The
    # new day moved both accounts' invoices.
    assert [invoice[3] for invoice in first["invoices"]] != [invoice[3] for invoice in reclosed["invoices"]]
    # D4 is the crossing call: what ACC-1's kept calls drew counts against its 1,000 minutes.
    assert [call for call in reclosed["calls"] if call[0] == "D4"] == [("D4", "988.0000", "12.0000", "0.46800000")]
    assert query(warehouse, "select count(*) from published.invoices") == [(0,)]


def test_an_account_whose_plan_changed_is_rated_afresh_by_the_draft_re_close(warehouse, tmp_path):
    land_small_with(tmp_path)
    run("close", "2026-05", "--no-publish")
    # ACC-1 moves to the Standard plan (5,000 minutes at 0.029): its new calls start after its last
    # rated one, but the minutes its kept calls were rated against changed, so nothing is kept.
    accounts = (tmp_path / "landing" / "accounts" / "a.csv").read_text().splitlines()
    standard = accounts[1].replace(",basic,", ",standard,").replace("2025-01-01T00:00:00Z", "2026-04-21T00:00:00Z")
    land_small_with(
        tmp_path, {"accounts/standard.csv": "\n".join([accounts[0], standard]), "cdrs/new_day.csv": NEW_DAY}
    )
    run("close", "2026-05", "--no-publish")
    assert query(
        warehouse,
        "select account_id, call_count, kept_through is not null from intermediate.int_rating_inputs order by 1",
    ) == [("ACC-1", 9, False), ("ACC-2", 2, False)]
    reclosed = may_drafts(warehouse)

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with warehouse_at(scratch):
        run("land", str(tmp_path / "landing"))
        run("close", "2026-05", "--no-publish")
    assert reclosed == may_drafts(scratch / "warehouse" / "callbill.duckdb")
    # D4's 1,000 minutes fit in the Standard plan's 5,000: nothing over, nothing to pay.
    assert [call for call in reclosed["calls"] if call[0] == "D4"] == [("D4", "1000.0000", "0.0000", "0.00000000")]
