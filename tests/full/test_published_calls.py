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
        # where a published call is kept (publication by reference)
        "update marts.fct_rated_calls set total_cost = total_cost + 0.01 "
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
        "update marts.fct_rated_calls set call_id = call_id || 'x' "
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


def test_a_published_months_calls_are_not_copied_and_later_closes_leave_their_rows_in_place(closed_may, warehouse):
    """Publication by reference: published.rated_calls is a view of marts.fct_rated_calls, and no
    later close rewrites a published month's rows there (a row rewritten gets a new rowid)."""
    may_rows = (
        "select rowid, call_id, total_cost from marts.fct_rated_calls where invoice_date = '2026-05-01' order by 1"
    )
    before = query(warehouse, may_rows)
    assert query(
        warehouse,
        "select table_type from information_schema.tables "
        "where table_schema = 'published' and table_name = 'rated_calls'",
    ) == [("VIEW",)]

    result = run("close", "2026-05..2026-06", *GAP)

    assert "2026-05: already published, reproduced unchanged" in result.output
    assert len(before) == 7 and query(warehouse, may_rows) == before
    assert query(warehouse, "select call_id, total_cost from published.rated_calls order by 1") == sorted(
        (call_id, cost) for _, call_id, cost in before
    )


def test_published_calls_before_the_first_build_have_the_shape_of_the_rated_calls(closed_may, warehouse):
    from callbill.warehouse import NO_PUBLISHED_CALLS

    with duckdb.connect(str(warehouse), read_only=True) as con:
        published = con.execute("describe published.rated_calls").fetchall()
        before_the_first_build = con.execute(f"describe {NO_PUBLISHED_CALLS}").fetchall()
    assert [row[:2] for row in before_the_first_build] == [row[:2] for row in published]
    assert ("total_cost", "DECIMAL(18,8)") in [row[:2] for row in published]


def test_a_warehouse_whose_published_calls_are_a_copy_has_them_moved_in_place(closed_may, warehouse):
    """A warehouse from before publication by reference: published.rated_calls is a table, a copy.
    The copy is what was published, so it replaces the month's rows in the mart (here lost), once."""
    published = query(warehouse, "select * from published.rated_calls order by call_id")
    alter(
        warehouse,
        "create table published.rated_calls_copy as select * from published.rated_calls; "
        "drop view published.rated_calls; "
        "alter table published.rated_calls_copy rename to rated_calls; "
        "delete from marts.fct_rated_calls where invoice_date = '2026-05-01'",
    )

    result = run("close", "2026-05")

    assert "\nalready published, reproduced unchanged\n" in result.output
    assert query(warehouse, "select * from published.rated_calls order by call_id") == published
    assert query(warehouse, "select count(*) from marts.fct_rated_calls") == [(7,)]
    (moved,) = query(
        warehouse, "select details from audit.billing_events where event_type = 'published_calls_by_reference'"
    )
    assert json.loads(moved[0]) == {"calls": 7, "months": ["2026-05"]}
    assert "published calls: 1 month(s) checked, each as published" in CliRunner().invoke(main, ["status"]).output
