"""R-INV-2: a published month's rated calls never change. Publication records their fingerprint, and
every later close and `callbill status` compare the published calls with it."""

import json
from decimal import Decimal

import duckdb
from click.testing import CliRunner
from helpers import query, run

from callbill.cli import main

GAP = ("--accept-usage-gap", "no May calls in this fixture: the test is about published calls")


def alter(warehouse, sql: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql)


def test_publication_records_each_months_calls_count_and_cost(closed_may, warehouse):
    (recorded,) = query(
        warehouse,
        "select rated_calls, rated_calls_cost, rated_calls_fingerprint <> 0 from published.invoice_months",
    )
    (calls,) = query(warehouse, "select count(*), sum(total_cost) from published.rated_calls")
    assert recorded == (7, calls[1], True)
    assert calls[0] == 7


def test_an_altered_published_call_fails_the_next_close_naming_its_month(closed_may, warehouse):
    (cost,) = query(warehouse, "select sum(total_cost) from published.rated_calls")[0]
    alter(
        warehouse,
        "update published.rated_calls set total_cost = total_cost + 0.01 "
        "where call_id = (select min(call_id) from published.rated_calls where total_cost > 0)",
    )

    result = CliRunner().invoke(main, ["close", "2026-06", *GAP])

    assert result.exit_code == 1
    assert "close 2026-06 failed, nothing published: published_calls_unchanged" in result.stderr
    said = (
        f"published_calls_unchanged: 2026-05: the published rated calls changed since publication "
        f"(7 call(s) costing {cost:,.2f} when published; 7 costing {cost + Decimal('0.01'):,.2f} now)"
    )
    assert said in result.stderr
    assert query(warehouse, "select count(*) from published.invoices where invoice_date = '2026-06-01'") == [(0,)]
    (audited,) = query(
        warehouse,
        "select invoice_month, details from audit.billing_events where event_type = 'check_failed'",
    )
    assert str(audited[0]) == "2026-06-01"
    assert json.loads(audited[1])["invoice_month"] == "2026-05"

    status = CliRunner().invoke(main, ["status"]).output
    assert "\npublished calls CHANGED since publication (R-INV-2; the next close fails until restored)\n" in status
    assert "  2026-05: the published rated calls changed since publication (7 call(s)" in status


def test_a_call_id_changed_at_the_same_cost_is_caught_too(closed_may, warehouse):
    """The same comparison as the close's check, without a close: `callbill status`."""
    alter(
        warehouse,
        "update published.rated_calls set call_id = call_id || 'x' "
        "where call_id = (select min(call_id) from published.rated_calls)",
    )

    status = CliRunner().invoke(main, ["status"]).output

    assert "  2026-05: the published rated calls changed since publication (7 call(s) costing" in status
    assert "when published; a call's id or cost differs)" in status


def test_months_published_before_fingerprints_get_them_at_the_next_close_which_says_so(closed_may, warehouse):
    alter(
        warehouse,
        "update published.invoice_months set rated_calls = null, rated_calls_cost = null, "
        "rated_calls_fingerprint = null, rated_calls_hashed_by = null",
    )
    assert "published calls: 0 month(s) checked" in CliRunner().invoke(main, ["status"]).output

    run("close", "2026-06", *GAP)

    assert query(
        warehouse,
        "select strftime(invoice_date, '%Y-%m'), rated_calls from published.invoice_months order by 1",
    ) == [("2026-05", 7), ("2026-06", 0)]  # the fixture has no May calls
    (vouched,) = query(warehouse, "select details from audit.billing_events where event_type = 'fingerprints_recorded'")
    assert json.loads(vouched[0])["months"] == ["2026-05"]
    assert json.loads(vouched[0])["reason"] == "published before fingerprints"
    assert "published calls: 2 month(s) checked, each as published" in CliRunner().invoke(main, ["status"]).output


def test_a_hash_made_by_another_duckdb_version_is_made_again_once_count_and_cost_match(closed_may, warehouse):
    """DuckDB's hash() may change between releases: its count and cost still hold the month."""
    (fingerprint,) = query(warehouse, "select rated_calls_fingerprint from published.invoice_months")[0]
    alter(
        warehouse,
        "update published.invoice_months set rated_calls_fingerprint = 12345, rated_calls_hashed_by = 'duckdb v1.0.0'",
    )

    run("close", "2026-06", *GAP)

    assert query(
        warehouse,
        "select rated_calls_fingerprint, rated_calls_hashed_by = 'duckdb ' || version() from published.invoice_months "
        "where invoice_date = '2026-05-01'",
    ) == [(fingerprint, True)]
    (vouched,) = query(warehouse, "select details from audit.billing_events where event_type = 'fingerprints_recorded'")
    assert json.loads(vouched[0]) | {"run_id": None} == {
        "run_id": None,
        "months": ["2026-05"],
        "reason": "hashed by another DuckDB version",
    }
