"""Usage-feed completeness: a month whose calls have not landed does not close (issue #25.2).

A feed is the canonical `cdrs/` folder (raw.cdrs, UTC) or one registered switch (its switch_id, in
the switch's own time zone). Every landed call of every feed is in intermediate.int_calls_landed
once dbt has built. The invoice month M bills the usage month M - 1. A feed that delivered calls in
the usage month before must have delivered calls through the usage month's last day (local); a
feed's first month is not checked. A gap blocks publication unless the close accepts it with a
reason (`callbill close --accept-usage-gap "reason"`, or the check's config in the UI's Launchpad),
which is audited as `usage_gap_accepted`. A month's volume below half the feed's trailing
three-month median warns.
"""

import functools
import statistics
from collections.abc import Iterator, Sized
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model
from pydantic import Field

from callbill.months import add_months, parse_invoice_month
from callbill.warehouse import actor, connect, record_event, warehouse_path
from orchestration.defs.dbt import callbill_dbt_models
from orchestration.defs.engine import CallbillEngine
from orchestration.defs.partitions import invoice_months

CANONICAL_FEED = "cdrs/"
COMPLETENESS_CHECK = "usage_feeds_complete"
VOLUME_CHECK = "usage_feed_volume"
LOW_VOLUME_SHARE = 0.5
TRAILING_MONTHS = 3
FCT_INVOICES = get_asset_key_for_model([callbill_dbt_models], "fct_invoices")


@dataclass
class FeedMonth:
    """One feed's calls around one usage month, by day in the feed's time zone."""

    feed: str
    timezone: str
    usage_month: date
    calls: int
    previous_calls: int
    trailing_calls: list[int]
    delivered_through: date | None

    @property
    def expected_through(self) -> date:
        return add_months(self.usage_month, 1) - timedelta(days=1)

    @property
    def incomplete(self) -> bool:
        # A feed's first month (no calls the month before) is not checked.
        return self.previous_calls > 0 and (
            self.delivered_through is None or self.delivered_through < self.expected_through
        )

    @property
    def trailing_median(self) -> float:
        return statistics.median(self.trailing_calls)

    @property
    def low_volume(self) -> bool:
        return self.trailing_median > 0 and self.calls < LOW_VOLUME_SHARE * self.trailing_median

    def gap_message(self) -> str:
        return (
            f"usage feed {self.feed} ({self.timezone}) delivered calls through {self.delivered_through}, "
            f"expected through {self.expected_through}: land its files, or close with "
            '--accept-usage-gap "reason"'
        )

    def volume_message(self) -> str:
        first = add_months(self.usage_month, -TRAILING_MONTHS)
        last = add_months(self.usage_month, -1)
        return (
            f"usage feed {self.feed} ({self.timezone}) delivered {self.calls:,} calls in {self.usage_month:%Y-%m}, "
            f"below {LOW_VOLUME_SHARE * 100:.0f} % of its median of {self.trailing_median:,.0f} a month over "
            f"{first:%Y-%m}..{last:%Y-%m}"
        )

    def details(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "timezone": self.timezone,
            "usage_month": f"{self.usage_month:%Y-%m}",
            "calls": self.calls,
            "delivered_through": str(self.delivered_through),
            "expected_through": str(self.expected_through),
        }


def usage_month_of(invoice_month: str) -> date:
    """Invoice month 2026-05 bills April's usage."""
    return add_months(parse_invoice_month(invoice_month), -1)


