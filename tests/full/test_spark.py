"""The same dbt project on Spark (dbt-spark, in-process local Spark) gives the same invoices as on
DuckDB, to the cent: `make test-spark`.

One generated landing folder (two months of calls and payments; half the accounts' calls as an
Asterisk switch writes them) is landed and April is closed and
published on DuckDB. The checked sources, published April included, go to Spark as Parquet
(`callbill spark land`); Spark builds April, then May (the second build takes the incremental
path: May's partitions are written, April's kept); DuckDB builds May's drafts (`callbill close
--no-publish`). Every column of every invoice and invoice line must be equal: May's account
credits from April's payments, late calls and corrections read the published month on both engines.
"""

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import query, run

from callbill.spark_cluster import Cluster, standalone_cluster

pytestmark = pytest.mark.spark

APRIL, MAY = "2026-04-01", "2026-05-01"
COMPARED = {"fct_invoices": "invoice_id", "fct_invoice_lines": "invoice_line_id", "fct_rated_calls": "call_id"}
LEDGER = "every published invoice"
LEDGERS = ("fct_payments", "fct_receivables", "fct_commissions")
# April is published on DuckDB and a draft on Spark: the publication columns differ by design.
PUBLICATION_COLUMNS = {"status", "published_at"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A standalone cluster, a master and a worker JVM, that every dbt build on Spark here runs on."""
    with standalone_cluster(tmp_path_factory.mktemp("cluster")) as started:
        saved = os.environ.get("CALLBILL_SPARK_MASTER")
        os.environ["CALLBILL_SPARK_MASTER"] = started.master_url
        try:
            yield started
        finally:
            os.environ.pop("CALLBILL_SPARK_MASTER")
            if saved is not None:
                os.environ["CALLBILL_SPARK_MASTER"] = saved


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory: pytest.TempPathFactory, cluster: Cluster) -> dict[str, object]:
    from helpers import warehouse_at

    from callbill.generate import generate_landing

    root = tmp_path_factory.mktemp("spark")
    os.environ["CALLBILL_SPARK_DIR"] = str(root / "spark")
    os.environ["CALLBILL_SPARK_SMALL"] = "1"
    with warehouse_at(root):
        landing = root / "landing"
        # Half the accounts' calls come from an Asterisk switch's own files (R-CDR), one key unmapped.
        generate_landing(
            landing, accounts=12, start_month="2026-03", months=2, calls_per_account_month=150, seed=7,
            platform="asterisk", platform_accounts=6,
        )  # fmt: skip
        run("land", str(landing))
        run("close", "2026-04")
        spark_land = run("spark", "land", str(landing))
        spark_builds = [run("spark", "build", month).output for month in ("2026-04", "2026-05")]
        run("close", "2026-05", "--no-publish")
        warehouse = root / "warehouse" / "callbill.duckdb"
        selects = {
            (table, month): select_month(table, compared_columns(warehouse, table, month), month)
            for table in COMPARED
            for month in (APRIL, MAY)
        }
        # The ledgers over every published invoice (April, published on DuckDB and given to Spark).
        selects |= {(table, LEDGER): select_ledger(table, compared_columns(warehouse, table, MAY)) for table in LEDGERS}
        duckdb_rows = {key: query(warehouse, sql) for key, sql in selects.items()}
        spark_rows = spark_tables(root / "spark", selects)
    return {"duckdb": duckdb_rows, "spark": spark_rows, "land": spark_land.output, "builds": spark_builds}


def compared_columns(warehouse: Path, table: str, month: str) -> list[str]:
    rows = query(
        warehouse,
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? "
        "order by ordinal_position",
        [table],
    )
    return [name for (name,) in rows if month == MAY or name not in PUBLICATION_COLUMNS]


def select_ledger(table: str, columns: list[str]) -> str:
    ordinals = ", ".join(str(position) for position in range(1, len(columns) + 1))
    return f"select {', '.join(columns)} from marts.{table} order by {ordinals}"


def select_month(table: str, columns: list[str], month: str) -> str:
    return (
        f"select {', '.join(columns)} from marts.{table} where invoice_date = date '{month}' order by {COMPARED[table]}"
    )


def spark_tables(spark_dir: Path, selects: dict[tuple[str, str], str]) -> dict[tuple[str, str], list[tuple]]:
    """The same selects on the tables Spark built, read through Spark's own metastore."""
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
        return {key: [tuple(row) for row in spark.sql(sql).collect()] for key, sql in selects.items()}
    finally:
        spark.stop()


def test_the_builds_ran_on_the_standalone_cluster(both_engines, cluster):
    """Each `callbill spark build` was an application of the cluster's master, run by its worker."""
    status = cluster.status()
    assert status["status"] == "ALIVE" and status["aliveworkers"] == 1
    finished = [app for app in status["completedapps"] if app["state"] == "FINISHED"]
    assert len(finished) >= 2 and status["activeapps"] == []


def test_spark_builds_every_model_seed_and_data_test(both_engines):
    assert "raw.cdrs" in both_engines["land"] and "published.invoices" in both_engines["land"]
    assert "raw.asterisk_cdrs" in both_engines["land"] and "raw.switch_tenants" in both_engines["land"]
    for output in both_engines["builds"]:
        assert "ERROR=0" in output and "SKIP=0" in output


@pytest.mark.parametrize("month", [APRIL, MAY])
def test_every_invoice_is_identical_on_both_engines(both_engines, month):
    duckdb_invoices = both_engines["duckdb"][("fct_invoices", month)]
    spark_invoices = both_engines["spark"][("fct_invoices", month)]
    assert len(duckdb_invoices) >= 10
    assert spark_invoices == duckdb_invoices
    total = sum(row[7] for row in duckdb_invoices)  # column 7: total
    assert isinstance(total, Decimal) and total > 0
    assert total == sum(row[7] for row in spark_invoices)


@pytest.mark.parametrize("month", [APRIL, MAY])
def test_every_invoice_line_is_identical_on_both_engines(both_engines, month):
    duckdb_lines = both_engines["duckdb"][("fct_invoice_lines", month)]
    spark_lines = both_engines["spark"][("fct_invoice_lines", month)]
    assert len(duckdb_lines) >= 100
    # Identical row by row: amounts to the cent, descriptions, service periods, item ids.
    assert spark_lines == duckdb_lines
    line_types = {row[4] for row in duckdb_lines}
    assert {"service_fee", "included_minutes", "international_minutes", "usf", "tax"} <= line_types


def test_great_expectations_imports_beside_the_spark_extra_in_a_process_with_no_main_file():
    """A run launched from the UI or a schedule is a process whose __main__ has no file; there
    pyspark.sql.connect, which GX probes at import, ended the process with status 0 while its
    dependencies were missing (issue #25.1)."""
    import subprocess
    import sys

    probe = "import great_expectations, pyspark; print('imported', great_expectations.__version__, pyspark.__version__)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.split()[:2]) == (0, ["imported", "1.24.1"]), done.stderr[-2000:]


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


def unbilled_calls_on_spark(spark_dir: Path) -> list[tuple[str, str]]:
    """fct_unbilled_calls as Spark wrote it (Parquet, a folder per invoice_date partition)."""
    import duckdb

    files = sorted(str(p) for p in (spark_dir / "tables").rglob("*.parquet") if "fct_unbilled_calls" in str(p))
    if not files:
        return []
    with duckdb.connect() as con:
        return con.execute(
            "select call_id, cast(invoice_date as varchar) from read_parquet($files, hive_partitioning = true) "
            "order by call_id",
            {"files": files},
        ).fetchall()


def test_a_review_list_that_becomes_empty_is_empty_on_spark_too(tmp_path, monkeypatch, cluster):
    """insert_overwrite replaces only the partitions its rows fall in: May's list of unbilled calls,
    emptied by a later landing, kept its old call on Spark until the build dropped May's partition."""
    from helpers import FIXTURES, warehouse_at

    monkeypatch.setenv("CALLBILL_SPARK_DIR", str(tmp_path / "spark"))
    monkeypatch.setenv("CALLBILL_SPARK_SMALL", "1")
    with warehouse_at(tmp_path):
        run("spark", "land", str(FIXTURES / "landing_small"))
        run("spark", "build", "2026-05")
        # C6 (5 April) is before ACC-2's billing start: two free months from 10 February (R-START-2).
        assert unbilled_calls_on_spark(tmp_path / "spark") == [("C6", MAY)]

        amended = tmp_path / "amended" / "accounts"
        amended.mkdir(parents=True)
        header, *rows = (FIXTURES / "landing_small" / "accounts" / "a.csv").read_text().splitlines()
        (acc2,) = [row for row in rows if row.startswith("ACC-2,")]
        fields = acc2.split(",")
        fields[9], fields[-1] = "0", "2026-05-02T00:00:00Z"  # no free months after all
        (amended / "acc2.csv").write_text(f"{header}\n{','.join(fields)}\n")
        run("spark", "land", str(tmp_path / "amended"))
        build = run("spark", "build", "2026-05").output

    assert "ERROR=0" in build
    assert unbilled_calls_on_spark(tmp_path / "spark") == []
