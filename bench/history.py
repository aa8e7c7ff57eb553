"""--history-months N: the bench's month as N months of history, landed and closed one month after
the other on a warehouse of its own, as a provider closes a year. The question it answers: does the
close of the Nth month cost what the close of the second does (#27: within 15 % at twelve)?

Each history month is the bench month's calls moved back whole months (call ids prefixed by the
month, durations kept); the accounts and their items start by the first history month, so every
month bills the same accounts and calls. Made once, cached beside the landing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from bench.measure import Measurement, run_measured
from callbill.months import add_months

# Date columns an account or item starts on: pulled back to the first history month, so no month
# of the history has calls of accounts that had not started yet.
START_DATES = {"accounts": ("service_start_date", "billing_start_date"), "subscription_items": ("start_date",)}
# A start moved back whole months, plus the call's length for its end; text that does not parse is kept.
SHIFTED = (
    "coalesce(strftime(try_cast(start_time_utc as timestamp) - interval {months} month{plus}, "
    "'%Y-%m-%dT%H:%M:%SZ'), {column})"
)


def history_landing(landing: Path, usage_month: date, months: int) -> list[tuple[Path, date]]:
    """(folder to land, invoice month to close) for each history month, oldest first. The first
    folder carries the other entities (accounts, items, partners, payments…) with the calls."""
    folder = landing.parent / f"history{months}"
    firsts = [add_months(usage_month, offset) for offset in range(1 - months, 1)]
    plan = [(folder / f"month{index:02d}", add_months(first, 1)) for index, first in enumerate(firsts)]
    if (folder / ".complete").exists():
        return plan
    shutil.rmtree(folder, ignore_errors=True)
    first_day = firsts[0].isoformat()
    month_files = sorted(str(p) for p in (landing / "cdrs").glob("*.csv") if p.name != "cdrs_resend.csv")
    with duckdb.connect() as con:
        for entity in sorted(p.name for p in landing.iterdir() if p.is_dir() and p.name != "cdrs"):
            out = plan[0][0] / entity
            out.mkdir(parents=True)
            for source in sorted((landing / entity).glob("*.csv")):
                pulled = ", ".join(
                    f"case when {c} is null then null else least({c}, '{first_day}') end as {c}"
                    for c in START_DATES.get(entity, ())
                )
                columns = f"* replace ({pulled})" if pulled else "*"
                con.execute(
                    f"copy (select {columns} from read_csv(?, all_varchar = true, header = true)) "
                    f"to '{out / source.name}' (header)",
                    [str(source)],
                )
        for index, (month_folder, _) in enumerate(plan):
            back = months - 1 - index
            out = month_folder / "cdrs"
            out.mkdir(parents=True, exist_ok=True)
            length = " + (try_cast(end_time_utc as timestamp) - try_cast(start_time_utc as timestamp))"
            con.execute(
                f"""
                copy (
                    select 'H{index:02d}-' || call_id as call_id, account_id, direction, source_number,
                        destination_number,
                        {SHIFTED.format(column="start_time_utc", months=back, plus="")} as start_time_utc,
                        case when end_time_utc is null then null else
                            {SHIFTED.format(column="end_time_utc", months=back, plus=length)} end as end_time_utc,
                        duration_sec
                    from read_csv(?, all_varchar = true)
                ) to '{out / f"cdrs_{firsts[index]:%Y-%m}.csv"}' (header)
                """,
                [month_files],
            )
    (folder / ".complete").touch()
    return plan


@dataclass
class HistoryMonth:
    invoice_month: str
    land: Measurement
    close: Measurement
    steps: dict[str, float]
    rated_calls: int


@dataclass
class HistoryRun:
    months: list[HistoryMonth] = field(default_factory=list)

    def ratio(self) -> float:
        """The close of the last month against the close of the second (the first has no history)."""
        return self.months[-1].close.seconds / self.months[1].close.seconds


def history_run(
    plan: list[tuple[Path, date]], workdir: Path, env: dict[str, str], callbill: list[str], step_seconds
) -> HistoryRun:
    """Land and close each month in turn on a warehouse and Dagster home of their own."""
    folder = workdir / "history"
    folder.mkdir()
    warehouse = folder / "callbill.duckdb"
    env = {
        **env,
        "CALLBILL_WAREHOUSE": str(warehouse),
        "DAGSTER_HOME": str(folder / "dagster_home"),
        # the monthly partitions start with the history's first invoice month (a provider's setting)
        "CALLBILL_FIRST_INVOICE_MONTH": f"{plan[0][1]:%Y-%m}",
    }
    run = HistoryRun()
    for landing, invoice_month in plan:
        month = f"{invoice_month:%Y-%m}"
        land = run_measured([*callbill, "land", str(landing)], env, folder / f"land_{month}.log")
        close = run_measured([*callbill, "close", month], env, folder / f"close_{month}.log")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            (rated,) = con.execute(
                "select count(*) from published.rated_calls where invoice_date = ?", [invoice_month]
            ).fetchone()
        run.months.append(HistoryMonth(month, land, close, step_seconds(folder / "dagster_home"), rated))
        print(f"history {month}: land {land.seconds:7.1f} s, close {close.seconds:7.1f} s, {rated:,} calls", flush=True)
    return run
