"""Usage-feed completeness (issue #25.2): a month whose usage has not landed does not close.

The small fixture's cdrs/ calls are of April 2026 (C1..C8, the last on 2026-04-15 UTC); the switch
fixture's pbx1 (America/Chicago) has a call on 2026-03-31 and its last on 2026-04-30 23:30 local
(2026-05-01 04:30 UTC). Invoice month M bills usage month M - 1.
"""

import json
from pathlib import Path

from click.testing import CliRunner
from helpers import CDR_HEADER, FIXTURES, land_small_with, query, run

from callbill.cli import main
from callbill.warehouse import actor

REASON = "carrier outage, confirmed by NOC"
CDRS_GAP_JUNE = (
    "usage feed cdrs/ (UTC) delivered calls through 2026-04-15, expected through 2026-05-31: land its files, or close "
    'with --accept-usage-gap "reason"'
)


def close(month: str, *flags: str):
    return CliRunner().invoke(main, ["close", month, *flags])


def cdr(call_id: str, start: str) -> str:
    return f"{call_id},ACC-1,outbound,+15125550100,+15125551234,{start},,61"


def test_a_month_whose_usage_has_not_landed_does_not_close_until_the_gap_is_accepted_with_a_reason(
    closed_may, warehouse
):
    # May closed on April's calls; no May call has landed, so June (May's usage) must not close.
    result = close("2026-06")

    assert result.exit_code == 1, result.output
    assert f"usage_feeds_complete: {CDRS_GAP_JUNE}" in result.output
    assert "callbill: close 2026-06 failed, nothing published: usage_feeds_complete" in result.output
    assert query(warehouse, "select count(*) from published.invoices where invoice_date = '2026-06-01'") == [(0,)]
    (details,) = query(
        warehouse,
        "select details from audit.billing_events where event_type = 'check_failed' and invoice_month = '2026-06-01'",
    )
    failed = json.loads(details[0])
    assert (failed["check"], failed["message"], failed["delivered_through"], failed["expected_through"]) == (
        "usage_feeds_complete: cdrs/",
        CDRS_GAP_JUNE,
        "2026-04-15",
        "2026-05-31",
    )
    status = run("status").output
    assert "2026-06  usage_feeds_complete: cdrs/ (usage_feeds" in status

    # The override: the same month closes, and the audit names who, which feeds and why.
    result = close("2026-06", "--accept-usage-gap", REASON)

    assert result.exit_code == 0, result.output
    assert (
        "usage gap accepted for 2026-06: cdrs/ (UTC) delivered calls through 2026-04-15, expected through "
        f"2026-05-31; reason: {REASON}"
    ) in result.output
    assert query(warehouse, "select count(*) > 0 from published.invoices where invoice_date = '2026-06-01'") == [
        (True,)
    ]
    ((who, month, details),) = query(
        warehouse,
        "select actor, strftime(invoice_month, '%Y-%m'), details from audit.billing_events "
        "where event_type = 'usage_gap_accepted'",
    )
    accepted = json.loads(details)
    assert (who, month, accepted["actor"], accepted["invoice_month"], accepted["reason"]) == (
        actor(),
        "2026-06",
        actor(),
        "2026-06",
        REASON,
    )
    assert [feed["feed"] for feed in accepted["feeds"]] == ["cdrs/"]
    # the accepted gap is no failure: the only one audited is the first close's
    assert query(warehouse, "select count(*) from audit.billing_events where event_type = 'check_failed'") == [(1,)]
    assert "open check failures: none" in run("status").output


def test_an_empty_reason_is_refused(closed_may):
    result = close("2026-06", "--accept-usage-gap", " ")
    assert result.exit_code == 1
    assert "--accept-usage-gap needs a reason" in result.output


def test_a_feed_that_stops_mid_month_fails_and_a_feed_complete_to_its_last_local_day_passes(warehouse, tmp_path: Path):
    # cdrs/ delivered a March call, so April is checked: its calls stop on 2026-04-15. pbx1 delivered
    # on 2026-03-31 too and through 2026-04-30 23:30 Chicago time, which is 1 May in UTC: complete.
    # fs1 (no March call) is in its first month: not checked.
    land_small_with(tmp_path, {"cdrs/march.csv": f"{CDR_HEADER}\n{cdr('M1', '2026-03-20T10:00:00Z')}"})
    run("land", str(FIXTURES / "landing_switches"))

    result = close("2026-05", "--no-publish")

    assert result.exit_code == 1, result.output
    gaps = [line for line in result.output.splitlines() if line.startswith("  usage_feeds_complete: ")]
    assert gaps == [
        "  usage_feeds_complete: usage feed cdrs/ (UTC) delivered calls through 2026-04-15, expected through "
        '2026-04-30: land its files, or close with --accept-usage-gap "reason"'
    ]

    # The rest of April lands (a call on the 30th): the same close passes.
    land_small_with(tmp_path, {"cdrs/april_end.csv": f"{CDR_HEADER}\n{cdr('A30', '2026-04-30T23:00:00Z')}"})
    passed = close("2026-05", "--no-publish")
    assert passed.exit_code == 0, passed.output
    assert "usage feed" not in passed.output
    assert "usage gap accepted" not in passed.output


def test_a_month_below_half_its_trailing_median_warns(warehouse, tmp_path: Path):
    # cdrs/: 20 calls in each of January, February and March (to the last day of each), then April's
    # 8 + 1 on the 30th = 9, below half the median of 20: a warning, the close still passes.
    calls = [
        cdr(f"T{month}{day:02}", f"2026-{month:02}-{day:02}T12:00:00Z")
        for month, last in ((1, 31), (2, 28), (3, 31))
        for day in range(last - 19, last + 1)
    ]
    calls.append(cdr("A30", "2026-04-30T12:00:00Z"))
    land_small_with(tmp_path, {"cdrs/history.csv": "\n".join([CDR_HEADER, *calls])})

    result = close("2026-05", "--no-publish")

    assert result.exit_code == 0, result.output
    assert "checks warned      1 (usage_feed_volume)" in result.output
    ((details,),) = query(warehouse, "select details from audit.billing_events where event_type = 'check_warned'")
    warned = json.loads(details)
    assert (warned["check"], warned["message"], warned["trailing_calls"]) == (
        "usage_feed_volume: cdrs/",
        "usage feed cdrs/ (UTC) delivered 9 calls in 2026-04, below 50 % of its median of 20 a month over "
        "2026-01..2026-03",
        [20, 20, 20],
    )


def test_the_ui_launchpad_and_the_cli_pass_the_override_the_same_way():
    """The check is in the close job, blocking; its config has accept_usage_gap, empty by default (the
    schedule launches without it); the CLI sends the run config the Launchpad would."""
    import dagster as dg

    from callbill.close import usage_gap_run_config
    from orchestration.definitions import defs

    job = defs.resolve_job_def("month_end_close")
    graph = defs.resolve_asset_graph()
    blocking = {key.name: graph.get_check_spec(key).blocking for key in graph.asset_check_keys}
    assert (blocking["usage_feeds_complete"], blocking["usage_feed_volume"]) == (True, False)
    assert "marts__fct_invoices_usage_feeds_complete" in job.graph.node_dict
    config = usage_gap_run_config(REASON)
    assert config == {"ops": {"marts__fct_invoices_usage_feeds_complete": {"config": {"accept_usage_gap": REASON}}}}
    assert dg.validate_run_config(job, {"loggers": {"close_progress": {}}, **config})
    assert usage_gap_run_config("") == {}
