"""The close on Spark (`callbill --engine spark close`, docs/spark.md): the session the close's
steps share with its dbt builds, publication, the published calls' fingerprints and the month's
summary.

A month is published by one row: its invoices and lines are written to the `*_written` tables (a
partition per invoice month, overwritten whole if a killed close left one there), then its
published.invoice_months row is appended. published.invoices, published.invoice_lines and
published.rated_calls are views that show only months with that row (macros/spark_published.sql),
so a close killed midway leaves nothing of its month visible (R-INV-1, R-INV-2).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callbill.project import REPO_ROOT
from callbill.republication import COMPARED_INVOICE_COLUMNS, COMPARED_LINE_COLUMNS, drafts_differing_sql

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# One thread starts the driver while this process's standard error points at its log.
DRIVER_START = threading.Lock()
# How the fingerprint of a month's calls was hashed on Spark (DuckDB records its own version).
HASHED_BY = "spark xxhash64"
# What Spark writes ahead of the partition column (invoice_date), in the published tables' order.
INVOICE_COLUMNS = COMPARED_INVOICE_COLUMNS
LINE_COLUMNS = COMPARED_LINE_COLUMNS


@functools.cache
def profile_parameters() -> dict[str, str]:
    """The spark target's session settings (profiles/profiles.yml), rendered as dbt renders them."""
    from argparse import Namespace

    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_invocation_context(os.environ)
    set_from_args(Namespace(), None)
    raw = read_profile(str(REPO_ROOT / "profiles"))
    profile = Profile.from_raw_profiles(raw, "callbill", ProfileRenderer({}), target_override="spark")
    return dict(profile.credentials.server_side_parameters)


def session() -> SparkSession:
    """This process's Spark session with the spark target's settings: dbt-spark (session method)
    builds in the same session, so the close's steps and its dbt builds see the same tables."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from callbill.spark import SparkError

        raise SparkError("pyspark is not installed in this environment: run `make spark-install`") from None
    from pyspark import SparkContext

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in profile_parameters().items():
        builder = builder.config(key, value)
    with DRIVER_START:
        # pyspark launches the driver JVM when it has no gateway to one yet.
        spark = start_driver(builder) if SparkContext._gateway is None else builder.getOrCreate()
    # Spark's warnings (each of dbt-spark's queries asks for the session again) are not the close's.
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def driver_log() -> Path:
    """Where the Spark driver's JVM writes its own output (its start-up notices, log4j's lines)."""
    from callbill.spark import spark_dir

    return spark_dir() / "logs" / "spark-driver.log"


def start_driver(builder: SparkSession.Builder) -> SparkSession:
    """The session, its driver JVM started with its output in driver_log(): the JVM inherits this
    process's standard error, which is the close's (the CLI's summary, the UI's run log), and writes
    there for as long as it runs. A JVM that exits at once is an error quoting what it wrote."""
    from callbill.spark import SparkError

    log = driver_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        output.write(f"--- {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %z} pid {os.getpid()}\n".encode())
        output.flush()
        start = output.tell()
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(output.fileno(), 2)
    try:
        return builder.getOrCreate()
    except Exception as exc:
        if getattr(exc, "getCondition", lambda: None)() != "JAVA_GATEWAY_EXITED":
            raise
        with log.open("rb") as output:
            output.seek(start)
            said = [line[:300] for line in output.read().decode(errors="replace").splitlines() if line.strip()]
        raise SparkError(f"the Spark driver did not start: {'; '.join(said[-2:]) or exc} (its output: {log})") from exc
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def rows(spark: SparkSession, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in spark.sql(sql).collect()]


def table_exists(spark: SparkSession, schema: str, table: str) -> bool:
    return spark.catalog.tableExists(f"{schema}.{table}")


def day(value: date | str) -> str:
    """A date literal of Spark SQL."""
    return f"date '{date.fromisoformat(str(value)).isoformat()}'"


def fingerprint_sql(which_months: str) -> str:
    """Per invoice_date of published.rated_calls matching which_months: count, total cost and an
    order-free hash over each call's id and cost."""
    return f"""
        select invoice_date, count(*) as rated_calls, coalesce(sum(total_cost), 0) as rated_calls_cost,
            coalesce(bit_xor(xxhash64(call_id, total_cost)), 0) as rated_calls_fingerprint
        from published.rated_calls
        where {which_months}
        group by invoice_date
    """


def changed_months(spark: SparkSession) -> list[tuple[str, int, Decimal, int, Decimal]]:
    """Published months whose calls differ from their fingerprint: (month, calls and cost when
    published, calls and cost now), oldest first."""
    return rows(
        spark,
        f"""
        with now as ({fingerprint_sql("true")})
        select date_format(months.invoice_date, 'yyyy-MM'), months.rated_calls, months.rated_calls_cost,
            coalesce(now.rated_calls, 0), coalesce(now.rated_calls_cost, 0)
        from published.invoice_months as months
        left join now on months.invoice_date = now.invoice_date
        where months.rated_calls <> coalesce(now.rated_calls, 0)
            or months.rated_calls_cost <> coalesce(now.rated_calls_cost, 0)
            or (months.rated_calls_hashed_by = '{HASHED_BY}'
                and months.rated_calls_fingerprint <> coalesce(now.rated_calls_fingerprint, 0))
        order by months.invoice_date
        """,
    )


def drafts_differing_from_published(spark: SparkSession, invoice_date: str) -> tuple[int, str | None]:
    return rows(spark, drafts_differing_sql(day(invoice_date)))[0]


