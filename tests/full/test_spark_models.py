"""The dbt models on Spark, a step at a time: a review list that becomes empty (`callbill spark
build` on the standalone cluster), Great Expectations on a Spark DataFrame, GX beside the Spark
extra in a process with no main file, and a driver whose JVM does not start. `make test-spark`; CI
runs those that start no cluster. The whole close is tests/full/test_spark.py."""

from pathlib import Path

import pytest
from helpers import run

pytestmark = pytest.mark.spark

MAY = "2026-05-01"


def test_great_expectations_imports_beside_the_spark_extra_in_a_process_with_no_main_file():
    """A run launched from the UI or a schedule is a process whose __main__ has no file; there
    pyspark.sql.connect, which GX probes at import, ended the process with status 0 while its
    dependencies were missing (issue #25.1)."""
    import subprocess
    import sys

    probe = "import great_expectations, pyspark; print('imported', great_expectations.__version__, pyspark.__version__)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.split()[:2]) == (0, ["imported", "1.24.1"]), done.stderr[-2000:]


def test_a_failing_expectation_on_spark_names_the_rows_pandas_names():
    """GX's Spark datasource finds the same failures, with the same first rows, as its pandas one."""
    import pandas as pd
    from pyspark.sql import SparkSession

    from callbill.quality.suites import SUITES_DIR, load_suite, validate

    suite = load_suite(SUITES_DIR / "invoices_balance.json")
    balanced = {"total_cents": 1000, "line_sum_cents": 1000, "subtotal_plus_tax_cents": 1000}
    rows = pd.DataFrame(
        [
            {"invoice_id": "INV-1", **balanced, "subtotal_before_adjustments_cents": 900, "usf_cents": 81,
             "usf_cap_cents": 82},
            {"invoice_id": "INV-2", **balanced, "line_sum_cents": 999, "subtotal_before_adjustments_cents": 900,
             "usf_cents": 81, "usf_cap_cents": 80},
        ]
    )  # fmt: skip
    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    try:
        on_spark = validate(suite, spark.createDataFrame(rows))
    finally:
        spark.stop()
    on_pandas = validate(suite, rows)
    assert [(f["check"], f["failing_rows"]) for f in on_spark] == [(f["check"], f["failing_rows"]) for f in on_pandas]
    assert len(on_spark) == 2
    assert {row["invoice_id"] for f in on_spark for row in f["first_failing_rows"]} == {"INV-2"}
    assert on_spark[0]["first_failing_rows"] == on_pandas[0]["first_failing_rows"]


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


@pytest.mark.spark_cluster
def test_a_review_list_that_becomes_empty_is_empty_on_spark_too(tmp_path, monkeypatch, spark_cluster):
    """insert_overwrite replaces only the partitions its rows fall in: May's list of unbilled calls,
    emptied by a later landing, kept its old call on Spark until the build dropped May's partition."""
    from helpers import FIXTURES, warehouse_at

    monkeypatch.setenv("CALLBILL_SPARK_DIR", str(tmp_path / "spark"))
    monkeypatch.setenv("CALLBILL_SPARK_SMALL", "1")
    with warehouse_at(tmp_path):
        run("spark", "land", str(FIXTURES / "landing_small"))
        run("spark", "build", "2026-05", "--select", "+fct_unbilled_calls")
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
        build = run("spark", "build", "2026-05", "--select", "+fct_unbilled_calls").output

    assert "ERROR=0" in build
    assert unbilled_calls_on_spark(tmp_path / "spark") == []


def test_a_spark_driver_that_does_not_start_is_one_line_quoting_its_own_output(tmp_path):
    """Java missing: `callbill --engine spark status` says why in one line, from the driver's log,
    where the driver's own output goes instead of over the command's."""
    import os
    import subprocess
    import sys

    from helpers import FIXTURES, warehouse_at

    with warehouse_at(tmp_path):
        run("land", str(FIXTURES / "landing_small"))
    env = {
        **os.environ,
        "CALLBILL_WAREHOUSE": str(tmp_path / "warehouse" / "callbill.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "CALLBILL_SPARK_DIR": str(tmp_path / "spark"),
        "JAVA_HOME": str(tmp_path / "no_java"),
    }
    callbill = str(Path(sys.executable).parent / "callbill")
    done = subprocess.run(
        [callbill, "--engine", "spark", "status"], env=env, capture_output=True, text=True, timeout=300
    )
    driver_log = tmp_path / "spark" / "logs" / "spark-driver.log"
    reason = f"{tmp_path}/no_java/bin/java: No such file or directory"
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("callbill: the Spark driver did not start: ")
    assert reason in line and reason in driver_log.read_text()
    assert line.endswith(f"(its output: {driver_log})")