def feed_months(con: duckdb.DuckDBPyConnection, invoice_month: str) -> list[FeedMonth]:
    """Each feed that delivered calls in the usage month or the three before it, with its counts."""
    usage = usage_month_of(invoice_month)
    first = add_months(usage, -TRAILING_MONTHS)
    trailing = ", ".join(
        f"coalesce(sum(calls) filter (where local_month = date '{add_months(first, i)}'), 0)"
        for i in range(TRAILING_MONTHS)
    )
    # Counted by quarter hour first, then each quarter hour put on its local day: every time zone's
    # offset is a whole number of quarter hours, so no quarter hour straddles a local midnight, and
    # the zone conversion runs per quarter hour instead of per call (the window is four months).
    rows = con.execute(
        f"""
        with quarter_hours as (
            select
                calls.switch_id,
                time_bucket(interval 15 minutes, calls.start_time_utc) as quarter_hour,
                count(*) as calls
            from intermediate.int_calls_landed as calls
            -- a day either side: a feed's local month starts and ends up to 14 hours off UTC
            where calls.start_time_utc >= $first - interval 1 day
                and calls.start_time_utc < $next + interval 1 day
            group by all
        ),
        local_days as (
            select
                coalesce(quarter_hours.switch_id, $canonical) as feed,
                coalesce(switches.timezone, 'UTC') as timezone,
                cast(timezone(coalesce(switches.timezone, 'UTC'), quarter_hour at time zone 'UTC') as date)
                    as local_day,
                calls
            from quarter_hours
            left join staging.stg_landing__switches as switches on quarter_hours.switch_id = switches.switch_id
        ),
        in_window as (
            select *, date_trunc('month', local_day) as local_month from local_days
            where local_day >= $first and local_day < $next
        )
        select
            feed,
            any_value(timezone),
            coalesce(sum(calls) filter (where local_month = $usage), 0),
            [{trailing}],
            max(local_day)
        from in_window
        group by feed
        order by feed
        """,
        {
            "canonical": CANONICAL_FEED,
            "first": first,
            "usage": usage,
            "next": add_months(usage, 1),
        },
    ).fetchall()
    return [
        FeedMonth(feed, timezone, usage, calls, trailing[-1], list(trailing), delivered_through)
        for feed, timezone, calls, trailing, delivered_through in rows
    ]


def feed_months_on_spark(invoice_month: str) -> list[FeedMonth]:
    """feed_months from the Spark tables of a Spark close, in Spark SQL."""
    from callbill.spark_warehouse import day, rows, session

    usage = usage_month_of(invoice_month)
    first, following = add_months(usage, -TRAILING_MONTHS), add_months(usage, 1)
    trailing = ", ".join(
        f"coalesce(sum(calls) filter (where local_month = {day(add_months(first, i))}), 0)"
        for i in range(TRAILING_MONTHS)
    )
    found = rows(
        session(),
        f"""
        with quarter_hours as (
            select
                calls.switch_id,
                timestamp_seconds(floor(unix_timestamp(calls.start_time_utc) / 900) * 900) as quarter_hour,
                count(*) as calls
            from intermediate.int_calls_landed as calls
            where calls.start_time_utc >= {day(first)} - interval 1 day
                and calls.start_time_utc < {day(following)} + interval 1 day
            group by 1, 2
        ),
        local_days as (
            select
                coalesce(quarter_hours.switch_id, '{CANONICAL_FEED}') as feed,
                coalesce(switches.timezone, 'UTC') as timezone,
                cast(from_utc_timestamp(quarter_hour, coalesce(switches.timezone, 'UTC')) as date) as local_day,
                calls
            from quarter_hours
            left join staging.stg_landing__switches as switches on quarter_hours.switch_id = switches.switch_id
        ),
        in_window as (
            select *, trunc(local_day, 'MM') as local_month from local_days
            where local_day >= {day(first)} and local_day < {day(following)}
        )
        select
            feed,
            first(timezone),
            coalesce(sum(calls) filter (where local_month = {day(usage)}), 0),
            array({trailing}),
            max(local_day)
        from in_window
        group by feed
        order by feed
        """,
    )
    return [
        FeedMonth(feed, timezone, usage, calls, trailing[-1], list(trailing), delivered_through)
        for feed, timezone, calls, trailing, delivered_through in found
    ]


@functools.lru_cache(maxsize=16)
def feed_months_of_run(warehouse: Path, run_id: str, invoice_month: str, on_spark: bool) -> tuple[FeedMonth, ...]:
    """The feeds' counts as the run's two usage-feed checks read them: one pass over the calls of the
    usage month and the three before per run and month (it reads every landed call of those months)."""
    if on_spark:
        return tuple(feed_months_on_spark(invoice_month))
    with connect(warehouse) as con:
        return tuple(feed_months(con, invoice_month))


def connect_if(findings: Sized) -> AbstractContextManager[duckdb.DuckDBPyConnection | None]:
    """A connection to record the findings in; none when there is nothing to record."""
    return connect() if findings else nullcontext()


def months_of(context: dg.AssetCheckExecutionContext) -> list[str]:
    key_range = context.partition_key_range
    return invoice_months.get_partition_keys_in_range(key_range)


class UsageGapConfig(dg.Config):
    accept_usage_gap: str = Field(
        default="",
        description="Accept a usage feed that delivered no calls to the end of the usage month (it really went "
        "quiet): the reason, audited with who closed. Empty: a gap blocks publication.",
    )


