"""Benchmark one month-end close at a given size, against DuckDB's own floor.

    python -m bench --cdrs 10M            # or: make bench CDRS=10M

For the size it generates a landing folder once (cached in bench/cache/ by size and seed) and reads
its files once, so every step finds them in the page cache; then in one run it measures: the floor
(DuckDB alone reads the same CDR files into a table, plus one aggregate); `callbill land`;
`callbill close` (split into steps from the Dagster run and dbt's run_results.json); a re-close of
the month after one more day of calls landed (1 % of the month); at 1 M, the rating step written
in pandas; with --next-month, the landing and close of the next month (the same calls 31 days
later, with the late day), the steady state of a warehouse with a published month; and with
--platform asterisk|freeswitch, then the landing and close of the same month written as that phone
switch's own CDR files (generated with the same seed and size, every customer key mapped, cached
beside the canonical landing), on a warehouse and Dagster home of their own, against the canonical
landing's; and with --history-months N, N months of history (the month moved back whole months)
landed and closed one after the other on a warehouse of their own, the Nth close against the
second (bench/history.py); and with --draft, the month's drafts closed before its last usage day
landed and again after it (bench/draft.py). Peak memory is the resident set of the whole process
tree. Prints a table and writes
bench/results/<size>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from bench.draft import DraftRun, draft_landing, draft_run
from bench.history import HistoryRun, history_landing, history_run
from bench.measure import Measurement, measure_here, run_measured

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CALLBILL_BENCH_CACHE", REPO_ROOT / "bench" / "cache"))
RESULTS = Path(os.environ.get("CALLBILL_BENCH_RESULTS", REPO_ROOT / "bench" / "results"))
USAGE_MONTH, CLOSE_MONTH = "2026-03", "2026-04"
NEXT_CLOSE_MONTH, NEXT_MONTH_DAYS = "2026-05", 31  # the month's calls 31 days later: April's usage
# Classification and rating are views: fct_rated_calls runs them and writes each call once.
RATING_MODELS = ("fct_rated_calls", "int_invoice_lines_usage")
# The models that read every call of the month: the rating ones and the list of unbilled calls.
PER_CALL_MODELS = (*RATING_MODELS, "fct_unbilled_calls")
# Above this many calls the landing is replicated from the 10 M one unless told otherwise.
GENERATED_UP_TO = 10_000_000
PLATFORMS = ("asterisk", "freeswitch")
# The close's dbt models compared between the canonical landing and the switch's, slowest first.
COMPARED_MODELS = 12


def parse_size(text: str) -> int:
    """'10M' -> 10_000_000, '250k' -> 250_000."""
    units = {"k": 1_000, "m": 1_000_000}
    text = text.strip().lower()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def landing_for(cdrs: int, accounts: int, seed: int, platform: str | None = None) -> Path:
    """The generated landing folder of this size, made once and reused. With a platform, the same
    month's calls as that switch's own CDR files instead of cdrs/, every customer key mapped (so it
    bills what the canonical landing bills), cached beside it."""
    folder = CACHE / (f"cdrs{cdrs}-accounts{accounts}-seed{seed}" + (f"-{platform}" if platform else ""))
    if (folder / ".complete").exists():
        return folder / "landing"
    from callbill.generate import generate_landing

    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    generate_landing(
        folder / "landing",
        accounts=accounts,
        start_month=USAGE_MONTH,
        months=1,
        calls_per_account_month=max(1, round(cdrs / accounts)),
        seed=seed,
        **({"platform": platform, "unmapped_tenants": 0} if platform else {}),
    )
    print(f"generated {folder.name} in {time.perf_counter() - started:.1f} s", flush=True)
    (folder / ".complete").touch()
    return folder / "landing"


def replicated_landing(cdrs: int, base_cdrs: int, seed: int) -> tuple[Path, int]:
    """A landing of `cdrs` calls made from the cached landing of `base_cdrs` (generated if missing):
    the same accounts and other files, and the base month's calls repeated cdrs / base_cdrs times
    with new call ids, one file per copy (the generator holds a month in memory; 100 M does not
    fit). Returns the folder and its number of accounts."""
    accounts = max(10, base_cdrs // 3300)
    base = landing_for(base_cdrs, accounts, seed)
    folder = CACHE / f"cdrs{cdrs}-from{base_cdrs}-accounts{accounts}-seed{seed}"
    if (folder / ".complete").exists():
        return folder / "landing", accounts
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    shutil.copytree(base, folder / "landing", ignore=shutil.ignore_patterns("cdrs_*.csv"))
    month_files = sorted(str(p) for p in (base / "cdrs").glob("cdrs_*.csv") if p.name != "cdrs_resend.csv")
    with duckdb.connect() as con:
        for copy in range(cdrs // base_cdrs):
            out = folder / "landing" / "cdrs" / f"cdrs_copy{copy:03d}.csv"
            con.execute(
                f"copy (select call_id || '-{copy}' as call_id, * exclude (call_id) "
                f"from read_csv(?, all_varchar = true)) to '{out}' (header)",
                [month_files],
            )
        # The resent lines repeat calls of the first copy, as they repeat the base month's.
        resend = base / "cdrs" / "cdrs_resend.csv"
        if resend.exists():
            con.execute(
                "copy (select call_id || '-0' as call_id, * exclude (call_id) from read_csv(?, all_varchar = true)) "
                f"to '{folder / 'landing' / 'cdrs' / 'cdrs_resend.csv'}' (header)",
                [str(resend)],
            )
    print(f"made {folder.name} in {time.perf_counter() - started:.1f} s", flush=True)
    (folder / ".complete").touch()
    return folder / "landing", accounts


def floor(cdr_files: list[str], workdir: Path) -> Measurement:
    """DuckDB alone: the CDR files read once into a table of a database file, plus one aggregate."""
    path = workdir / "floor.duckdb"

    def read() -> None:
        with duckdb.connect(str(path)) as con:
            con.execute("create table cdrs as select * from read_csv(?, all_varchar = true)", [cdr_files])
            con.execute(
                "select account_id, count(*), sum(cast(duration_sec as bigint)) from cdrs group by 1"
            ).fetchall()

    _, measured = measure_here(read)
    path.unlink()
    return measured


def warm_page_cache(landing: Path) -> None:
    """Read every landing file once, so the floor and `callbill land` both read from memory: the
    first to read a file otherwise pays the disk (a cold floor at 10 M took 22 s instead of 8)."""
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        with path.open("rb") as fh:
            while fh.read(1 << 24):
                pass


def extra_day_file(landing: Path, workdir: Path) -> Path:
    """One more day of calls (1 % of the month), as a late file: new call ids, same shape."""
    folder = workdir / "extra_day" / "cdrs"
    folder.mkdir(parents=True, exist_ok=True)
    files = sorted(str(p) for p in (landing / "cdrs").glob("cdrs_*.csv"))
    out = folder / "cdrs_extra_day.csv"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select 'X-' || call_id as call_id, * exclude (call_id)
                from read_csv(?, all_varchar = true)
                using sample 1 percent (bernoulli, 7)
            ) to '{out}' (header)
            """,
            [files],
        )
    return out.parent.parent


