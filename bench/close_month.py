"""Benchmark: generate a month of CDRs, land it, close the month; print wall times and peak memory.

    .venv/bin/python bench/close_month.py --accounts 3000 --calls-per-account-month 3300   # ~10 M calls

Figures printed: generation, landing, one plain DuckDB read of the same CDR files (the floor for
any step that must read them), the close (dbt build + checks + publication) and, from dbt's
run_results.json, the rating models alone. Peak memory is the largest resident set of this process
and of the dbt subprocess.
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def timed(label: str, fn):  # noqa: ANN001, ANN201
    started = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {elapsed:>8.1f} s", flush=True)
    return value, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--calls-per-account-month", type=int, default=3300)
    parser.add_argument("--usage-month", default="2026-03", help="month of the calls; the next month is closed")
    parser.add_argument("--workdir", type=Path, default=None, help="kept after the run if given")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="callbill-bench-"))
    landing, warehouse = workdir / "landing", workdir / "callbill.duckdb"
    shutil.rmtree(landing, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    os.environ["CALLBILL_WAREHOUSE"] = str(warehouse)
    os.environ["DAGSTER_HOME"] = str(workdir / "dagster_home")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

    import duckdb

    from orchestration.close import run_close
    from orchestration.generate import generate_landing
    from orchestration.land import land_folder

    year, month = map(int, args.usage_month.split("-"))
    close_month = f"{year + month // 12}-{month % 12 + 1:02d}"

    counts, _ = timed(
        "generate",
        lambda: generate_landing(
            landing,
            accounts=args.accounts,
            start_month=args.usage_month,
            months=1,
            calls_per_account_month=args.calls_per_account_month,
        ),
    )
    cdr_files = sorted(str(p) for p in (landing / "cdrs").glob("*.csv"))
    _, read_once = timed(
        "DuckDB reads the CDR files once",
        lambda: (
            duckdb.connect()
            .execute(
                "select count(*), sum(length(destination_number)) from read_csv(?, all_varchar = true)", [cdr_files]
            )
            .fetchone()
        ),
    )
    report, _ = timed("land", lambda: land_folder(landing))
    outcome, close_seconds = timed(f"close {close_month} (build, checks, publish)", lambda: run_close(close_month))
    if not outcome.success:
        raise SystemExit(f"close failed: {outcome.failed_checks or outcome.errors}")

    # dagster-dbt gives each invocation its own target folder: the newest holds this close.
    latest = max((REPO_ROOT / "target").glob("*/run_results.json"), key=lambda p: p.stat().st_mtime)
    run_results = json.loads(latest.read_text())
    node_seconds = {r["unique_id"].split(".")[2]: r["execution_time"] for r in run_results["results"]}
    rating = sum(node_seconds.get(m, 0.0) for m in ("int_calls_classified", "int_calls_rated", "fct_rated_calls"))
    print(f"{'rating models (classify, rate, fct_rated_calls)':<44} {rating:>8.1f} s")
    print(f"{'rating / one read of the files':<44} {rating / read_once:>8.1f} x")
    print()
    print(f"CDR rows generated        {counts['cdrs'] + counts.get('cdrs_resend', 0):>14,}")
    print(f"rows landed               {report.totals()[0]:>14,}")
    print(f"rated calls               {outcome.summary['rated_calls']:>14,}")
    print(f"invoices published        {outcome.summary['published_invoices']:>14,}")
    print(f"peak memory, this process {peak_mb(resource.RUSAGE_SELF):>11,.0f} MB")
    print(f"peak memory, dbt          {peak_mb(resource.RUSAGE_CHILDREN):>11,.0f} MB")
    print(f"warehouse size            {warehouse.stat().st_size / 2**20:>11,.0f} MB")
    slowest = sorted(node_seconds.items(), key=lambda kv: -kv[1])[:5]
    print("slowest dbt nodes         " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