@dg.asset_check(
    asset=FCT_INVOICES,
    name=COMPLETENESS_CHECK,
    description="Every usage feed (the cdrs/ folder, each switch) that delivered calls the month before has "
    "delivered calls through the last day of the usage month, in its time zone; blocks publication unless the "
    "close accepts the gap with a reason (accept_usage_gap).",
    blocking=True,
    partitions_def=invoice_months,
)
def usage_feeds_complete(
    context: dg.AssetCheckExecutionContext, config: UsageGapConfig, engine: CallbillEngine
) -> Iterator[dg.AssetCheckResult]:
    reason = config.accept_usage_gap.strip()
    gaps: dict[str, list[FeedMonth]] = {}
    checked = 0
    for month in months_of(context):
        feeds = feed_months_of_run(warehouse_path(), context.run.run_id, month, engine.on_spark)
        checked += sum(feed.previous_calls > 0 for feed in feeds)
        if any(feed.incomplete for feed in feeds):
            gaps[month] = [feed for feed in feeds if feed.incomplete]
    with connect_if(gaps) as con:
        for month, incomplete in gaps.items():
            invoice_date = parse_invoice_month(month).isoformat()
            if reason:
                record_event(
                    con,
                    "usage_gap_accepted",
                    {
                        "run_id": context.run.run_id,
                        "actor": actor(),
                        "invoice_month": month,
                        "feeds": [feed.details() for feed in incomplete],
                        "reason": reason,
                    },
                    invoice_date,
                )
                continue
            for feed in incomplete:
                record_event(
                    con,
                    "check_failed",
                    {
                        "source": "usage_feeds",
                        "run_id": context.run.run_id,
                        "check": f"{COMPLETENESS_CHECK}: {feed.feed}",
                        "message": feed.gap_message(),
                        **feed.details(),
                    },
                    invoice_date,
                )
    messages = [f"{month}: {feed.gap_message()}" for month, feeds in gaps.items() for feed in feeds]
    accepted = [
        f"usage gap accepted for {month}: {feed.feed} ({feed.timezone}) delivered calls through "
        f"{feed.delivered_through}, expected through {feed.expected_through}; reason: {reason}"
        for month, feeds in gaps.items()
        for feed in feeds
    ]
    if gaps and reason:
        description = "; ".join(accepted)
    elif gaps:
        description = "; ".join(messages)
    else:
        description = f"{checked} feed(s) checked, all delivered calls through the end of the usage month"
    metadata: dict[str, Any] = {"feeds_checked": checked}
    if gaps and reason:
        metadata["accepted_usage_gaps"] = dg.MetadataValue.json(accepted)
    elif gaps:
        metadata["failures"] = dg.MetadataValue.json(
            [
                {"check": f"{month}: {feed.feed}", "message": feed.gap_message(), **feed.details()}
                for month, feeds in gaps.items()
                for feed in feeds
            ]
        )
    yield dg.AssetCheckResult(
        passed=not gaps or bool(reason),
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )
    if gaps and not reason:
        # The run's page names the check and the first feed that stopped.
        raise dg.Failure(description=f"{COMPLETENESS_CHECK} failed: {description}")


@dg.asset_check(
    asset=FCT_INVOICES,
    name=VOLUME_CHECK,
    description="Warns when a usage feed's calls in the usage month are below half its median of the three "
    "months before (non-blocking).",
    blocking=False,
    partitions_def=invoice_months,
)
def usage_feed_volume(context: dg.AssetCheckExecutionContext, engine: CallbillEngine) -> dg.AssetCheckResult:
    low = [
        (month, feed)
        for month in months_of(context)
        for feed in feed_months_of_run(warehouse_path(), context.run.run_id, month, engine.on_spark)
        if feed.low_volume
    ]
    with connect_if(low) as con:
        for month, feed in low:
            record_event(
                con,
                "check_warned",
                {
                    "source": "usage_feeds",
                    "run_id": context.run.run_id,
                    "check": f"{VOLUME_CHECK}: {feed.feed}",
                    "message": feed.volume_message(),
                    "trailing_calls": feed.trailing_calls,
                    **feed.details(),
                },
                parse_invoice_month(month).isoformat(),
            )
    messages = [f"{month}: {feed.volume_message()}" for month, feed in low]
    return dg.AssetCheckResult(
        passed=not low,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(messages) or "every feed's volume is at least half its trailing median",
        metadata={"warnings": dg.MetadataValue.json(messages)},
    )


usage_feed_checks = [usage_feeds_complete, usage_feed_volume]