def next_month_landing(landing: Path) -> Path:
    """The landing's month of calls 31 days later (April's usage), under new call ids, as one CDR file
    (cached beside the landing): the next month-end close, on a warehouse with a published month and
    its late calls. Calls that would start in May, and rows whose start does not parse, are left out."""
    folder = landing.parent / "next_month"
    out = folder / "landing" / "cdrs" / "cdrs_next_month.csv"
    if (folder / ".complete").exists():
        return out.parent.parent
    shutil.rmtree(folder, ignore_errors=True)
    out.parent.mkdir(parents=True)
    month_files = sorted(str(p) for p in (landing / "cdrs").glob("*.csv") if p.name != "cdrs_resend.csv")
    shifted = "strftime(cast({0} as timestamp) + interval {1} day, '%Y-%m-%dT%H:%M:%SZ')"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select 'N-' || call_id as call_id, account_id, direction, source_number, destination_number,
                    {shifted.format("start_time_utc", NEXT_MONTH_DAYS)} as start_time_utc,
                    {shifted.format("end_time_utc", NEXT_MONTH_DAYS)} as end_time_utc,
                    duration_sec
                from read_csv(?, all_varchar = true)
                where try_cast(start_time_utc as timestamp) + interval {NEXT_MONTH_DAYS} day
                    < date_trunc('month', try_cast(start_time_utc as timestamp)) + interval 2 month
            ) to '{out}' (header)
            """,
            [month_files],
        )
    (folder / ".complete").touch()
    return out.parent.parent


def step_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds per step of the newest run in this Dagster home."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        starts, seconds = {}, {}
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type_value == "STEP_START":
                starts[event.step_key] = record.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
                seconds[event.step_key] = record.timestamp - starts[event.step_key]
    return seconds


def call_files(landing: Path) -> list[Path]:
    """The files that carry the month's calls: cdrs/ or a switch's switch_cdrs/<switch_id>/."""
    return sorted(p for folder in ("cdrs", "switch_cdrs") for p in (landing / folder).rglob("*") if p.is_file())


def published_invoices(warehouse: Path) -> tuple[int, float]:
    """Invoices published for the closed month and their total."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        count, total = con.execute(
            "select count(*), coalesce(sum(total), 0) from published.invoices where invoice_date = ?",
            [f"{CLOSE_MONTH}-01"],
        ).fetchone()
    return count, round(float(total), 2)


