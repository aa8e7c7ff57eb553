"""--draft: the month's drafts closed before its last usage day has landed, then again after it
(issue #27: a draft re-close after one more day lands costs at most 30 % of the draft close).

The landing is split in two, each CDR file by its rows' start: everything but the calls that start
on the usage month's last day, then those calls alone (the day as a switch delivers it, after the
days before it). Both closes are `callbill close --no-publish` on a warehouse and Dagster home of
their own; the re-closed drafts are compared with the invoices the main run published from the
whole landing. Made once, cached beside the landing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from bench.measure import Measurement, run_measured


@dataclass
class DraftRun:
    close: Measurement
    land_day: Measurement
    reclose: Measurement
    steps: dict[str, float] = field(default_factory=dict)
    reclose_steps: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int | float] = field(default_factory=dict)

    def ratio(self) -> float:
        return self.reclose.seconds / self.close.seconds


def draft_landing(landing: Path, last_usage_day: date) -> tuple[Path, Path]:
    """(the landing without the last usage day's calls, that day's calls alone), cached."""
    folder = landing.parent / "draft"
    before, day = folder / "before_last_day", folder / "last_day"
    if (folder / ".complete").exists():
        return before, day
    shutil.rmtree(folder, ignore_errors=True)
    for entity in (p for p in landing.iterdir() if p.is_dir() and p.name != "cdrs"):
        shutil.copytree(entity, before / entity.name)
    (before / "cdrs").mkdir(parents=True)
    (day / "cdrs").mkdir(parents=True)
    # ISO text: a start on the last day sorts at or after its date; text that does not parse stays first.
    next_day = last_usage_day + timedelta(days=1)
    is_last_day = f"start_time_utc >= '{last_usage_day}' and start_time_utc < '{next_day}'"
    with duckdb.connect() as con:
        for source in sorted((landing / "cdrs").glob("*.csv")):
            for out, where in ((before / "cdrs", f"not ({is_last_day})"), (day / "cdrs", is_last_day)):
                con.execute(
                    f"copy (select * from read_csv(?, all_varchar = true, header = true) "
                    f"where coalesce({where}, true)) to '{out / source.name}' (header)",
                    [str(source)],
                )
    (folder / ".complete").touch()
    return before, day


def draft_run(
    before: Path, day: Path, close_month: str, workdir: Path, env: dict[str, str], callbill: list[str], step_seconds
) -> DraftRun:
    """Land all but the last day, close the drafts, land the day, close the drafts again."""
    root = workdir / "draft"
    (root / "dagster_home").mkdir(parents=True)
    warehouse = root / "callbill.duckdb"
    env = {**env, "CALLBILL_WAREHOUSE": str(warehouse), "DAGSTER_HOME": str(root / "dagster_home")}
    run_measured([*callbill, "land", str(before)], env, root / "land.log")
    close = run_measured([*callbill, "close", close_month, "--no-publish"], env, root / "close.log")
    steps = step_seconds(root / "dagster_home")
    land_day = run_measured([*callbill, "land", str(day)], env, root / "land_day.log")
    reclose = run_measured([*callbill, "close", close_month, "--no-publish"], env, root / "reclose.log")
    reclose_steps = step_seconds(root / "dagster_home")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        invoices, total, rated, kept = con.execute(
            "select (select count(*) from marts.fct_invoices where invoice_date = $month), "
            "(select sum(total) from marts.fct_invoices where invoice_date = $month), "
            "(select count(*) from marts.fct_rated_calls where invoice_date = $month), "
            "(select count(*) filter (where kept_through is not null) from intermediate.int_rating_inputs)",
            {"month": f"{close_month}-01"},
        ).fetchone()
    rows = {
        "draft_invoices": invoices,
        "draft_total": float(total or 0),
        "rated_calls": rated,
        "kept_account_months": kept,
    }
    return DraftRun(close, land_day, reclose, steps, reclose_steps, rows)
