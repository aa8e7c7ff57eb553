"""The same dbt project on Spark (dbt-spark, in-process local Spark) gives the same invoices as on
DuckDB, to the cent: `make test-spark`.

One generated landing folder (two months of calls and payments) is landed and April is closed and
published on DuckDB. The checked sources, published April included, go to Spark as Parquet
(`callbill spark land`), Spark builds May's drafts (`callbill spark build`), DuckDB builds May's
drafts (`callbill close --no-publish`), and every column of every May invoice and invoice line must
be equal: account credits from April's payments, late calls and corrections read the published
month on both engines.
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from cli_helpers import query, run

pytestmark = pytest.mark.spark

MAY = "2026-05-01"
COMPARED = {"fct_invoices": "invoice_id", "fct_invoice_lines": "invoice_line_id"}


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from conftest import warehouse_at

    from orchestration.generate import generate_landing

    root = tmp_path_factory.mktemp("spark")
    os.environ["CALLBILL_SPARK_DIR"] = str(root / "spark")
    os.environ["CALLBILL_SPARK_SMALL"] = "1"
    with warehouse_at(root):
        landing = root / "landing"
        generate_landing(landing, accounts=12, start_month="2026-03", months=2, calls_per_account_month=150, seed=7)
        run("land", str(landing))
        run("close", "2026-04")
        spark_land = run("spark", "land", str(landing))
        spark_build = run("spark", "build", "2026-05")
        run("close", "2026-05", "--no-publish")
        duckdb_rows = {
            table: query(root / "warehouse" / "callbill.duckdb", *select_may(table, columns_of(root, table)))
            for table in COMPARED
        }
        spark_rows = spark_tables(root / "spark", {table: columns_of(root, table) for table in COMPARED})
    return {"duckdb": duckdb_rows, "spark": spark_rows, "land": spark_land.output, "build": spark_build.output}


def columns_of(root: Path, table: str) -> list[str]:
    rows = query(
        root / "warehouse" / "callbill.duckdb",
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? "
        "order by ordinal_position",
        [table],
    )
    return [name for (name,) in rows]


def select_may(table: str, columns: list[str]) -> tuple[str, list]:
    key = COMPARED[table]
    return f"select {', '.join(columns)} from marts.{table} where invoice_date = ? order by {key}", [MAY]


def spark_tables(spark_dir: Path, tables: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """The tables Spark built, read through Spark's own metastore."""
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
        found = {}
        for table, columns in tables.items():
            sql, _ = select_may(table, columns)
            rows = spark.sql(sql.replace("?", f"date '{MAY}'")).collect()
            found[table] = [tuple(row) for row in rows]
        return found
    finally:
        spark.stop()


def test_spark_builds_every_model_seed_and_data_test(both_engines):
    assert "raw.cdrs" in both_engines["land"] and "published.invoices" in both_engines["land"]
    assert "ERROR=0" in both_engines["build"] and "SKIP=0" in both_engines["build"]


def test_every_may_invoice_is_identical_on_both_engines(both_engines):
    duckdb_invoices, spark_invoices = both_engines["duckdb"]["fct_invoices"], both_engines["spark"]["fct_invoices"]
    assert len(duckdb_invoices) >= 10
    assert spark_invoices == duckdb_invoices
    total = sum(row[7] for row in duckdb_invoices)  # column 7: total
    assert isinstance(total, Decimal) and total == sum(row[7] for row in spark_invoices) and total > 0


def test_every_may_invoice_line_is_identical_on_both_engines(both_engines):
    duckdb_lines, spark_lines = both_engines["duckdb"]["fct_invoice_lines"], both_engines["spark"]["fct_invoice_lines"]
    assert len(duckdb_lines) >= 100
    # Identical row by row: amounts to the cent, descriptions, service periods, item ids.
    assert spark_lines == duckdb_lines
    line_types = {row[4] for row in duckdb_lines}
    assert {"service_fee", "prorated_charges", "included_minutes", "international_minutes", "usf", "tax"} <= line_types
