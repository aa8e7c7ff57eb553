"""The `callbill` command line."""

from __future__ import annotations

import atexit
import gc
import json
import os
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path

import click

from callbill.warehouse import DEFAULT_WAREHOUSE, table_exists, warehouse_path


def fail(message: str) -> None:
    click.echo(f"callbill: {message}", err=True)
    sys.exit(1)


def one_line_reason(exc: BaseException) -> str:
    """What went wrong, in one line a billing team can act on."""
    from callbill.spark import SparkError

    text = " ".join(str(exc).split())
    if isinstance(exc, SparkError):  # says what to do about it already
        return text
    if "Could not set lock on file" in text or "Conflicting lock" in text:
        return (
            f"the warehouse {warehouse_path()} is in use by another process (a close, a landing or an open "
            "read-write session); run this again when it has finished"
        )
    return f"{type(exc).__name__}: {text[:300]} (run with --debug for the traceback)"


DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def not_a_warehouse(path: Path) -> str | None:
    """Why an existing path cannot be the warehouse (DuckDB would open another file as an empty,
    in-memory database, and everything landed into it would be gone when the command ends)."""
    if path.is_dir():
        return f"{path} is a folder; --warehouse names the DuckDB file (e.g. warehouse/callbill.duckdb)"
    if path.is_file() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            header = fh.read(12)
        if header[8:12] != DUCKDB_MAGIC:
            return f"{path} is not a DuckDB warehouse file; --warehouse names the DuckDB file callbill writes"
    return None


def chosen_engine() -> str:
    """--engine (or CALLBILL_ENGINE) of this invocation."""
    return click.get_current_context().find_root().params.get("engine") or "duckdb"


def require_landed_warehouse() -> None:
    """Commands that read what was landed: a clear reason instead of an empty warehouse created on
    a mistyped path, or dbt's errors about missing raw tables."""
    import duckdb

    path = warehouse_path()
    if not path.exists():
        fail(f"no warehouse at {path}: run `callbill land IN_DIR` first (or check --warehouse)")
    with duckdb.connect(str(path), read_only=True) as con:
        landed = (
            table_exists(con, "raw", "landed_files")
            and con.execute("select count(*) from raw.landed_files").fetchone()[0]
        )
    if not landed:
        fail(f"nothing landed in {path}: run `callbill land IN_DIR` first")


