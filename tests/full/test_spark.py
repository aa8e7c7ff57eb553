"""The whole close on a standalone Spark cluster gives the same invoices as on DuckDB, to the cent:
`make test-spark`.

One generated landing folder (two months of calls and payments; half the accounts' calls as an
Asterisk switch writes them) is closed twice. On DuckDB, landed whole, April then May, each
published. On Spark, through the CLI as a provider runs it (`callbill --engine spark`, one process
per command, the Spark driver in it, the cluster's worker doing the work), and through the Dagster UI
as the billing team closes a month (`dagster dev` with CALLBILL_ENGINE=spark; its run worker is the
driver):
- landed without April's cdrs/ files; April's close launched through the webserver and published;
- May's close fails its blocking usage-feed check (the cdrs/ feed stopped in March) and publishes
  nothing;
- April's files landed; May's close killed in the middle of its publication (half the month
  written); then both months closed again in one run (a backfill): April reproduced unchanged,
  May published.
Every column of every invoice, invoice line and rated call of both months, and of the payment,
receivable and commission ledgers, is then equal on the two engines (publication times aside).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from helpers import query, run
from webserver import (
    check_evaluations,
    dagster_dev_serving,
    launch_close,
    wait_for_run,
    wait_for_the_close_to_be_audited,
)

from callbill.spark_cluster import Cluster
from callbill.warehouse import environment_variables

pytestmark = [pytest.mark.spark, pytest.mark.spark_cluster]

APRIL, MAY = "2026-04-01", "2026-05-01"
COMPARED = {"fct_invoices": "invoice_id", "fct_invoice_lines": "invoice_line_id", "fct_rated_calls": "call_id"}
PUBLISHED = {"invoices": "invoice_id", "invoice_lines": "invoice_line_id"}
LEDGER = "every published invoice"
LEDGERS = ("fct_payments", "fct_receivables", "fct_commissions")
# When each engine published differs by design.
PUBLICATION_TIME = {"published_at"}
HALF_PUBLISHED_WITHIN_SECONDS = 900
RELATIVE_FILE = "regexp_extract(source_file, '[^/]+/[^/]+$', 0) as source_file"


def spark_environment(root: Path) -> dict[str, str]:
    """root's warehouse, Dagster home and Spark tables (on the cluster CALLBILL_SPARK_MASTER names)."""
    return {
        "CALLBILL_WAREHOUSE": str(root / "warehouse" / "callbill.duckdb"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "CALLBILL_SPARK_DIR": str(root / "spark"),
        "CALLBILL_SPARK_SMALL": "1",
    }


def spark_callbill(root: Path, *args: str, pause_publication: bool = False) -> subprocess.Popen:
    """`callbill --engine spark ARGS` as its own process (the Spark driver), on root's warehouse."""
    env = {**os.environ, **spark_environment(root)}
    if pause_publication:
        env["CALLBILL_PUBLICATION_PAUSE_SECONDS"] = "3600"
    callbill = str(Path(sys.executable).parent / "callbill")
    return subprocess.Popen(
        [callbill, "--engine", "spark", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finished(process: subprocess.Popen) -> tuple[int, str]:
    output, _ = process.communicate(timeout=1800)
    return process.returncode, output


def parquet_rows(folder: Path, sql: str) -> list[tuple]:
    """A select over the Parquet files Spark wrote for one table (`files`), read by DuckDB."""
    files = sorted(str(path) for path in folder.rglob("*.parquet") if "/." not in str(path))
    if not files:
        return []
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(
            sql.replace("files", "read_parquet($files, hive_partitioning = true, union_by_name = true)"),
            {"files": files},
        ).fetchall()


def kill_in_publication(root: Path) -> dict[str, object]:
    """Close May with the publication held after its invoices and lines are written; kill the close
    there (SIGKILL to its process group: the driver and dbt's threads), as a power cut would."""
    close = spark_callbill(root, "close", "2026-05", pause_publication=True)
    lines = root / "spark" / "tables" / "published.db" / "invoice_lines_written" / "invoice_date=2026-05-01"
    deadline = time.monotonic() + HALF_PUBLISHED_WITHIN_SECONDS
    while not any(lines.glob("*.parquet")):
        assert close.poll() is None, close.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "May's publication did not start"
        time.sleep(1)
    os.killpg(close.pid, signal.SIGKILL)
    close.wait()
    tables = root / "spark" / "tables" / "published.db"
    return {
        "written_invoices": parquet_rows(
            tables / "invoices_written", "select count(*) from files where invoice_date = date '2026-05-01'"
        )[0][0],
        "published_months": published_months(root),
    }


def published_months(root: Path) -> list[tuple]:
    """The months of root's Spark published.invoice_months (each row publishes its month)."""
    return parquet_rows(
        root / "spark" / "tables" / "published.db" / "invoice_months",
        "select cast(invoice_date as varchar) from files order by 1",
    )


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory: pytest.TempPathFactory, spark_cluster: Cluster) -> dict[str, object]:
    from helpers import warehouse_at

    from callbill.generate import generate_landing

    root = tmp_path_factory.mktemp("engines")
    landing = root / "landing"
    # Half the accounts' calls come from an Asterisk switch's own files (R-CDR), one key unmapped.
    generate_landing(
        landing, accounts=12, start_month="2026-03", months=2, calls_per_account_month=150, seed=7,
        platform="asterisk", platform_accounts=6,
    )  # fmt: skip
    on_spark = root / "spark_path"
    (on_spark / "dagster_home").mkdir(parents=True)
    without_april = root / "landing_without_april_cdrs"
    shutil.copytree(landing, without_april)
    for name in ("cdrs_2026-04.csv", "cdrs_resend.csv"):
        (without_april / "cdrs" / name).unlink()
    steps = {"land": finished(spark_callbill(on_spark, "land", str(without_april)))}
    ui = {**spark_environment(on_spark), "CALLBILL_ENGINE": "spark"}
    with dagster_dev_serving(on_spark / "dagster_home", root / "dev.log", ui) as url:
        april = launch_close(url, "2026-04")
        # DuckDB's closes, here, while Spark closes April in the UI's run worker.
        reference = root / "duckdb"
        reference.mkdir()
        with warehouse_at(reference):
            run("land", str(landing))
            run("close", "2026-04")
            run("close", "2026-05")
            with environment_variables({"CALLBILL_EXPORTS": str(reference / "exports")}):
                run("autopay", "2026-05")
                run("payout", "2026-05")
        steps["close April from the UI"] = {
            "run": wait_for_run(url, april, timeout_s=1800),
            **check_evaluations(url, april),
            "audited": wait_for_the_close_to_be_audited(on_spark / "warehouse" / "callbill.duckdb"),
            "published months": published_months(on_spark),
        }
    warehouse = reference / "warehouse" / "callbill.duckdb"
    steps |= {
        "close May, a feed stopped": finished(spark_callbill(on_spark, "close", "2026-05")),
        "land April's files": finished(spark_callbill(on_spark, "land", str(landing))),
    }
    killed = kill_in_publication(on_spark)
    steps["close April and May again"] = finished(spark_callbill(on_spark, "close", "2026-04..2026-05"))
    steps["status"] = finished(spark_callbill(on_spark, "status"))
    driver_log = on_spark / "spark" / "logs" / "spark-driver.log"
    steps["driver log"] = (str(driver_log), driver_log.read_text())

    selects = {
        (table, month): select_month(
            f"marts.{table}", COMPARED[table], compared_columns(warehouse, "marts", table), month
        )
        for table in COMPARED
        for month in (APRIL, MAY)
    }
    selects |= {
        (f"published.{table}", month): select_month(
            f"published.{table}", PUBLISHED[table], compared_columns(warehouse, "published", table), month
        )
        for table in PUBLISHED
        for month in (APRIL, MAY)
    }
    # The ledgers over every published invoice.
    selects |= {(table, LEDGER): select_ledger(table, compared_columns(warehouse, "marts", table)) for table in LEDGERS}
    duckdb_rows = {key: query(warehouse, sql) for key, sql in selects.items()}
    spark_rows, spark_files = spark_tables(on_spark / "spark", selects)
    return {
        "duckdb": duckdb_rows,
        "spark": spark_rows,
        "steps": steps,
        "killed": killed,
        "files": {"duckdb": files_under(reference / "exports"), "spark": spark_files},
        "payout ledger": {engine: parquet_or_table(engine, reference, on_spark) for engine in ("duckdb", "spark")},
    }


def parquet_or_table(engine: str, reference: Path, on_spark: Path) -> list[tuple]:
    """published.commission_payouts's rows on each engine, paid_at aside."""
    columns = "payout_date, partner_id, account_id, invoice_id, commission_type, basis_amount, amount, earned_date"
    if engine == "duckdb":
        return query(
            reference / "warehouse" / "callbill.duckdb",
            f"select {columns} from published.commission_payouts order by all",
        )
    folder = on_spark / "spark" / "tables" / "published.db" / "commission_payouts"
    return parquet_rows(folder, f"select {columns} from files order by all")


def compared_columns(warehouse: Path, schema: str, table: str) -> list[str]:
    rows = query(
        warehouse,
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    )
    return [name for (name,) in rows if name not in PUBLICATION_TIME]


def select_ledger(table: str, columns: list[str]) -> str:
    ordinals = ", ".join(str(position) for position in range(1, len(columns) + 1))
    return f"select {', '.join(columns)} from marts.{table} order by {ordinals}"


def select_month(relation: str, key: str, columns: list[str], month: str) -> str:
    # The engines landed the same files from two folders: a call's file is compared by its own name.
    selected = [RELATIVE_FILE if column == "source_file" else column for column in columns]
    return f"select {', '.join(selected)} from {relation} where invoice_date = date '{month}' order by {key}"


def spark_tables(
    spark_dir: Path, selects: dict[tuple[str, str], str]
) -> tuple[dict[tuple[str, str], list[tuple]], dict[str, str]]:
    """The same selects on the tables the Spark closes wrote, read through Spark's own metastore;
    and the payment files written from them."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(spark_dir / "tables"))
        .config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={spark_dir}/metastore_db")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
        .config("spark.sql.session.timeZone", "UTC")
        .enableHiveSupport()
        .getOrCreate()
    )
    try:
        found = {key: [tuple(row) for row in spark.sql(sql).collect()] for key, sql in selects.items()}
        return found, payment_files_on_spark(spark_dir.parent)
    finally:
        spark.stop()


def payment_files_on_spark(root: Path) -> dict[str, str]:
    """May's autopay file and partner payout files written from the Spark tables (in this process's
    session), with the audit events in root's warehouse."""
    from callbill.outputs.exports import write_autopay_file_on_spark, write_payout_files_on_spark
    from callbill.warehouse import environment_variables

    exports = root / "exports"
    with environment_variables(
        {"CALLBILL_WAREHOUSE": str(root / "warehouse" / "callbill.duckdb"), "CALLBILL_EXPORTS": str(exports)}
    ):
        write_autopay_file_on_spark("2026-05")
        write_payout_files_on_spark("2026-05")
        write_payout_files_on_spark("2026-05")  # run again: the same files, nothing paid twice
    return files_under(exports)


def files_under(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*.csv"))}


def test_the_closes_ran_on_the_standalone_cluster(both_engines, spark_cluster):
    """Each `callbill --engine spark close` was an application of the cluster's master, run by its worker."""
    status = spark_cluster.status()
    assert status["status"] == "ALIVE" and status["aliveworkers"] == 1
    finished_apps = [app for app in status["completedapps"] if app["state"] == "FINISHED"]
    assert len(finished_apps) >= 3 and status["activeapps"] == []


def test_each_step_on_spark_did_what_the_billing_team_expects(both_engines):
    steps = both_engines["steps"]
    code, output = steps["land"]
    assert code == 0 and "raw.cdrs" in output and "raw.asterisk_cdrs" in output, output[-2000:]
    # April's close, launched through the webserver as the Launchpad launches it, ran on Spark.
    april = steps["close April from the UI"]
    assert april["run"]["status"] == "SUCCESS", april["step_errors"]
    # Every check passed but the warning DuckDB's close of April gives too: the calls of the
    # switch's unmapped key, unbilled.
    assert {check for check, passed in april["checks"].items() if not passed} == {"unbilled_calls_to_review"}
    assert sum(april["checks"].values()) >= 80
    assert "dbt build for invoice months 2026-04..2026-04 on spark" in april["messages"]
    assert "2026-04: published" in april["messages"]
    assert april["published months"] == [(APRIL,)]
    # The daemon's run-status sensor audited the UI's close (R-AUDIT-1).
    audited = april["audited"]
    assert (audited["started_by"], audited["months"], audited["published"]) == ("dagster", "2026-04", True)
    assert (audited["failed_checks"], audited["warned_checks"]) == ([], ["unbilled_calls_to_review"])
    # The cdrs/ feed delivered March's calls, none of April's: the usage-feed check blocks May.
    code, output = steps["close May, a feed stopped"]
    assert code == 1, output[-3000:]
    assert "close 2026-05 failed, nothing published: usage_feeds_complete" in output
    assert "usage feed cdrs/ (UTC) delivered calls through 2026-03-31, expected through 2026-04-30" in output
    # After the kill, both months closed again in one run (a backfill): April, published, is rebuilt,
    # compared and reproduced; May is published.
    code, output = steps["close April and May again"]
    assert code == 0, output[-3000:]
    assert "\n2026-04: already published, reproduced unchanged; 2026-05: published\n" in output
    code, output = steps["status"]
    assert code == 0, output[-3000:]
    assert "\n  2026-05       11       4,529.91         11         4,529.91  " in output
    assert "\npublished calls: 2 month(s) checked, each as published\n" in output
    # The driver JVM's own output (one start per command) is in its log, not over the commands'.
    for step in ("close May, a feed stopped", "close April and May again", "status"):
        assert "log4j" not in steps[step][1] and "jdk.incubator" not in steps[step][1], steps[step][1][-3000:]
    driver_log, driver_output = steps["driver log"]
    assert driver_output.count("Using Spark's default log4j profile") >= 4
    assert f"\nspark driver log   {driver_log}\n" in steps["close April and May again"][1]


def test_a_close_killed_midway_on_spark_left_nothing_of_its_month_visible(both_engines):
    """The kill came with May's invoices written to their partition and no invoice_months row: the
    published views showed April only; the close after it published May equal to DuckDB's (below)."""
    killed = both_engines["killed"]
    assert killed["written_invoices"] == len(both_engines["duckdb"][("fct_invoices", MAY)]) > 0
    assert killed["published_months"] == [(APRIL,)]
    assert len(both_engines["spark"][("published.invoices", MAY)]) == killed["written_invoices"]


@pytest.mark.parametrize("month", [APRIL, MAY])
def test_every_invoice_is_identical_on_both_engines(both_engines, month):
    duckdb_invoices = both_engines["duckdb"][("fct_invoices", month)]
    spark_invoices = both_engines["spark"][("fct_invoices", month)]
    assert len(duckdb_invoices) >= 10
    assert spark_invoices == duckdb_invoices
    total = sum(row[7] for row in duckdb_invoices)  # column 7: total
    assert isinstance(total, Decimal) and total > 0
    assert total == sum(row[7] for row in spark_invoices)
    assert {row[8] for row in spark_invoices} == {"published"}  # column 8: status


@pytest.mark.parametrize("month", [APRIL, MAY])
@pytest.mark.parametrize("table", PUBLISHED)
def test_every_published_invoice_and_line_is_identical_on_both_engines(both_engines, table, month):
    duckdb_rows = both_engines["duckdb"][(f"published.{table}", month)]
    assert len(duckdb_rows) >= 10
    assert both_engines["spark"][(f"published.{table}", month)] == duckdb_rows


@pytest.mark.parametrize("month", [APRIL, MAY])
def test_every_invoice_line_is_identical_on_both_engines(both_engines, month):
    duckdb_lines = both_engines["duckdb"][("fct_invoice_lines", month)]
    spark_lines = both_engines["spark"][("fct_invoice_lines", month)]
    assert len(duckdb_lines) >= 100
    # Identical row by row: amounts to the cent, descriptions, service periods, item ids.
    assert spark_lines == duckdb_lines
    line_types = {row[4] for row in duckdb_lines}
    assert {"service_fee", "included_minutes", "international_minutes", "usf", "tax"} <= line_types


@pytest.mark.parametrize("table", LEDGERS)
def test_payments_receivables_and_commissions_are_identical_on_both_engines(both_engines, table):
    duckdb_rows, spark_rows = (both_engines[engine][(table, LEDGER)] for engine in ("duckdb", "spark"))
    assert duckdb_rows, table
    assert spark_rows == duckdb_rows


@pytest.mark.parametrize("month", [APRIL, MAY])
def test_every_rated_call_is_identical_on_both_engines_switch_calls_included(both_engines, month):
    """Switch records are normalised on Spark by the same models (local time to UTC, E.164, tenants)."""
    duckdb_calls = both_engines["duckdb"][("fct_rated_calls", month)]
    spark_calls = both_engines["spark"][("fct_rated_calls", month)]
    assert spark_calls == duckdb_calls
    assert sum(1 for row in duckdb_calls if row[0].startswith("pbx1:")) > 100


def test_the_payment_files_written_on_spark_are_the_duckdb_ones_byte_for_byte(both_engines):
    """May's autopay charges (R-CAL-5) and partner payouts (R-COMM-1); the payout run twice on Spark
    paid each commission once."""
    duckdb_files, spark_files = both_engines["files"]["duckdb"], both_engines["files"]["spark"]
    assert "autopay/autopay_2026-05.csv" in duckdb_files
    assert sum(name.startswith("payouts/2026-05/payout_2026-05_") for name in duckdb_files) >= 1
    assert spark_files == duckdb_files
    assert both_engines["payout ledger"]["spark"] == both_engines["payout ledger"]["duckdb"]
    assert len(both_engines["payout ledger"]["duckdb"]) >= 1