@dataclass
class PlatformRun:
    """The switch landing's land and close, and what its close took, step by step and model by model."""

    land: Measurement
    close: Measurement
    steps: dict[str, float]
    models: dict[str, float]
    rows: dict[str, int | float]


def platform_run(platform: str, landing: Path, workdir: Path, env: dict[str, str], callbill: list[str]) -> PlatformRun:
    """`callbill land` and `callbill close` of the switch landing, on a fresh warehouse and Dagster home."""
    folder = workdir / platform
    folder.mkdir()
    warehouse = folder / "callbill.duckdb"
    env = {**env, "CALLBILL_WAREHOUSE": str(warehouse), "DAGSTER_HOME": str(folder / "dagster_home")}
    warm_page_cache(landing)
    land = run_measured([*callbill, "land", str(landing)], env, folder / "land.log")
    close = run_measured([*callbill, "close", CLOSE_MONTH], env, folder / "close.log")
    steps, models = step_seconds(folder / "dagster_home"), dbt_model_seconds()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        records, rated = con.execute(
            f"select (select count(*) from raw.{platform}_cdrs), (select count(*) from published.rated_calls)"
        ).fetchone()
    invoices, total = published_invoices(warehouse)
    rows = {
        "records_landed": records,
        "rated_calls": rated,
        "invoices": invoices,
        "invoices_total": total,
        "call_files_mb": round(sum(p.stat().st_size for p in call_files(landing)) / 2**20, 1),
    }
    return PlatformRun(land, close, steps, models, rows)