class CallbillCommands(click.Group):
    """Unexpected errors end as one line on stderr; `--debug` shows the traceback instead."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            fail(one_line_reason(exc))


@click.group(cls=CallbillCommands)
@click.option(
    "--warehouse",
    envvar="CALLBILL_WAREHOUSE",
    default=DEFAULT_WAREHOUSE,
    show_default=True,
    help="DuckDB warehouse file (env CALLBILL_WAREHOUSE).",
)
@click.option(
    "--engine",
    envvar="CALLBILL_ENGINE",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Where `close` builds, checks and publishes (env CALLBILL_ENGINE); spark: docs/spark.md.",
)
@click.option("--debug", is_flag=True, help="Show the Python traceback of an unexpected error.")
def main(warehouse: str, engine: str, debug: bool) -> None:
    """callbill: month-end billing warehouse for business phone providers."""
    # dbt reads the warehouse from this variable (profiles/profiles.yml).
    os.environ["CALLBILL_WAREHOUSE"] = str(warehouse_path(warehouse))
    problem = not_a_warehouse(warehouse_path())
    if problem:
        fail(problem)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # The interpreter's last collection at exit walks every object dbt and Dagster loaded (~2 s
    # after a close); the process is ending, so nothing is left to collect.
    atexit.register(gc.freeze)


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--accounts", default=300, show_default=True, help="Number of accounts.")
@click.option("--start-month", default="2026-02", show_default=True, help="First month of activity (YYYY-MM).")
@click.option("--months", default=3, show_default=True, help="Months of calls and payments.")
@click.option("--calls-per-account-month", default=1100, show_default=True, help="Mean calls per account-month.")
@click.option("--seed", default=42, show_default=True, help="Random seed: the same seed gives the same bytes.")
@click.option(
    "--platform",
    type=click.Choice(["asterisk", "freeswitch"]),
    default=None,
    help="write the calls as that switch's own CDR files (switches/, switch_tenants/, switch_cdrs/) instead of cdrs/",
)
@click.option(
    "--platform-accounts",
    type=int,
    default=None,
    metavar="N",
    help="with --platform: only the calls of the first N accounts (ACC-00001..N) are the switch's files; "
    "the other accounts' calls stay in cdrs/  [default: all accounts]",
)
def generate(
    out_dir: Path,
    accounts: int,
    start_month: str,
    months: int,
    calls_per_account_month: int,
    seed: int,
    platform: str | None,
    platform_accounts: int | None,
) -> None:
    """Write a realistic, reproducible synthetic landing folder to OUT_DIR."""
    from callbill.generate import generate_landing

    started = time.perf_counter()
    try:
        counts = generate_landing(
            out_dir,
            accounts=accounts,
            start_month=start_month,
            months=months,
            calls_per_account_month=calls_per_account_month,
            seed=seed,
            platform=platform,
            platform_accounts=platform_accounts,
        )
    except ValueError as exc:
        fail(str(exc))
    for entity, rows in counts.items():
        if isinstance(rows, list):  # the accounts whose switch customer key has no switch_tenants row
            click.echo(f"{entity:<20} {', '.join(rows) or '-'}")
        else:
            click.echo(f"{entity:<20} {rows:>12,} rows")
    click.echo(f"wrote {out_dir} in {time.perf_counter() - started:.1f} s")


@main.command()
@click.argument("in_dir", type=click.Path(path_type=Path))
def land(in_dir: Path) -> None:
    """Land every file of the landing folder IN_DIR into schema raw (a file lands once)."""
    import importlib
    import threading

    from callbill.landing.contract import LandingError
    from callbill.landing.land import land_folder

    # Dagster (~1 s to import) loads on a thread while DuckDB lands the files.
    record_module = "callbill.landing.dagster_record"
    preload = threading.Thread(target=importlib.import_module, args=(record_module,), daemon=True)
    preload.start()
    try:
        report = land_folder(in_dir)
    except LandingError as exc:
        fail(str(exc))
    finally:
        preload.join()  # never exit with an import half done
    # The Dagster UI shows the landing assets materialized, as after a landing run of its own.
    importlib.import_module(record_module).record_landing(report, in_dir.resolve())
    click.echo(f"{'file':<60} {'status':<15} {'landed':>10} {'accepted':>10} {'quarantined':>12}")
    for f in report.files:
        name = str(f.path.relative_to(in_dir.resolve())) if f.path.is_relative_to(in_dir.resolve()) else str(f.path)
        click.echo(f"{name:<60} {f.status:<15} {f.landed:>10,} {f.accepted:>10,} {f.quarantined:>12,}")
        if f.message and f.status != "landed":
            click.echo(f"    {f.message}")
        if f.entity == "switch_cdrs" and f.status == "landed":
            click.echo(
                f"    {f.landed:,} records = {f.answered:,} answered + {f.unanswered:,} unanswered + "
                f"{f.quarantined:,} quarantined; {f.repeated:,} repeated (landed before, not again)"
            )
    landed, accepted, quarantined = report.totals()
    click.echo(f"{'total':<60} {'':<15} {landed:>10,} {accepted:>10,} {quarantined:>12,}")
    click.echo(f"warehouse: {warehouse_path()}")
    if chosen_engine() == "spark":
        hand_landing_to_spark()
    if report.failed:
        fail(
            f"{len(report.failed)} file(s) could not be landed: "
            + "; ".join(f"{f.path.name}: {f.message}" for f in report.failed)
        )


@main.command()
@click.argument("invoice_month")
@click.option("--no-publish", is_flag=True, help="Stop at draft invoices; publish nothing.")
@click.option(
    "--accept-usage-gap",
    metavar="REASON",
    default=None,
    help="Close although a usage feed delivered no calls to the end of the usage month (it really went "
    "quiet); REASON is audited with who closed.",
)
def close(invoice_month: str, no_publish: bool, accept_usage_gap: str | None) -> None:
    """Month-end close for the invoices dated INVOICE_MONTH-01 (YYYY-MM): build, check, publish.

    A range YYYY-MM..YYYY-MM backfills several months in one run, oldest published first."""
    from callbill.close import run_close
    from callbill.months import parse_invoice_month_range

    try:
        parse_invoice_month_range(invoice_month)
    except ValueError as exc:
        fail(str(exc))
    if accept_usage_gap is not None and not accept_usage_gap.strip():
        fail('--accept-usage-gap needs a reason, e.g. --accept-usage-gap "carrier outage, confirmed by NOC"')
    require_landed_warehouse()
    click.echo(
        f"closing {invoice_month}: dbt build, dbt tests, Great Expectations suites"
        + ("" if no_publish else ", publication")
    )
    started = time.perf_counter()
    engine = chosen_engine()
    try:
        outcome = run_close(
            invoice_month, publish=not no_publish, accept_usage_gap=(accept_usage_gap or "").strip(), engine=engine
        )
    except ValueError as exc:
        fail(str(exc))
    s = outcome.summary
    click.echo(f"invoice month      {invoice_month}")
    click.echo(f"accounts billed    {s['accounts']:,}")
    click.echo(f"invoices           {s['invoices']:,}")
    click.echo(f"rated calls        {s['rated_calls']:,}")
    unbilled = s["unbilled_calls"]
    click.echo(
        f"unbilled calls     {sum(unbilled.values()):,}"
        + (f" ({', '.join(f'{reason} {count:,}' for reason, count in unbilled.items())})" if unbilled else "")
    )
    if s["unapplied_adjustments"]:
        click.echo(
            f"unapplied adjust.  {s['unapplied_adjustments']:,} (USD {s['unapplied_adjustments_amount']:,.2f}, "
            "after the account's last invoice)"
        )
    click.echo(f"amount billed      USD {s['amount_billed']:,.2f}")
    click.echo(f"USF billed         USD {s['usf_billed']:,.2f}")
    click.echo(f"published          {s['published_invoices']:,} invoices, USD {s['published_total']:,.2f}")
    click.echo(f"checks passed      {outcome.passed_checks}")
    click.echo(f"checks failed      {len(outcome.failed_checks)}")
    click.echo(
        f"checks warned      {len(outcome.warned_checks)}"
        + (f" ({', '.join(sorted(set(outcome.warned_checks)))})" if outcome.warned_checks else "")
    )
    for warning in outcome.warnings:
        click.echo(f"  {describe_finding(warning)}")
        for row in warning.get("first_failing_rows", [])[:3]:
            click.echo(f"    {row}")
    for accepted in outcome.accepted_usage_gaps:
        click.echo(accepted)
    click.echo(f"warehouse          {warehouse_path()}")
    if engine == "spark":
        from callbill.spark import spark_dir
        from callbill.spark_warehouse import driver_log

        click.echo(f"spark tables       {spark_dir() / 'tables'}")
        click.echo(f"spark driver log   {driver_log()}")
    click.echo(f"dbt log            {outcome.log_path}")
    click.echo("Dagster UI         make ui  (http://127.0.0.1:3000; this run is in its Runs page)")
    click.echo(f"took               {time.perf_counter() - started:.1f} s")
    if not outcome.success:
        reasons = outcome.failed_checks or outcome.errors or ["the close job failed"]
        for error in outcome.errors:
            # A failed check's step names its first row: its rows are listed below, once.
            if not any(f": {check} failed: " in error for check in outcome.failure_rows):
                click.echo(f"  {error}", err=True)
        for check, failures in outcome.failure_rows.items():
            for failure in failures:
                if "message" in failure:  # a check that says what failed in words (usage_feeds_complete)
                    click.echo(f"  {check}: {failure['message']}", err=True)
                    continue
                click.echo(f"  {check}: {failure['check']}: {failure['failing_rows']} failing row(s)", err=True)
                for row in failure["first_failing_rows"][:3]:
                    click.echo(f"    {row}", err=True)
        fail(f"close {invoice_month} failed, nothing published: " + ", ".join(dict.fromkeys(reasons)))
    click.echo("drafts built, not published (--no-publish)" if no_publish else outcome.publication)


def run_monthly_job(job_name: str, invoice_month: str) -> dict[str, object]:
    from callbill.close import run_job
    from callbill.months import parse_invoice_month

    try:
        parse_invoice_month(invoice_month)
    except ValueError as exc:
        fail(str(exc))
    require_landed_warehouse()
    # On Spark the job's file step says so (the published months are Spark's).
    if job_name == "autopay_run" and chosen_engine() == "duckdb":
        import duckdb

        from callbill.outputs.exports import MonthNotPublished, require_published

        with duckdb.connect(str(warehouse_path()), read_only=True) as con:
            try:
                require_published(con, invoice_month)
            except MonthNotPublished as exc:
                fail(str(exc))
    try:
        outcome = run_job(job_name, invoice_month, engine=chosen_engine())
    except ValueError as exc:
        fail(str(exc))
    if not outcome.success:
        fail(f"{job_name} {invoice_month} failed: " + "; ".join(outcome.errors or ["see the Dagster UI"]))
    return outcome.metadata


@main.command()
@click.argument("invoice_month")
def autopay(invoice_month: str) -> None:
    """Write the autopay charge file of INVOICE_MONTH (YYYY-MM), charged on its 10th (R-CAL-5)."""
    run = run_monthly_job("autopay_run", invoice_month)["autopay_runs"][invoice_month]
    click.echo(f"autopay date       {run['autopay_date']}")
    click.echo(f"charges            {run['charges']:,}")
    click.echo(f"amount             USD {Decimal(run['total']):,.2f}")
    click.echo(f"file               {run['file']}")


@main.command()
@click.argument("invoice_month")
def payout(invoice_month: str) -> None:
    """Write the partner payout files of INVOICE_MONTH's 15th (R-COMM-1): residuals, spiffs, clawbacks."""
    payouts = run_monthly_job("commission_payout", invoice_month)["payouts"]
    for payout_date, payout in payouts.items():
        click.echo(f"payout date        {payout_date}")
        click.echo(f"amount             USD {Decimal(payout['total']):,.2f}")
        for name, partner in payout["partners"].items():
            click.echo(f"  {name}  {partner['rows']:>4} row(s)  USD {Decimal(partner['total']):>12,.2f}")
        if not payout["partners"]:
            click.echo("  nothing payable")