def invoice_total_and_lines(spark: SparkSession, invoices: str, lines: str, invoice_id: str) -> tuple[Any, ...]:
    """One invoice's total in the invoices table and its number of lines in the lines table."""
    quoted = invoice_id.replace("'", "\\'")
    return rows(
        spark,
        f"select (select total from {invoices} where invoice_id = '{quoted}'), "
        f"(select count(*) from {lines} where invoice_id = '{quoted}')",
    )[0]


def is_published(spark: SparkSession, invoice_date: str) -> bool:
    found = rows(spark, f"select count(*) from published.invoice_months where invoice_date = {day(invoice_date)}")
    return found[0][0] > 0


def write_month(spark: SparkSession, invoice_date: str, published_at: datetime) -> None:
    """The month's invoices and lines into their published partitions, replacing what a killed close
    may have left there; nothing of them is visible until the month's invoice_months row exists."""
    d, at = day(invoice_date), f"timestamp '{published_at.isoformat(sep=' ')}'"
    spark.sql(
        f"insert overwrite table published.invoices_written partition (invoice_date = {d}) "
        f"select {INVOICE_COLUMNS}, 'published', {at}, account_name, tax_exempt_certificate_id "
        f"from marts.fct_invoices where invoice_date = {d}"
    )
    spark.sql(
        f"insert overwrite table published.invoice_lines_written partition (invoice_date = {d}) "
        f"select {LINE_COLUMNS} from marts.fct_invoice_lines where invoice_date = {d}"
    )


def calls_published_before(spark: SparkSession, invoice_date: str) -> tuple[str | None, int]:
    """The month's rated calls that an earlier month already published (a call is published once)."""
    d = day(invoice_date)
    return rows(
        spark,
        f"select min(call_id), count(*) from marts.fct_rated_calls where invoice_date = {d} "
        f"and call_id in (select call_id from published.rated_calls)",
    )[0]


def commit_month(spark: SparkSession, invoice_date: str, published_at: datetime) -> dict[str, Any]:
    """Publish the written month: its invoice_months row, with its totals and its calls' fingerprint."""
    d, at = day(invoice_date), f"timestamp '{published_at.isoformat(sep=' ')}'"
    spark.sql(
        f"""
        insert into published.invoice_months
        select {d}, {at},
            (select max(calls_landed_through) from intermediate.int_calls_landed_through),
            (select count(*) from published.invoices_written where invoice_date = {d}),
            (select coalesce(sum(total), 0) from published.invoices_written where invoice_date = {d}),
            coalesce(calls.rated_calls, 0), coalesce(calls.rated_calls_cost, 0),
            coalesce(calls.rated_calls_fingerprint, 0), '{HASHED_BY}'
        from (select 1) as one
        left join (
            select count(*) as rated_calls, coalesce(sum(total_cost), 0) as rated_calls_cost,
                coalesce(bit_xor(xxhash64(call_id, total_cost)), 0) as rated_calls_fingerprint
            from marts.fct_rated_calls where invoice_date = {d}
        ) as calls on true
        """
    )
    invoices, total, calls, lines, usf = rows(
        spark,
        f"""select invoices, total, rated_calls,
            (select count(*) from published.invoice_lines where invoice_date = {d}),
            (select coalesce(sum(amount), 0) from published.invoice_lines
             where invoice_date = {d} and line_type = 'usf')
        from published.invoice_months where invoice_date = {d}""",
    )[0]
    return {"invoices": invoices, "lines": lines, "calls": calls, "months": 1, "total": str(total), "usf": str(usf)}


def mark_drafts_published(spark: SparkSession, invoice_date: str, published_at: datetime) -> None:
    """marts.fct_invoices says the month is published, as on DuckDB: its partition rewritten with
    the status (Parquet has no UPDATE; the rows are read before the partition is replaced)."""
    from pyspark.sql import functions as F

    table = spark.table("marts.fct_invoices")
    month = (
        table.where(F.col("invoice_date") == F.lit(date.fromisoformat(invoice_date)))
        .withColumn("status", F.lit("published"))
        .withColumn("published_at", F.lit(published_at).cast("timestamp"))
        .localCheckpoint()
    )
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    month.select(*table.columns).write.insertInto("marts.fct_invoices", overwrite=True)


def adjustments_of(spark: SparkSession, invoice_date: str) -> list[tuple[str, str, str, Decimal]]:
    return rows(
        spark,
        "select invoice_id, line_key, description, amount from published.invoice_lines "
        f"where invoice_date = {day(invoice_date)} and line_type = 'adjustment' order by invoice_id, line_key",
    )


def invoice_months(spark: SparkSession) -> list[tuple[Any, ...]]:
    """`callbill status`'s invoice months from the Spark tables: month, drafts, draft total,
    published invoices, published total, published at."""
    if not table_exists(spark, "published", "invoice_months"):
        return []
    from callbill.status import invoice_months_sql

    drafted = table_exists(spark, "marts", "fct_invoices")
    return rows(spark, invoice_months_sql("date_format(invoice_date, 'yyyy-MM')", drafted))


def month_summary(spark: SparkSession, start: str, end: str) -> dict[str, object]:
    """What `callbill close` prints, from the Spark tables (callbill/close.py summary_of_months)."""
    from callbill.close import summary_of_months

    return summary_of_months(
        lambda sql: rows(spark, sql), lambda schema, table: table_exists(spark, schema, table), start, end
    )