def dbt_model_seconds() -> dict[str, float]:
    """Seconds per dbt node of the newest callbill_dbt_models invocation."""
    latest = max((REPO_ROOT / "target").glob("callbill_dbt_models-*/run_results.json"), key=lambda p: p.stat().st_mtime)
    results = json.loads(latest.read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--cdrs", default="1M", help="calls in the month: 1M, 10M, 100M (or e.g. 20k)")
    parser.add_argument("--accounts", type=int, default=None, help="default: one per 3,300 calls, at least 10")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pandas", choices=("auto", "yes", "no"), default="auto", help="auto: at 1M and below")
    parser.add_argument(
        "--replicate",
        default=None,
        metavar="SIZE",
        help="make the landing from the cached landing of SIZE (e.g. 10M) with its calls repeated under new "
        "call ids, instead of generating it (the default above 10M: the generator holds the month in memory)",
    )
    parser.add_argument(
        "--next-month",
        action="store_true",
        help="then land and close the next month too (the month's calls 31 days later): the steady state",
    )
    parser.add_argument(
        "--platform",
        choices=PLATFORMS,
        default=None,
        help="then land and close the same month as that switch's own CDR files (same seed and size), "
        "on a fresh warehouse, and compare with the canonical landing",
    )
    parser.add_argument(
        "--history-months",
        type=int,
        default=0,
        metavar="N",
        help="then land and close N months of history (the month moved back whole months), one after the "
        "other on a warehouse of their own: the Nth close against the second",
    )
    parser.add_argument(
        "--draft",
        action="store_true",
        help="then close the month's drafts (--no-publish) before its last usage day landed and again after "
        "it, on a warehouse of their own: the draft re-close against the draft close",
    )
    parser.add_argument("--keep", action="store_true", help="keep the warehouse of the run (printed)")
    args = parser.parse_args()

    cdrs = parse_size(args.cdrs)
    if args.history_months == 1 or args.history_months < 0:
        parser.error("--history-months: at least 2 (the second month's close is what the last is compared with)")
    if args.platform and (args.replicate or (cdrs > GENERATED_UP_TO and args.accounts is None)):
        parser.error(f"--platform generates the switch's files: at most {GENERATED_UP_TO:,} calls, no --replicate")
    if args.replicate is None and cdrs > GENERATED_UP_TO and args.accounts is None:
        args.replicate = "10M"
        print(f"{args.cdrs}: made from the 10M landing (--replicate 10M); the generator holds a month in memory")
    if args.replicate:
        landing, accounts = replicated_landing(cdrs, parse_size(args.replicate), args.seed)
    else:
        accounts = args.accounts or max(10, cdrs // 3300)
        landing = landing_for(cdrs, accounts, args.seed)
    cdr_files = sorted(str(p) for p in (landing / "cdrs").glob("*.csv"))
    workdir = (
        Path(os.environ.get("CALLBILL_BENCH_DIR", REPO_ROOT / "bench" / "work")) / f"{args.cdrs}-{int(time.time())}"
    )
    workdir.mkdir(parents=True)
    warehouse = workdir / "callbill.duckdb"
    env = {
        **os.environ,
        "CALLBILL_WAREHOUSE": str(warehouse),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    callbill = [str(Path(sys.executable).parent / "callbill")]

    warm_page_cache(landing)
    measured: dict[str, Measurement] = {"floor": floor(cdr_files, workdir)}
    print(f"floor (DuckDB reads the CDR files into a table + 1 aggregate)  {measured['floor'].seconds:8.1f} s")
    measured["land"] = run_measured([*callbill, "land", str(landing)], env, workdir / "land.log")
    print(f"callbill land                                                  {measured['land'].seconds:8.1f} s")
    measured["close"] = run_measured([*callbill, "close", CLOSE_MONTH], env, workdir / "close.log")
    print(f"callbill close {CLOSE_MONTH}                                          {measured['close'].seconds:8.1f} s")
    steps = step_seconds(workdir / "dagster_home")
    nodes = dbt_model_seconds()
    invoices_closed = published_invoices(warehouse)  # before the late day changes the month

    extra = extra_day_file(landing, workdir)
    measured["land extra day"] = run_measured([*callbill, "land", str(extra)], env, workdir / "land_extra.log")
    # The month again: the extra day's calls are late (R-LATE-1), the published month is reproduced.
    measured["re-close"] = run_measured([*callbill, "close", CLOSE_MONTH], env, workdir / "reclose.log")
    reclose_steps = step_seconds(workdir / "dagster_home")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        landed_calls, rated_calls, invoices = con.execute(
            "select (select count(*) from raw.cdrs), (select count(*) from published.rated_calls), "
            "(select count(*) from published.invoices)"
        ).fetchone()

    pandas_seconds = None
    if args.pandas == "yes" or (args.pandas == "auto" and cdrs <= 1_000_000):
        from bench.pandas_rating import rate_with_pandas

        _, pandas_run = measure_here(lambda: rate_with_pandas(str(warehouse)))
        measured["pandas rating"] = pandas_run
        pandas_seconds = pandas_run.seconds

    next_month_steps: dict[str, float] = {}
    next_month_models: dict[str, float] = {}
    next_month_rows: dict[str, int] = {}
    if args.next_month:
        next_landing = next_month_landing(landing)
        warm_page_cache(next_landing)
        measured["land next month"] = run_measured(
            [*callbill, "land", str(next_landing)], env, workdir / "land_next_month.log"
        )
        measured["close next month"] = run_measured(
            [*callbill, "close", NEXT_CLOSE_MONTH], env, workdir / "close_next_month.log"
        )
        next_month_steps = step_seconds(workdir / "dagster_home")
        next_month_nodes = dbt_model_seconds()
        with duckdb.connect(str(warehouse), read_only=True) as con:
            file_calls, landed, rated, billed = con.execute(
                "select (select count(*) from read_csv($file, all_varchar = true)), "
                "(select count(*) from raw.cdrs where call_id like 'N-%'), "
                "(select count(*) from published.rated_calls where invoice_date = $month), "
                "(select count(*) from published.invoices where invoice_date = $month)",
                {"file": str(next_landing / "cdrs" / "cdrs_next_month.csv"), "month": f"{NEXT_CLOSE_MONTH}-01"},
            ).fetchone()
        next_month_rows = {"cdrs_in_file": file_calls, "cdrs_landed": landed, "rated_calls": rated, "invoices": billed}
        next_month_models = {m: next_month_nodes.get(m, 0.0) for m in PER_CALL_MODELS}

    switch: PlatformRun | None = None
    if args.platform:
        switch_landing = landing_for(cdrs, accounts, args.seed, args.platform)
        switch = platform_run(args.platform, switch_landing, workdir, env, callbill)
        measured[f"land {args.platform}"], measured[f"close {args.platform}"] = switch.land, switch.close
        print(f"{f'callbill land ({args.platform} files)':<62} {switch.land.seconds:8.1f} s")
        print(f"{f'callbill close {CLOSE_MONTH} ({args.platform} files)':<62} {switch.close.seconds:8.1f} s")

    history: HistoryRun | None = None
    if args.history_months:
        plan = history_landing(landing, date.fromisoformat(f"{USAGE_MONTH}-01"), args.history_months)
        history = history_run(plan, workdir, env, callbill, step_seconds)
        second, last = history.months[1], history.months[-1]
        measured[f"close history month 2 ({second.invoice_month})"] = second.close
        measured[f"close history month {len(history.months)} ({last.invoice_month})"] = last.close

    draft: DraftRun | None = None
    if args.draft:
        last_usage_day = date.fromisoformat(f"{CLOSE_MONTH}-01") - timedelta(days=1)
        before, day = draft_landing(landing, last_usage_day)
        warm_page_cache(before.parent)
        draft = draft_run(before, day, CLOSE_MONTH, workdir, env, callbill, step_seconds)
        measured["draft close (all but the last day)"] = draft.close
        measured["land the last day"] = draft.land_day
        measured["draft re-close"] = draft.reclose

    rating = sum(nodes.get(m, 0.0) for m in RATING_MODELS)
    base = measured["floor"].seconds
    ratios = {
        "land / floor": measured["land"].seconds / base,
        "close / floor": measured["close"].seconds / base,
        "(land + close) / floor": (measured["land"].seconds + measured["close"].seconds) / base,
        "re-close after 1 % more calls / close": measured["re-close"].seconds / measured["close"].seconds,
    }
    if pandas_seconds:
        ratios["pandas rating / callbill rating models"] = pandas_seconds / rating
    if args.next_month:
        ratios["close next month / close"] = measured["close next month"].seconds / measured["close"].seconds
        # The steady state against the same floor: the next month's file has as many calls.
        next_land, next_close = measured["land next month"].seconds, measured["close next month"].seconds
        ratios["land next month / floor"] = next_land / base
        ratios["close next month / floor"] = next_close / base
        ratios["(land + close) next month / floor"] = (next_land + next_close) / base
    if switch:
        canonical_seconds = measured["land"].seconds + measured["close"].seconds
        ratios[f"(land + close) {args.platform} / canonical"] = (
            switch.land.seconds + switch.close.seconds
        ) / canonical_seconds
        ratios[f"land {args.platform} / canonical"] = switch.land.seconds / measured["land"].seconds
        ratios[f"close {args.platform} / canonical"] = switch.close.seconds / measured["close"].seconds

    if draft:
        ratios["draft re-close after one more day / draft close"] = draft.ratio()
    if history:
        ratios[f"close history month {len(history.months)} / month 2"] = history.ratio()

    print()
    print(f"{'step':<42} {'seconds':>9} {'peak RSS MB':>12}")
    for name, m in measured.items():
        print(f"{name:<42} {m.seconds:>9.1f} {m.peak_rss_mb:>12,.0f}")
    switch_steps = {f"close {args.platform}": switch.steps} if switch else {}
    for title, by_step in (
        ("close", steps),
        ("re-close", reclose_steps),
        ("close next month", next_month_steps),
        *switch_steps.items(),
        ("draft close", draft.steps if draft else {}),
        ("draft re-close", draft.reclose_steps if draft else {}),
    ):
        if not by_step:
            continue
        print(f"\n{title}, by step")
        for step, seconds in sorted(by_step.items(), key=lambda kv: -kv[1]):
            print(f"  {step:<52} {seconds:>7.1f} s")
    print("per-call models (dbt run_results.json)")
    for model in PER_CALL_MODELS:
        next_month = f"  (next month {next_month_models[model]:.1f} s)" if next_month_models else ""
        print(f"  {model:<52} {nodes.get(model, 0.0):>7.1f} s{next_month}")
    if switch:
        compared = sorted(set(nodes) | set(switch.models), key=lambda m: -max(nodes.get(m, 0), switch.models.get(m, 0)))
        print(f"\nclose by dbt model, canonical vs {args.platform} (the {COMPARED_MODELS} slowest of either)")
        print(f"  {'model':<52} {'canonical':>9} {args.platform:>10} {'difference':>10}")
        for model in compared[:COMPARED_MODELS]:
            ours, theirs = nodes.get(model, 0.0), switch.models.get(model, 0.0)
            print(f"  {model:<52} {ours:>8.1f}s {theirs:>9.1f}s {theirs - ours:>+9.1f}s")
        print(f"  {'sum over every dbt node':<52} {sum(nodes.values()):>8.1f}s {sum(switch.models.values()):>9.1f}s")
    print()
    for name, ratio in ratios.items():
        print(f"{name:<42} {ratio:>9.2f}")
    print(f"\nCDRs landed {landed_calls:,}; calls rated {rated_calls:,}; invoices {invoices:,}; accounts {accounts:,}")
    if next_month_rows:
        n = next_month_rows
        print(
            f"next month: CDRs in the file {n['cdrs_in_file']:,}, landed {n['cdrs_landed']:,}; "
            f"calls rated {n['rated_calls']:,} (with the late day); invoices {n['invoices']:,}"
        )
    if switch:
        r = switch.rows
        same = "the same" if (r["invoices"], r["invoices_total"]) == invoices_closed else "NOT THE SAME"
        canonical_mb = sum(p.stat().st_size for p in call_files(landing)) / 2**20
        print(
            f"{args.platform}: records landed {r['records_landed']:,}; calls rated {r['rated_calls']:,}; "
            f"invoices {r['invoices']:,} totalling {r['invoices_total']:,.2f} ({same} as the canonical landing's "
            f"{invoices_closed[0]:,} totalling {invoices_closed[1]:,.2f}); call files {r['call_files_mb']:,.0f} MB "
            f"(canonical {canonical_mb:,.0f} MB)"
        )
    if draft:
        r = draft.rows
        same = "the same" if (r["draft_invoices"], round(r["draft_total"], 2)) == invoices_closed else "NOT THE SAME"
        print(
            f"draft re-close: {r['draft_invoices']:,} drafts totalling {r['draft_total']:,.2f} ({same} as the "
            f"{invoices_closed[0]:,} published from the whole landing, totalling {invoices_closed[1]:,.2f}); "
            f"calls rated {r['rated_calls']:,}; account-months kept {r['kept_account_months']:,}"
        )
    print(f"warehouse {warehouse.stat().st_size / 2**20:,.0f} MB; machine: {os.cpu_count()} cores")

    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "cdrs": cdrs,
        "accounts": accounts,
        "seed": args.seed,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "measured": {
            k: {"seconds": round(m.seconds, 2), "peak_rss_mb": round(m.peak_rss_mb)} for k, m in measured.items()
        },
        "close_steps": {k: round(v, 2) for k, v in steps.items()},
        "reclose_steps": {k: round(v, 2) for k, v in reclose_steps.items()},
        "rating_models": {m: round(nodes.get(m, 0.0), 2) for m in RATING_MODELS},
        "per_call_models": {m: round(nodes.get(m, 0.0), 2) for m in PER_CALL_MODELS},
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "rows": {"cdrs_landed": landed_calls, "rated_calls": rated_calls, "invoices": invoices},
    }
    if args.next_month:
        result["next_month_steps"] = {k: round(v, 2) for k, v in next_month_steps.items()}
        result["next_month_rating_models"] = {k: round(v, 2) for k, v in next_month_models.items()}
        result["next_month_rows"] = next_month_rows
    if switch:
        result["close_models"] = {k: round(v, 2) for k, v in nodes.items()}
        result["platform"] = {
            "name": args.platform,
            "close_steps": {k: round(v, 2) for k, v in switch.steps.items()},
            "close_models": {k: round(v, 2) for k, v in switch.models.items()},
            "rows": switch.rows,
            "canonical_invoices": invoices_closed[0],
            "canonical_invoices_total": invoices_closed[1],
        }
    if draft:
        result["draft"] = {
            "close_steps": {k: round(v, 2) for k, v in draft.steps.items()},
            "reclose_steps": {k: round(v, 2) for k, v in draft.reclose_steps.items()},
            "rows": draft.rows,
        }
    if history:
        result["history"] = [
            {
                "invoice_month": month.invoice_month,
                "land_seconds": round(month.land.seconds, 2),
                "close_seconds": round(month.close.seconds, 2),
                "close_peak_rss_mb": round(month.close.peak_rss_mb),
                "close_steps": {k: round(v, 2) for k, v in month.steps.items()},
                "rated_calls": month.rated_calls,
            }
            for month in history.months
        ]
    out = RESULTS / f"{args.cdrs}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {out}")
    if args.keep:
        print(f"warehouse kept: {warehouse}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