@main.command()
@click.argument("account_id")
@click.argument("invoice_month")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="CSV file to write.")
def calls(account_id: str, invoice_month: str, out: Path) -> None:
    """Write the call detail billed on ACCOUNT_ID's invoice of INVOICE_MONTH (YYYY-MM) as CSV (R-RATE-6)."""
    from callbill.outputs.call_detail import InvoiceNotFound, write_call_detail

    require_landed_warehouse()
    try:
        count, is_draft = write_call_detail(account_id, invoice_month, out)
    except (InvoiceNotFound, ValueError) as exc:
        fail(str(exc))
    if is_draft:
        click.echo(f"wrote {count:,} calls of the draft invoice (not published; a close may still change it) to {out}")
    else:
        click.echo(f"wrote {count:,} billed calls to {out}")


@main.command()
@click.argument("account_id")
@click.argument("invoice_month")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="PDF file to write.")
def statement(account_id: str, invoice_month: str, out: Path) -> None:
    """Render ACCOUNT_ID's published invoice of INVOICE_MONTH (YYYY-MM) as a PDF statement (R-INV-4)."""
    from callbill.outputs.statement import StatementError, load_statement, render

    require_landed_warehouse()
    try:
        render(load_statement(account_id, invoice_month), out)
    except (StatementError, ValueError) as exc:
        fail(str(exc))
    click.echo(f"wrote {out}")


@main.command()
@click.option("--port", default=8501, show_default=True, help="Port on 127.0.0.1.")
def dashboards(port: int) -> None:
    """Serve the finance dashboards on http://127.0.0.1:PORT (reads the readers' snapshot)."""
    import subprocess

    from callbill.outputs.snapshot import snapshot_path

    app = Path(__file__).resolve().parent / "dashboards" / "app.py"
    os.environ.setdefault("CALLBILL_SNAPSHOT", str(snapshot_path()))
    click.echo(f"dashboards on http://127.0.0.1:{port} (snapshot {os.environ['CALLBILL_SNAPSHOT']}); Ctrl-C stops")
    command = [sys.executable, "-m", "streamlit", "run", str(app), *streamlit_flags(port)]
    server = subprocess.Popen(command)
    stopped = []

    def stop(*_: object) -> None:
        # Stopped by a service manager (SIGTERM), the server stops too instead of living on without us.
        stopped.append(True)
        server.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        code = server.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches both; wait for the server to finish
        code = server.wait()
    sys.exit(0 if stopped else code)


def streamlit_flags(port: int) -> list[str]:
    """Local only: no telemetry, no browser launch, bound to 127.0.0.1."""
    return [
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--global.developmentMode=false",
        "--client.toolbarMode=viewer",
    ]


def describe_finding(finding: dict[str, object]) -> str:
    """One audit event of a check (failed or warned) in a line: the check and what it found."""
    rows = finding.get("failing_rows")
    found = f"{rows} row(s)" if rows is not None else finding.get("message", "")
    return f"{finding['check']}: {found}"


@main.command()
def status() -> None:
    """What has landed, which months are closed / published, and open check failures."""
    from callbill.status import warehouse_status

    path = warehouse_path()
    if not path.exists():
        fail(f"no warehouse at {path}: run `callbill land IN_DIR` first")
    report = warehouse_status(path, on_spark=chosen_engine() == "spark")
    click.echo(f"warehouse {path}")
    click.echo("\nlanded files")
    click.echo(f"  {'entity':<20} {'files':>6} {'accepted':>12} {'quarantined':>12}  last landed (UTC)")
    for entity, files, accepted, quarantined, last in report["landed"]:
        click.echo(f"  {entity:<20} {files:>6} {accepted:>12,} {quarantined:>12,}  {last:%Y-%m-%d %H:%M}")
    if report["switches"]:
        click.echo("\nswitches (records landed = answered + unanswered + quarantined; repeats not landed again)")
        click.echo(
            f"  {'switch':<12} {'platform':<11} {'files':>6} {'records':>10} {'answered':>10} {'unanswered':>10} "
            f"{'quarantined':>12} {'repeated':>9}  last landed (UTC)"
        )
        for switch, platform, files, records, answered, unanswered, quarantined, repeated, last in report["switches"]:
            click.echo(
                f"  {switch:<12} {platform:<11} {files:>6} {records:>10,} {answered:>10,} {unanswered:>10,} "
                f"{quarantined:>12,} {repeated:>9,}  " + (f"{last:%Y-%m-%d %H:%M}" if last else "no files landed")
            )
    click.echo("\ninvoice months")
    click.echo(
        f"  {'month':<8} {'drafts':>7} {'draft total':>14} {'published':>10} {'published total':>16}  published at"
    )
    for month, drafts, drafted, published, published_total, published_at in report["months"]:
        click.echo(
            f"  {month:<8} {drafts:>7,} {drafted or 0:>14,.2f} {published:>10,} {published_total or 0:>16,.2f}  "
            + (f"{published_at:%Y-%m-%d %H:%M}" if published_at else "not published")
        )
    if report["changed"]:
        click.echo("\npublished calls CHANGED since publication (R-INV-2; the next close fails until restored)")
        for month in report["changed"]:
            click.echo(f"  {month.message()}")
    else:
        click.echo(f"\npublished calls: {report['fingerprinted']} month(s) checked, each as published")
    click.echo("\nopen check failures" + ("" if report["failures"] else ": none"))
    for month, check, source, at in report["failures"]:
        click.echo(f"  {month}  {check} ({source}, {at:%Y-%m-%d %H:%M})")
    click.echo("\nwarnings of each month's latest close" + ("" if report["warnings"] else ": none"))
    for month, source, at, details in report["warnings"]:
        finding = json.loads(details)
        click.echo(f"  {month}  {describe_finding(finding)} ({source}, {at:%Y-%m-%d %H:%M})")
        for row in finding.get("first_failing_rows", [])[:3]:
            click.echo(f"    {row}")


@main.group()
def spark() -> None:
    """Build the same dbt project on Spark (dbt-spark; `make spark-install`), docs/spark.md."""


@spark.command("land")
@click.argument("in_dir", type=click.Path(path_type=Path))
@click.pass_context
def spark_land(ctx: click.Context, in_dir: Path) -> None:
    """Land IN_DIR (the same checks as `callbill land`), then hand the checked tables to Spark as
    Parquet (as `callbill --engine spark land IN_DIR`)."""
    ctx.invoke(land, in_dir=in_dir)
    if chosen_engine() != "spark":
        hand_landing_to_spark()


def hand_landing_to_spark() -> None:
    """The checked tables as Parquet for Spark's builds (callbill/spark.py)."""
    from callbill.spark import SparkError, export_sources, spark_dir

    try:
        counts = export_sources(spark_dir() / "sources")
    except SparkError as exc:
        fail(str(exc))
    for table, rows in counts.items():
        click.echo(f"{table:<30} {rows:>12,} rows for Spark")
    click.echo(f"spark sources: {spark_dir() / 'sources'} (registered by each build on Spark)")


@spark.command("build")
@click.argument("invoice_month")
@click.option("--select", default=None, help="Only these dbt nodes, in dbt's syntax (e.g. +fct_unbilled_calls).")
def spark_build(invoice_month: str, select: str | None) -> None:
    """Build drafts of INVOICE_MONTH (YYYY-MM or YYYY-MM..YYYY-MM) on Spark: seeds, models, data tests.

    A quick check of the models on Spark; `callbill --engine spark close` is the whole close there."""
    from callbill.months import parse_invoice_month_range
    from callbill.spark import SparkError, build, spark_dir

    try:
        first, last = parse_invoice_month_range(invoice_month)
        result = build(first, last, select)
    except (SparkError, ValueError) as exc:
        fail(str(exc))
    summary = [line for line in result.stdout.splitlines() if "Done. PASS=" in line]
    click.echo(summary[-1].split("  ", 1)[-1].strip() if summary else "built")
    click.echo(f"spark tables: {spark_dir() / 'tables'}")
